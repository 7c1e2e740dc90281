package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.certmail.crypto.BundleVerifier;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.crypto.NotABundleException;
import net.certmail.node.CertmailCli;
import net.certmail.proto.v1.EvidenceBundle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import picocli.CommandLine;

/**
 * The web pages in a real browser: headless Chromium (Debian's chromium and chromium-driver)
 * driven through Selenium against a real node. A mail goes from alice's outbox page to carol's
 * inbox page, she accepts it, alice's page shows it DELIVERED with every item verified in the
 * browser, the bundle she downloads verifies on the verify page exactly as certmail verify
 * prints it, and a changed byte is named there. Screenshots of the pages go to docs/ui/.
 *
 * <p>Without the browser these tests fail (never skip): scripts/test.sh installs it.
 */
class WebUiBrowserTest {
  static final Path CHROMIUM = Path.of(System.getProperty("certmail.chromium", "/usr/bin/chromium"));
  static final Path CHROMEDRIVER = Path.of(System.getProperty("certmail.chromedriver", "/usr/bin/chromedriver"));
  /** Where the screenshots go: the repository's docs/ui (the tests run in the node module). */
  static final Path SCREENSHOTS = Path.of("..", "docs", "ui");
  static final Duration PATIENCE = Duration.ofSeconds(60);

  @TempDir
  static Path dir;
  static TestNode network;
  static String base;
  static WebDriver browser;
  static Path downloads;
  static Path caPem;
  /** The bundle of a mail delivered on the pages, made by the first test that needs one. */
  static Path bundle;

  @BeforeAll
  static void start() throws Exception {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      fail("the browser tests need Chromium and its driver at " + CHROMIUM + " and " + CHROMEDRIVER
          + ": install them with 'apt-get install -y chromium chromium-driver' (as root; scripts/test.sh does it),"
          + " or point -Dcertmail.chromium and -Dcertmail.chromedriver at them");
    }
    // Carol's mailbox holds mails for its owner; she gets longer than the demo's 12 s to decide.
    network = TestNode.start(dir, "certmail.engine.delivery-timeout = 5m");
    base = network.endpoints.apiUri();
    caPem = network.keys.resolve("ca.pem");
    downloads = Files.createDirectories(dir.resolve("downloads"));
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")),
        "--window-size=1280,1000");
    options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
    options.setExperimentalOption("prefs", Map.of(
        "download.default_directory", downloads.toString(),
        "download.prompt_for_download", false));
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
    Files.createDirectories(SCREENSHOTS);
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (network != null) {
      network.close();
    }
  }

  @Test
  void mailSentOnAlicesPageAndAcceptedOnCarolsEndsDeliveredWithFourVerifiedItems() throws Exception {
    bundle = deliverOnThePages();
  }

  /** A bundle of a delivered mail, sent and accepted on the pages unless an earlier test did so. */
  private static Path deliveredBundle() throws Exception {
    if (bundle == null) {
      bundle = deliverOnThePages();
    }
    return bundle;
  }

  /**
   * Alice sends an NSR mail on her page, carol accepts it on hers, alice's page shows it DELIVERED
   * with four verified items, and the bundle she downloads verifies: returns the bundle.
   */
  private static Path deliverOnThePages() throws Exception {
    String aliceTab = browser.getWindowHandle();
    signIn("alice@alpha.example", network.token("alice@alpha.example"));
    screenshot("sign-in-done");
    browser.findElement(By.id("recipient")).sendKeys("carol@beta.example");
    browser.findElement(By.id("subject")).sendKeys("Contract, signed copy");
    browser.findElement(By.id("body")).sendKeys("Dear Carol,\nhere is the signed contract.\nAlice");
    browser.findElement(By.id("flavour-nsr")).click();
    browser.findElement(By.id("send")).click();
    // Posted: the COP is on the page, verified against the network CA.
    await(driver -> driver.findElements(By.cssSelector("#timeline .evidence-item[data-kind=COP][data-verified=true]"))
        .size() == 1);
    assertTrue(List.of("IN_DELIVERY", "AWAITING_COLLECTION").contains(browser.findElement(By.id("mail-status")).getText()));
    screenshot("outbox-in-delivery");

    browser.switchTo().newWindow(WindowType.TAB);
    signIn("carol@beta.example", network.token("carol@beta.example"));
    browser.get(base + "/ui/inbox");
    By awaiting = By.cssSelector(".card[data-status=AWAITING_DECISION]");
    WebElement card = await(ExpectedConditions.visibilityOfElementLocated(awaiting));
    assertTrue(card.getText().contains("alice@alpha.example"), card.getText());
    assertTrue(card.findElement(By.cssSelector(".countdown")).getText().startsWith("Decide in "),
        "a countdown to the last moment to accept");
    assertTrue(card.getText().contains("before you see the content"), "what signing an NSR COD means");
    assertFalse(card.getText().contains("here is the signed contract"), "NSR: no content before the COD");
    screenshot("inbox-awaiting-decision");
    card.findElement(By.cssSelector("button.accept")).click();
    WebElement delivered = await(ExpectedConditions.visibilityOfElementLocated(
        By.cssSelector(".card[data-status=RETRIEVED] .content")));
    assertTrue(delivered.getText().contains("here is the signed contract"), delivered.getText());
    screenshot("inbox-delivered");

    browser.switchTo().window(aliceTab);
    await(ExpectedConditions.textToBe(By.id("mail-status"), "DELIVERED"));
    await(driver -> driver.findElements(By.cssSelector("#timeline .evidence-item[data-verified=true]")).size() == 4);
    List<String> kinds = browser.findElements(By.cssSelector("#timeline .evidence-item")).stream()
        .map(item -> item.getAttribute("data-kind")).toList();
    assertEquals(List.of("COP", "ROD_N", "COD", "ROD"), kinds);
    assertTrue(browser.findElement(By.id("verify-summary")).getText().startsWith("4 of 4 items verified"));
    screenshot("outbox-delivered");

    Set<Path> before = downloaded();
    browser.findElement(By.id("download")).click();
    Path downloaded = await(driver -> downloaded().stream().filter(file -> !before.contains(file)).findFirst()
        .orElse(null));
    EvidenceBundle exported = EvidenceBundles.read(downloaded);
    assertEquals(BundleVerifier.Verdict.VALID, BundleVerifier.verify(exported,
        Optional.of(network.node.keys().trustStore().caCertificate())).verdict());

    phoneScreenshot("/ui/outbox", "outbox-phone");
    return downloaded;
  }

  @Test
  void downloadedBundleIsValidOnTheVerifyPageAsCertmailVerifySaysIt() throws Exception {
    Path bundle = deliveredBundle();
    List<String> page = verifyOnPage(bundle);
    assertEquals("VALID", browser.findElement(By.id("verdict")).getAttribute("data-verdict"));
    assertEquals(4, browser.findElements(By.cssSelector("#items .evidence-item[data-verified=true]")).size());
    screenshot("verify-valid");
    Cli cli = certmailVerify(bundle);
    assertEquals(0, cli.exitCode());
    assertSameReport(cli.lines(), page);
  }

  @Test
  void aChangedByteNamesTheFailingItemOnTheVerifyPageAsCertmailVerifyDoes() throws Exception {
    Path bundle = deliveredBundle();
    byte[] bytes = Files.readAllBytes(bundle);
    EvidenceBundle parsed = EvidenceBundles.read(bundle);
    // The last byte of item 3's signature (the COD): the signature no longer matches.
    byte[] signature = parsed.getItems(2).getSignature().toByteArray();
    int at = lastIndexOf(bytes, signature) + signature.length - 1;
    bytes[at] ^= 0x01;
    Path tampered = dir.resolve("tampered.cmbundle");
    Files.write(tampered, bytes);

    List<String> page = verifyOnPage(tampered);
    assertEquals("INVALID", browser.findElement(By.id("verdict")).getAttribute("data-verdict"));
    WebElement cod = browser.findElement(By.cssSelector("#items .evidence-item[data-number='3']"));
    assertEquals("BAD_SIGNATURE", cod.getAttribute("data-failure"));
    assertEquals(3, browser.findElements(By.cssSelector("#items .evidence-item[data-verified=true]")).size());
    screenshot("verify-tampered");
    Cli cli = certmailVerify(tampered);
    assertEquals(1, cli.exitCode());
    assertSameReport(cli.lines(), page);
  }

  /**
   * Every 5th byte of the bundle changed in turn: the browser's verifier reaches the same verdict
   * and names the same failing items, with the same reasons, as certmail's BundleVerifier.
   */
  @Test
  void browserAndCertmailVerifyAgreeOnEveryChangedByte() throws Exception {
    byte[] original = Files.readAllBytes(deliveredBundle());
    browser.get(base + "/ui/verify");
    List<String> disagreements = new ArrayList<>();
    int checked = 0;
    for (int at = 0; at < original.length; at += 5) {
      byte[] bytes = original.clone();
      bytes[at] ^= (byte) (1 << (at % 8));
      String[] java = javaSummary(bytes).split("\n", 2);
      String[] page = browserSummary(bytes).split("\n", 2);
      checked++;
      if (!java[0].equals(page[0])) {
        disagreements.add("byte " + at + ": certmail verify " + String.join(" ", java) + "\n   browser "
            + String.join(" ", page));
      }
    }
    assertTrue(checked > 100, "the bundle has " + original.length + " bytes");
    assertTrue(disagreements.isEmpty(), disagreements.size() + " disagreements:\n" + String.join("\n", disagreements));
  }

  @Test
  void pagesCarryAStrictContentSecurityPolicyAndClearErrorPages() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(base + "/ui/verify")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, page.statusCode());
    String policy = page.headers().firstValue("Content-Security-Policy").orElseThrow();
    assertTrue(policy.contains("script-src 'self'") && !policy.contains("unsafe"), policy);
    HttpResponse<String> missing = client.send(HttpRequest.newBuilder(URI.create(base + "/ui/no-such-page")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(404, missing.statusCode());
    assertTrue(missing.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));

    // A wrong token: the sign-in page says so and keeps nothing.
    browser.get(base + "/ui/?signed-out");
    browser.findElement(By.id("mailbox")).sendKeys("alice@alpha.example");
    browser.findElement(By.id("token")).sendKeys("not-a-token");
    browser.findElement(By.id("sign-in-button")).click();
    WebElement error = await(ExpectedConditions.visibilityOfElementLocated(By.id("error")));
    assertTrue(error.getText().contains("INVALID_TOKEN"), error.getText());
    assertFalse(browser.getCurrentUrl().contains("not-a-token"));
    screenshot("sign-in-error");

    // A mailbox of an organisation this node does not run (offline.example): where to go instead.
    signInWithoutChecking("dan@offline.example", network.token("dan@offline.example"));
    browser.get(base + "/ui/outbox");
    WebElement notHosted = await(ExpectedConditions.visibilityOfElementLocated(By.id("error")));
    assertTrue(notHosted.getText().contains("Not hosted on this node"), notHosted.getText());
    screenshot("error-not-hosted");

    // A token revoked while the page is open: the page says so and ends the session.
    String token = network.token("bob@beta.example");
    signIn("bob@beta.example", token);
    await(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#sent[data-loaded=true]")));
    TokenStore.revoke(network.keys, "bob@beta.example", Optional.of(token));
    WebElement expired = await(ExpectedConditions.visibilityOfElementLocated(By.id("error")));
    assertTrue(expired.getText().contains("Your token is no longer accepted"), expired.getText());
    assertEquals(null, ((JavascriptExecutor) browser).executeScript("return sessionStorage.getItem('certmail.token')"));
    screenshot("error-token-revoked");

    browser.get(base + "/v1/docs");
    await(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(".swagger-ui .info")));
    assertTrue(browser.findElement(By.cssSelector(".swagger-ui .info")).getText().contains("certmail"));
    screenshot("api-docs");
  }

  /** A node of its own, stopped under the open page: the other tests keep theirs. */
  @Test
  void aNodeThatStopsIsSaidToBeDownOnTheOpenPage() throws Exception {
    TestNode stopping = TestNode.start(Files.createDirectories(dir.resolve("stopping-node")));
    String stoppingBase = stopping.endpoints.apiUri();
    try {
      browser.get(stoppingBase + "/ui/?signed-out");
      browser.findElement(By.id("mailbox")).sendKeys("alice@alpha.example");
      browser.findElement(By.id("token")).sendKeys(stopping.token("alice@alpha.example"));
      browser.findElement(By.id("sign-in-button")).click();
      await(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#sent[data-loaded=true]")));
    } finally {
      stopping.close();
    }
    WebElement down = await(ExpectedConditions.visibilityOfElementLocated(By.id("error")));
    assertTrue(down.getText().contains("The node does not answer"), down.getText());
    screenshot("error-node-down");
  }

  // ---- helpers ----

  private static void signInWithoutChecking(String mailbox, String token) {
    browser.get(base + "/ui/?signed-out");
    ((JavascriptExecutor) browser).executeScript("sessionStorage.setItem('certmail.mailbox', arguments[0]);"
        + "sessionStorage.setItem('certmail.token', arguments[1]);", mailbox, token);
  }

  private static void signIn(String mailbox, String token) {
    browser.get(base + "/ui/?signed-out");
    browser.findElement(By.id("mailbox")).sendKeys(mailbox);
    browser.findElement(By.id("token")).sendKeys(token);
    browser.findElement(By.id("sign-in-button")).click();
    await(ExpectedConditions.urlToBe(base + "/ui/outbox"));
    assertFalse(browser.getCurrentUrl().contains(token), "the token never goes into a URL");
  }

  private static <T> T await(Function<WebDriver, T> condition) {
    try {
      return new WebDriverWait(browser, PATIENCE).until(condition::apply);
    } catch (org.openqa.selenium.TimeoutException e) {
      // What the page showed and what its scripts said: the failure's explanation.
      String console = browser.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
          .map(Object::toString).reduce("", (a, b) -> a + "\n  " + b);
      throw new AssertionError("waited " + PATIENCE.toSeconds() + " s on " + browser.getCurrentUrl() + " for "
          + e.getMessage() + "\npage text:\n" + browser.findElement(By.tagName("body")).getText()
          + "\nbrowser console:" + console, e);
    }
  }

  /** The bundles downloaded so far (a download in progress has another suffix). */
  private static Set<Path> downloaded() {
    try (Stream<Path> files = Files.list(downloads)) {
      return files.filter(file -> file.toString().endsWith(".cmbundle")).collect(Collectors.toSet());
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot list " + downloads + ": " + e.getMessage(), e);
    }
  }

  /** Puts the file into the verify page's file input (as a drop would) and returns its certmail-verify text. */
  private static List<String> verifyOnPage(Path file) {
    browser.get(base + "/ui/verify");
    browser.findElement(By.id("bundle-file")).sendKeys(file.toAbsolutePath().toString());
    await(driver -> driver.findElement(By.id("result")).isDisplayed()
        && !driver.findElement(By.id("report-text")).getAttribute("textContent").isEmpty());
    return List.of(browser.findElement(By.id("report-text")).getAttribute("textContent").split("\n", -1));
  }

  record Cli(int exitCode, List<String> lines) {}

  private static Cli certmailVerify(Path file) {
    StringWriter out = new StringWriter();
    CommandLine commandLine = CertmailCli.commandLine();
    commandLine.setOut(new PrintWriter(out));
    int code = commandLine.execute("verify", file.toString(), "--ca", caPem.toString());
    List<String> lines = new ArrayList<>(Arrays.asList(out.toString().split("\n", -1)));
    if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    return new Cli(code, lines);
  }

  /** The same lines, but for where the files were read from (a path on the CLI, a file name or URL on the page). */
  private static void assertSameReport(List<String> cli, List<String> page) {
    assertEquals(cli.size(), page.size(), "certmail verify:\n" + String.join("\n", cli) + "\npage:\n"
        + String.join("\n", page));
    assertEquals(cli.get(0).replaceFirst("^Bundle .*?: ", ""), page.get(0).replaceFirst("^Bundle .*?: ", ""));
    assertEquals(cli.get(1).replaceFirst(" \\(from .*\\)$", ""), page.get(1).replaceFirst(" \\(from .*\\)$", ""));
    assertEquals(cli.subList(2, cli.size()), page.subList(2, page.size()));
  }

  /** certmail's verdict on bundle bytes: NOT_A_BUNDLE, or the verdict and each item's failure. */
  private static String javaSummary(byte[] bytes) {
    EvidenceBundle parsed;
    try {
      parsed = EvidenceBundles.parse(bytes, "bundle");
    } catch (NotABundleException e) {
      return "NOT_A_BUNDLE";
    }
    BundleVerifier.Report report = BundleVerifier.verify(parsed,
        Optional.of(network.node.keys().trustStore().caCertificate()));
    return report.verdict() + " " + report.items().stream()
        .map(item -> item.failure().map(Enum::name).orElse("ok")).toList() + " problems " + report.bundleProblems().size()
        + "\n" + report.items().stream().map(BundleVerifier.ItemReport::detail).toList() + " " + report.bundleProblems();
  }

  private static String browserSummary(byte[] bytes) {
    Object answer = ((JavascriptExecutor) browser).executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
        import('/ui/assets/verifier.js').then(async v => {
          const ca = v.readCa(new Uint8Array(await (await fetch('/ui/ca.pem')).arrayBuffer()));
          let bundle;
          try {
            bundle = v.readBundle(bytes, 'bundle');
          } catch (e) {
            return done(e instanceof v.NotABundleError ? 'NOT_A_BUNDLE' : 'ERROR ' + e.message);
          }
          const report = await v.verifyBundle(bundle, ca);
          done(report.verdict + ' [' + report.items.map(i => i.failure || 'ok').join(', ') + '] problems '
            + report.bundleProblems.length + '\\n[' + report.items.map(i => i.detail).join(', ') + '] ['
            + report.bundleProblems.join(', ') + ']');
        }).catch(e => done('ERROR ' + e.message));
        """, java.util.Base64.getEncoder().encodeToString(bytes));
    return String.valueOf(answer);
  }

  private static int lastIndexOf(byte[] haystack, byte[] needle) {
    for (int i = haystack.length - needle.length; i >= 0; i--) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }

  /** The whole page: the window is made as tall as the page (at most 2400 px) for the picture. */
  private static void screenshot(String name) throws java.io.IOException {
    Dimension before = browser.manage().window().getSize();
    Number height = (Number) ((JavascriptExecutor) browser).executeScript(
        "return document.documentElement.scrollHeight");
    browser.manage().window().setSize(new Dimension(before.getWidth(),
        Math.min(2400, Math.max(before.getHeight(), height.intValue() + 140))));
    try {
      byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
      Files.write(SCREENSHOTS.resolve(name + ".png"), png);
    } finally {
      browser.manage().window().setSize(before);
    }
  }

  private static void phoneScreenshot(String path, String name) throws java.io.IOException {
    Dimension desktop = browser.manage().window().getSize();
    browser.manage().window().setSize(new Dimension(390, 844));
    try {
      browser.get(base + path + "#" + browser.getCurrentUrl().replaceFirst("^[^#]*#?", ""));
      await(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#sent[data-loaded=true]")));
      Object overflow = ((JavascriptExecutor) browser).executeScript(
          "return document.documentElement.scrollWidth > window.innerWidth");
      assertEquals(Boolean.FALSE, overflow, "the page fits a phone's width without sideways scrolling");
      screenshot(name);
    } finally {
      browser.manage().window().setSize(desktop);
    }
  }
}
