package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.certmail.node.CertmailCliTest.Result;
import net.certmail.node.http.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client commands, in-process as `./certmail` runs them, against a real node's HTTP API. */
class ClientCommandsTest {
  @TempDir
  static Path dir;
  static TestNode network;
  static String node;

  @BeforeAll
  static void startNode() throws Exception {
    network = TestNode.start(dir);
    node = network.endpoints.apiUri();
  }

  @AfterAll
  static void stopNode() {
    if (network != null) {
      network.close();
    }
  }

  static Result as(String mailbox, String token, String... command) {
    String[] args = new String[command.length + 6];
    System.arraycopy(command, 0, args, 0, command.length);
    System.arraycopy(new String[] {"--node", node, "--mailbox", mailbox, "--token", token}, 0, args, command.length, 6);
    return CertmailCliTest.run(args);
  }

  static String token(String mailbox) {
    Result issued = CertmailCliTest.run("keys", "token", "--mailbox", mailbox, "--keys", network.keys.toString());
    assertEquals(0, issued.exitCode(), issued.err());
    return issued.out().trim();
  }

  @Test
  void keysTokenStoresOnlyTheHashOwnerOnly() throws Exception {
    String token = token("anna@alpha.example");
    Path stored = network.keys.resolve("tokens").resolve("anna@alpha.example");
    String hashes = Files.readString(stored);
    assertTrue(!hashes.contains(token) && hashes.lines().allMatch(line -> line.matches("[0-9a-f]{64}")), hashes);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stored)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stored.getParent())));
    // A node that does not host the mailbox gives no token for it.
    Result elsewhere = CertmailCliTest.run("keys", "token", "--mailbox", "dan@offline.example", "--keys",
        network.keys.toString());
    assertEquals(CertmailCli.BAD_INPUT, elsewhere.exitCode());
    assertTrue(elsewhere.err().contains("does not host dan@offline.example"), elsewhere.err());
  }

  /** Revocation needs no restart and no other token's help: the next request with it is refused. */
  @Test
  void aRevokedTokenIsRefusedByTheRunningNodeAtOnce() throws Exception {
    String first = token("anna@alpha.example");
    String second = token("anna@alpha.example");
    assertTrue(as("anna@alpha.example", first, "status", "none").err().contains("404 UNKNOWN_SUBMISSION"));
    assertTrue(as("anna@alpha.example", second, "status", "none").err().contains("404 UNKNOWN_SUBMISSION"));

    Result revoked = CertmailCliTest.run("keys", "token", "--revoke", "anna@alpha.example", "--token", first,
        "--keys", network.keys.toString());
    assertEquals(0, revoked.exitCode(), revoked.err());
    assertTrue(revoked.out().contains("revoked 1 token(s) of anna@alpha.example"), revoked.out());
    Result refused = as("anna@alpha.example", first, "status", "none");
    assertEquals(CertmailCli.BAD_INPUT, refused.exitCode());
    assertTrue(refused.err().contains("401 INVALID_TOKEN"), refused.err());
    assertTrue(as("anna@alpha.example", second, "status", "none").err().contains("404 UNKNOWN_SUBMISSION"),
        "the other token still works");

    // Revoking a token twice, or one of another mailbox, says so and changes nothing.
    assertEquals(CertmailCli.BAD_INPUT, CertmailCliTest.run("keys", "token", "--revoke", "anna@alpha.example",
        "--token", first, "--keys", network.keys.toString()).exitCode());
    assertEquals(0, CertmailCliTest.run("keys", "token", "--revoke", "anna@alpha.example", "--all",
        "--keys", network.keys.toString()).exitCode());
    assertTrue(as("anna@alpha.example", second, "status", "none").err().contains("401 INVALID_TOKEN"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
        network.keys.resolve("tokens").resolve("anna@alpha.example"))));
  }

  @Test
  void keysTokenRefusesMailboxNamesThatAreNotMailboxes() {
    for (String name : new String[] {"../../etc/passwd", "alice@alpha.example/../x", "ALICE@alpha.example\n"}) {
      Result refused = CertmailCliTest.run("keys", "token", "--mailbox", name, "--keys", network.keys.toString());
      assertEquals(CertmailCli.BAD_INPUT, refused.exitCode(), name);
      assertTrue(refused.err().contains("not a mailbox id"), refused.err());
    }
  }

  @Test
  void sendAcceptFetchAndExportAVerifiedBundle() throws Exception {
    String alice = token("alice@alpha.example");
    String carol = token("carol@beta.example");
    Result sent = as("alice@alpha.example", alice, "send", "--to", "carol@beta.example", "--subject", "Offer",
        "--body", "Twelve apples.", "--flavour", "IP", "--deadline", "PT2M", "--idempotency-key", "cli-1");
    assertEquals(0, sent.exitCode(), sent.err());
    // send waited for the origin's answer: the label and the COP are already there.
    assertTrue(sent.out().contains("submission cli-1"), sent.out());
    Matcher labelled = Pattern.compile("label (alpha\\.example/[0-9a-f]+)").matcher(sent.out());
    assertTrue(labelled.find() && sent.out().contains("COP"), sent.out());
    String label = labelled.group(1);
    awaitOutput(() -> as("carol@beta.example", carol, "inbox", label), Pattern.compile("(AWAITING_DECISION)"));
    Result accepted = as("carol@beta.example", carol, "accept", label);
    assertEquals(0, accepted.exitCode(), accepted.err());
    String body = awaitOutput(() -> as("carol@beta.example", carol, "fetch", label), Pattern.compile("(Twelve apples\\.)"));
    assertEquals("Twelve apples.", body);

    awaitOutput(() -> as("alice@alpha.example", alice, "status", "cli-1"), Pattern.compile("status\\s+(DELIVERED)"));
    // A path typed on the command line is used as given, ".." included, and written owner-only.
    Files.createDirectories(dir.resolve("sub"));
    Path bundle = dir.resolve("cli-1.cmbundle");
    Result exported = as("alice@alpha.example", alice, "evidence", "export", "cli-1", "--out",
        dir.resolve("sub").resolve("..").resolve("cli-1.cmbundle").toString());
    assertEquals(0, exported.exitCode(), exported.err());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(bundle)));
    // An existing file is replaced only when asked.
    Result again = as("alice@alpha.example", alice, "evidence", "export", "cli-1", "--out", bundle.toString());
    assertEquals(CertmailCli.BAD_INPUT, again.exitCode());
    assertTrue(again.err().contains("exists; choose another --out or add --force"), again.err());
    assertEquals(0, as("alice@alpha.example", alice, "evidence", "export", "cli-1", "--out", bundle.toString(),
        "--force").exitCode());
    Result verified = CertmailCliTest.run("verify", bundle.toString(), "--ca", network.keys.toString());
    assertEquals(0, verified.exitCode(), verified.out() + verified.err());
  }

  @Test
  void sendOfAMailTheOriginRejectsExits4WithTheReasonAndExportsTheSignedRejection() throws Exception {
    String alice = token("alice@alpha.example");
    // Below the network's minimum lead time: P1 signs a SUBMISSION_REJECTION instead of a COP.
    Result sent = as("alice@alpha.example", alice, "send", "--to", "bob@beta.example", "--body", "too late",
        "--deadline", "5s", "--idempotency-key", "cli-rejected");
    assertEquals(CertmailCli.REJECTED, sent.exitCode(), sent.out() + sent.err());
    assertTrue(sent.err().contains("alpha.example rejected the mail: DEADLINE_NOT_ACCEPTABLE"), sent.err());
    assertTrue(sent.out().contains("SUBMISSION_REJECTION"), sent.out());

    Path bundle = dir.resolve("cli-rejected.cmbundle");
    Result exported = as("alice@alpha.example", alice, "evidence", "export", "cli-rejected", "--out", bundle.toString());
    assertEquals(0, exported.exitCode(), exported.err());
    assertTrue(exported.out().contains("signed rejection"), exported.out());
    Result verified = CertmailCliTest.run("verify", bundle.toString(), "--ca", network.keys.toString());
    assertEquals(0, verified.exitCode(), verified.out() + verified.err());
    assertTrue(verified.out().contains("SUBMISSION_REJECTION (ETSI SUBMISSION_REJECTION_EVENT) signed by alpha.example")
        && verified.out().contains("All 1 items VALID."), verified.out());
  }

  @Test
  void sendWithNoWaitReturnsAsSoonAsTheNodeTookTheSubmission() throws Exception {
    String alice = token("alice@alpha.example");
    Result sent = as("alice@alpha.example", alice, "send", "--to", "bob@beta.example", "--body", "quick",
        "--no-wait", "--idempotency-key", "cli-no-wait");
    assertEquals(0, sent.exitCode(), sent.err());
    assertTrue(sent.out().contains("status     SUBMITTED") && sent.out().contains("label (none yet)")
        && sent.out().contains("follow it with: certmail status --mailbox alice@alpha.example cli-no-wait"), sent.out());
  }

  @Test
  void fetchingARefusedMailSaysItWasRefusedNotToAcceptItFirst() throws Exception {
    String alice = token("alice@alpha.example");
    String carol = token("carol@beta.example");
    Result sent = as("alice@alpha.example", alice, "send", "--to", "carol@beta.example", "--body", "not for carol",
        "--flavour", "NSR", "--deadline", "PT2M", "--idempotency-key", "cli-refused");
    assertEquals(0, sent.exitCode(), sent.err());
    Matcher labelled = Pattern.compile("label (alpha\\.example/[0-9a-f]+)").matcher(sent.out());
    assertTrue(labelled.find(), sent.out());
    String label = labelled.group(1);
    awaitOutput(() -> as("carol@beta.example", carol, "inbox", label), Pattern.compile("(AWAITING_DECISION)"));
    Result early = as("carol@beta.example", carol, "fetch", label);
    assertEquals(CertmailCli.BAD_INPUT, early.exitCode());
    assertTrue(early.err().contains("accept it first"), early.err());

    Result refused = as("carol@beta.example", carol, "refuse", label, "--reason", "not mine");
    assertEquals(0, refused.exitCode(), refused.err());
    Result fetched = as("carol@beta.example", carol, "fetch", label);
    assertEquals(CertmailCli.BAD_INPUT, fetched.exitCode());
    assertTrue(fetched.err().contains("CONTENT_NOT_RELEASED") && fetched.err().contains("you refused this mail")
        && !fetched.err().contains("accept it first"), fetched.err());
  }

  @Test
  void refusedRequestsExit2AndAnUnreachableNodeExits3WithWhatToDo() throws Exception {
    String bob = token("bob@beta.example");
    Result wrongMailbox = as("alice@alpha.example", bob, "status", "x");
    assertEquals(CertmailCli.BAD_INPUT, wrongMailbox.exitCode());
    assertTrue(wrongMailbox.err().contains("403 WRONG_MAILBOX"), wrongMailbox.err());
    Result badLabel = as("bob@beta.example", bob, "inbox", "not-a-label");
    assertEquals(CertmailCli.BAD_INPUT, badLabel.exitCode());

    Result down = CertmailCliTest.run("status", "x", "--node", "http://127.0.0.1:1", "--mailbox",
        "bob@beta.example", "--token", bob);
    assertEquals(CertmailCli.FAILED, down.exitCode());
    assertTrue(down.err().contains("is the node running? start it with ./certmail node --config"), down.err());
  }

  /**
   * A --deadline that cannot be a deadline is refused before anything is sent (exit 2, not 3 for
   * the unreachable node given here), with what is accepted: no overflow, no deadline in the past.
   */
  @Test
  void sendRefusesDeadlinesThatCannotBeWithoutCallingTheNode() {
    for (String deadline : new String[] {"+1000000000-12-31T23:59:59Z", "+10000-01-01T00:00:00Z",
        "PT9223372036854775807S", "9223372036854775807s", "P106751991167300D", "-1h", "PT0S"}) {
      Result sent = CertmailCliTest.run("send", "--to", "bob@beta.example", "--body", "x", "--deadline", deadline,
          "--node", "http://127.0.0.1:1", "--mailbox", "alice@alpha.example", "--token", "cm_unused");
      assertEquals(CertmailCli.BAD_INPUT, sent.exitCode(), deadline + ": " + sent.out() + sent.err());
      assertTrue(sent.err().contains("--deadline " + deadline) && sent.err().contains("max-lead-time"),
          deadline + ": " + sent.err());
    }
    // What can be a deadline is computed once, as an instant.
    java.time.Instant inAnHour = ClientCommands.Send.deadlineOf("1h");
    assertTrue(Math.abs(Duration.between(java.time.Instant.now().plus(Duration.ofHours(1)), inAnHour).toSeconds()) < 5);
    assertEquals(java.time.Instant.parse("9999-12-31T23:59:59Z"), ClientCommands.Send.deadlineOf("9999-12-31T23:59:59Z"));
  }

  private static String awaitOutput(java.util.function.Supplier<Result> command, Pattern pattern) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Result result;
    do {
      result = command.get();
      Matcher matcher = pattern.matcher(result.out());
      if (matcher.find()) {
        return matcher.group(1);
      }
      Thread.sleep(300);
    } while (System.nanoTime() < until);
    throw new AssertionError("no " + pattern + " within 60 s; last output: " + result.out() + result.err());
  }
}
