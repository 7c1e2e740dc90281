package net.certmail.node.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web face of a node: static pages under {@code /ui/} (sign-in, outbox, inbox, and the
 * bundle verifier at {@code /ui/verify}) and Swagger UI over openapi.yaml at {@code /v1/docs}.
 * Every file comes from the classpath (this jar and the swagger-ui WebJar): nothing is fetched
 * from elsewhere at run time, and the pages talk only to this node's JSON API.
 *
 * <p>The pages hold no secrets of the node: a mailbox's token stays in the browser's session
 * storage and travels only in the Authorization header of API calls. {@code /ui/ca.pem} is the
 * network CA certificate this node trusts, which the verify page checks bundles against.
 *
 * <p>Every answer under /ui carries a strict Content-Security-Policy (scripts and styles from this
 * origin only, no inline code, no framing), so a mail's subject or body shown on a page cannot
 * run as code even if a page bug rendered it as HTML.
 */
public final class WebUi extends AllDirectives {
  /** The pages; each is an HTML file in {@link #ROOT}. */
  static final Map<String, String> PAGES = Map.of(
      "", "index.html",
      "outbox", "outbox.html",
      "inbox", "inbox.html",
      "verify", "verify.html");

  static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
      + " img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
  /** Swagger UI sets style attributes from its scripts, so its page allows inline styles (never inline scripts). */
  static final String DOCS_CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'"
      + " 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none';"
      + " frame-ancestors 'none'";

  private static final String ROOT = "net/certmail/node/ui/";
  /** Asset names: no directories, no dots but the extension's, so a path can never leave ROOT. */
  private static final Pattern ASSET = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}\\.(js|css|svg)");
  private static final ContentType JAVASCRIPT = MediaTypes.applicationWithOpenCharset("javascript")
      .toContentType(HttpCharsets.UTF_8);
  private static final ContentType CSS = MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8);
  private static final ContentType SVG = MediaTypes.IMAGE_SVG_XML.toContentType();
  private static final ContentType PEM = MediaTypes.applicationWithFixedCharset("x-pem-file", HttpCharsets.US_ASCII)
      .toContentType();

  private final byte[] caPem;
  private final String swaggerUiRoot;
  /** Files found, by path: only those, so that requests for names that do not exist cannot grow it. */
  private final Map<String, byte[]> cache = new ConcurrentHashMap<>();

  /** @param networkCa the CA this node trusts: the verify page checks bundles against it */
  public WebUi(X509Certificate networkCa) {
    this.caPem = pem(networkCa);
    this.swaggerUiRoot = "META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion() + "/";
  }

  /** /ui/... and /v1/docs; every other path is left to the API (rejected here without a rejection). */
  public Route routes() {
    return concat(
        pathPrefix("ui", () -> respondWithHeaders(securityHeaders(CONTENT_SECURITY_POLICY), () -> concat(
            pathEnd(() -> redirectToRoot()),
            get(() -> concat(
                pathSingleSlash(() -> page("")),
                path("ca.pem", () -> complete(HttpResponse.create().withEntity(HttpEntities.create(PEM, caPem)))),
                path(PathMatchers.segment("assets").slash(PathMatchers.segment()), this::asset),
                path(PathMatchers.segment(), name -> PAGES.containsKey(name) && !name.isEmpty()
                    ? page(name) : complete(errorPage(StatusCodes.NOT_FOUND, "No such page",
                        "There is no page /ui/" + name + " on this node.")))
            )),
            extractUnmatchedPath(rest -> get(() -> complete(errorPage(StatusCodes.NOT_FOUND, "No such page",
                "There is no page /ui" + rest + " on this node.")))),
            complete(errorPage(StatusCodes.METHOD_NOT_ALLOWED, "Only GET here",
                "The pages under /ui are read with GET; the mailbox's actions go to the API under /v1."))))),
        pathPrefix(PathMatchers.segment("v1").slash("docs"), () -> get(() -> respondWithHeaders(
            securityHeaders(DOCS_CONTENT_SECURITY_POLICY), () -> concat(
                pathEnd(() -> complete(resource(ROOT + "docs.html").map(this::html)
                    .orElseGet(() -> missing("docs.html")))),
                path(PathMatchers.segment(), this::docsAsset))))));
  }

  private Route redirectToRoot() {
    return complete(HttpResponse.create().withStatus(StatusCodes.MOVED_PERMANENTLY)
        .addHeader(Location.create("/ui/")));
  }

  private Route page(String name) {
    return complete(resource(ROOT + PAGES.get(name)).map(this::html).orElseGet(() -> missing(PAGES.get(name))));
  }

  private Route asset(String name) {
    if (!ASSET.matcher(name).matches()) {
      return complete(errorPage(StatusCodes.NOT_FOUND, "No such file", "There is no file " + name + " here."));
    }
    return complete(resource(ROOT + "assets/" + name)
        .map(bytes -> HttpResponse.create().withEntity(HttpEntities.create(contentTypeOf(name), bytes)))
        .orElseGet(() -> errorPage(StatusCodes.NOT_FOUND, "No such file", "There is no file " + name + " here.")));
  }

  /** Swagger UI's two files from its WebJar, and our initializer (no inline script under the CSP). */
  private Route docsAsset(String name) {
    Optional<byte[]> bytes = switch (name) {
      case "swagger-ui-bundle.js", "swagger-ui.css" -> resource(swaggerUiRoot + name);
      case "docs.js" -> resource(ROOT + "assets/docs.js");
      default -> Optional.empty();
    };
    return complete(bytes.map(found -> HttpResponse.create().withEntity(HttpEntities.create(contentTypeOf(name), found)))
        .orElseGet(() -> errorPage(StatusCodes.NOT_FOUND, "No such file", "/v1/docs serves swagger-ui-bundle.js,"
            + " swagger-ui.css and docs.js only.")));
  }

  private HttpResponse html(byte[] page) {
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, page))
        .addHeader(RawHeader.create("Cache-Control", "no-store"));
  }

  /** A file the jar should hold is not there: the build is broken, not the request. */
  private HttpResponse missing(String file) {
    return errorPage(StatusCodes.INTERNAL_SERVER_ERROR, "The web pages are missing",
        file + " is not in this node's jar: rebuild it with ./mvnw -pl node -am package");
  }

  /** An HTML error page in the pages' style (title and message are our own text, escaped anyway). */
  static HttpResponse errorPage(StatusCode status, String title, String message) {
    String page = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>%1$s — certmail</title><link rel="stylesheet" href="/ui/assets/app.css"></head>
        <body><header class="bar"><a class="brand" href="/ui/">certmail</a></header>
        <main><section class="panel error" role="alert"><h1>%1$s</h1><p>%2$s</p>
        <p><a href="/ui/">Sign in</a> · <a href="/ui/verify">Verify a bundle</a> · <a href="/v1/docs">API</a></p>
        </section></main></body></html>
        """.formatted(escape(title), escape(message));
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, page))
        .addHeader(RawHeader.create("Cache-Control", "no-store"));
  }

  static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  private static List<HttpHeader> securityHeaders(String policy) {
    return List.of(
        RawHeader.create("Content-Security-Policy", policy),
        RawHeader.create("X-Content-Type-Options", "nosniff"),
        RawHeader.create("Referrer-Policy", "no-referrer"),
        RawHeader.create("X-Frame-Options", "DENY"));
  }

  private static ContentType contentTypeOf(String name) {
    if (name.endsWith(".js")) {
      return JAVASCRIPT;
    }
    if (name.endsWith(".css")) {
      return CSS;
    }
    if (name.endsWith(".svg")) {
      return SVG;
    }
    return ContentTypes.APPLICATION_OCTET_STREAM;
  }

  /** Classpath files, read once (the jar does not change under us). */
  private Optional<byte[]> resource(String path) {
    byte[] cached = cache.get(path);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<byte[]> found = read(path);
    found.ifPresent(bytes -> cache.put(path, bytes));
    return found;
  }

  private static Optional<byte[]> read(String path) {
    try (InputStream in = WebUi.class.getClassLoader().getResourceAsStream(path)) {
      return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + path + " from the jar", e);
    }
  }

  private static String swaggerUiVersion() {
    Properties properties = new Properties();
    try (InputStream in = WebUi.class.getClassLoader()
        .getResourceAsStream("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
      if (in == null) {
        throw new IllegalStateException("the swagger-ui WebJar is not on the class path; rebuild with ./mvnw package");
      }
      properties.load(in);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the swagger-ui WebJar's version", e);
    }
    return properties.getProperty("version");
  }

  private static byte[] pem(X509Certificate certificate) {
    return net.certmail.crypto.Pem.certificate(certificate).getBytes(StandardCharsets.US_ASCII);
  }

}
