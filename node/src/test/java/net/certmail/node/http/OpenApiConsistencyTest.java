package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.tags.Tag;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.ReasonCode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document as a client generator and a reader use it, without a node: what Spectral's
 * {@code spectral:oas} ruleset asks of every operation (operationId, declared tags, description),
 * plus examples and the error reason codes the server really answers. (That the document and the
 * routes agree is HttpApiTest's openApiDescribesExactlyTheRoutesTheServerHas, against a node.)
 */
class OpenApiConsistencyTest {
  static String yaml;
  static OpenAPI api;

  @BeforeAll
  static void parse() throws Exception {
    try (InputStream in = HttpApi.class.getResourceAsStream("openapi.yaml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    options.setResolveFully(true);
    SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(yaml, null, options);
    assertTrue(parsed.getMessages() == null || parsed.getMessages().isEmpty(), String.valueOf(parsed.getMessages()));
    api = parsed.getOpenAPI();
  }

  @Test
  void everyOperationHasAUniqueOperationIdDeclaredTagsASummaryAndADescription() {
    Set<String> declared = new HashSet<>();
    for (Tag tag : api.getTags()) {
      assertTrue(tag.getDescription() != null && !tag.getDescription().isBlank(), "tag " + tag.getName());
      declared.add(tag.getName());
    }
    Set<String> ids = new HashSet<>();
    Set<String> used = new HashSet<>();
    operations().forEach((route, operation) -> {
      assertTrue(operation.getOperationId() != null && operation.getOperationId().matches("[a-z][A-Za-z]+"),
          route + ": operationId " + operation.getOperationId());
      assertTrue(ids.add(operation.getOperationId()), route + ": operationId used twice");
      assertTrue(operation.getTags() != null && !operation.getTags().isEmpty(), route + ": no tags");
      assertTrue(declared.containsAll(operation.getTags()), route + ": undeclared tag in " + operation.getTags());
      used.addAll(operation.getTags());
      assertTrue(operation.getSummary() != null && !operation.getSummary().isBlank(), route + ": no summary");
      assertTrue(operation.getDescription() != null && !operation.getDescription().isBlank(), route + ": no description");
    });
    assertEquals(declared, used, "a declared tag no operation uses");
    assertTrue(api.getInfo().getContact() != null && api.getInfo().getDescription() != null);
  }

  @Test
  void everyOperationShowsAnExampleOfItsSuccessAndOfItsRequestBody() {
    operations().forEach((route, operation) -> {
      boolean exampled = operation.getResponses().entrySet().stream()
          .filter(response -> response.getKey().startsWith("2"))
          .anyMatch(response -> hasExample(response.getValue()));
      assertTrue(exampled, route + ": no example of its success answer (body or header)");
      if (operation.getRequestBody() != null) {
        operation.getRequestBody().getContent().forEach((type, media) ->
            assertTrue(media.getExample() != null || media.getExamples() != null, route + ": request " + type));
      }
    });
  }

  @Test
  void everyErrorIsDescribedWithAnExampleAndMailboxRoutesListTheirAuthErrors() {
    operations().forEach((route, operation) -> {
      operation.getResponses().forEach((code, response) -> {
        if (!code.startsWith("2")) {
          assertTrue(code.matches("[45]\\d\\d"), route + ": response " + code);
          assertTrue(hasExample(response), route + " " + code + ": an error without an example");
        }
      });
      if (route.contains("{mailbox}")) {
        assertTrue(operation.getResponses().keySet().containsAll(List.of("401", "403", "404", "429", "503")),
            route + " answers the errors of every mailbox route, yet lists only " + operation.getResponses().keySet());
      }
    });
  }

  /** A reason code the server answers with and the document never names is a surprise for clients. */
  @Test
  void everyReasonCodeTheServerAnswersIsNamedInTheDocument() throws Exception {
    Path sources = Path.of("src/main/java/net/certmail/node/http");
    assertTrue(Files.isDirectory(sources), "run from the node module: " + sources.toAbsolutePath());
    Pattern reasonCode = Pattern.compile(
        "(?:Json\\.error\\(StatusCodes\\.[A-Z_]+,|new BadRequest\\(|unauthorized\\()\\s*\"([A-Z_]+)\"");
    TreeSet<String> answered = new TreeSet<>();
    try (var files = Files.list(sources)) {
      for (Path source : files.filter(file -> file.toString().endsWith(".java")).toList()) {
        Matcher codes = reasonCode.matcher(Files.readString(source));
        while (codes.find()) {
          answered.add(codes.group(1));
        }
      }
    }
    assertTrue(answered.size() >= 15, "found only " + answered + " in " + sources);
    TreeSet<String> missing = new TreeSet<>();
    for (String code : answered) {
      if (!yaml.contains(code)) {
        missing.add(code);
      }
    }
    assertTrue(missing.isEmpty(), "openapi.yaml never names the reason codes " + missing);
  }

  /** A status's status and reason are enums of the protocol: the document lists exactly their values. */
  @Test
  void theStatusSchemaListsExactlyTheProtocolsStatusesAndReasons() {
    Schema<?> status = api.getComponents().getSchemas().get("Status");
    assertEquals(protocolNames(DeliveryStatus.values(), DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED),
        new TreeSet<>(enumOf(status, "status")));
    TreeSet<String> reasons = protocolNames(ReasonCode.values(), ReasonCode.REASON_UNSPECIFIED);
    reasons.add(""); // no reason: the mail went through, or has no verdict yet
    assertEquals(reasons, new TreeSet<>(enumOf(status, "reason")));
  }

  private static List<String> enumOf(Schema<?> schema, String property) {
    return ((Schema<?>) schema.getProperties().get(property)).getEnum().stream().map(String::valueOf).toList();
  }

  private static <E extends Enum<E>> TreeSet<String> protocolNames(E[] values, E unspecified) {
    TreeSet<String> names = new TreeSet<>();
    for (E value : values) {
      if (value != unspecified && !value.name().equals("UNRECOGNIZED")) {
        names.add(value.name());
      }
    }
    return names;
  }

  private static Map<String, Operation> operations() {
    Map<String, Operation> operations = new java.util.TreeMap<>();
    for (Map.Entry<String, PathItem> path : api.getPaths().entrySet()) {
      path.getValue().readOperationsMap().forEach((method, operation) ->
          operations.put(method + " " + path.getKey(), operation));
    }
    assertFalse(operations.isEmpty());
    return operations;
  }

  private static boolean hasExample(ApiResponse response) {
    if (response.getContent() != null) {
      for (MediaType media : response.getContent().values()) {
        if (media.getExample() != null || media.getExamples() != null) {
          return true;
        }
      }
    }
    if (response.getHeaders() != null) {
      for (Header header : response.getHeaders().values()) {
        if (header.getExample() != null) {
          return true;
        }
      }
    }
    return false;
  }
}
