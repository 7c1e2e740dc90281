package net.certmail.node;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Callable;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.node.http.HttpApi;
import net.certmail.proto.v1.EvidenceBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The commands a mailbox owner runs against a node's HTTP API. Each prints a short summary, or the JSON with --json. */
final class ClientCommands {
  private ClientCommands() {}

  /** What every client command shares: the connection options and the output. */
  abstract static class ClientCommand implements Callable<Integer> {
    @Mixin
    NodeClient client;

    @Option(names = "--json", description = "Print the node's JSON answer instead of a summary.")
    boolean json;

    @Spec
    CommandSpec spec;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    int print(NodeClient.Answer answer, java.util.function.Consumer<JsonNode> summary) throws IOException {
      return print(answer.json(), summary);
    }

    int print(JsonNode body, java.util.function.Consumer<JsonNode> summary) throws IOException {
      if (json) {
        out().println(NodeClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
      } else {
        summary.accept(body);
      }
      return CertmailCli.OK;
    }

    void printStatus(JsonNode status) {
      out().printf("submission %s  label %s%n", status.path("submissionId").asText(),
          status.path("label").asText().isEmpty() ? "(none yet)" : status.path("label").asText());
      out().printf("status     %s%s%n", status.path("status").asText(),
          status.path("reason").asText().isEmpty() ? "" : " (" + status.path("reason").asText() + ")");
      printEvidence(status.path("evidence"));
    }

    void printInboxEntry(JsonNode entry) {
      out().printf("label   %s  from %s via %s, %s%n", entry.path("label").asText(), entry.path("sender").asText(),
          entry.path("agent").asText(), entry.path("flavour").asText());
      // The status exactly as the node gives it (EXPIRED once the time to accept has passed).
      out().printf("status  %s%s%n", entry.path("status").asText(),
          entry.path("contentAvailable").asBoolean() ? "  (content available: certmail fetch)" : "");
      printEvidence(entry.path("evidence"));
    }

    private void printEvidence(JsonNode items) {
      for (JsonNode item : items) {
        out().printf("  %-22s by %-22s %s%n", item.path("kind").asText(), item.path("issuer").asText(),
            item.path("etsiEvent").asText());
      }
    }
  }

  @Command(name = "send", mixinStandardHelpOptions = true,
      description = {"Send a certified mail and wait for its Certificate of Posting (COP) or its rejection.",
          "",
          "The mail goes from --mailbox through its node. The command then waits until the origin server"
              + " answers: with its COP, the mail is on its way (exit 0); with its signed rejection, it is not"
              + " (exit 4, with the reason; `certmail evidence export` writes the rejection). Resending with the"
              + " same --idempotency-key (and the same mail and --deadline) never sends twice."},
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {
          "0:the mail has its COP (with --no-wait: the node took the submission)",
          "2:the node refused the request (the message says what to change)",
          "3:the node could not be reached or failed, or no COP nor rejection came within --wait",
          "4:the origin server rejected the mail (a signed SUBMISSION_REJECTION; the reason is printed)"},
      footer = {"%nExample:",
          "  certmail send --mailbox alice@alpha.example --to bob@beta.example \\",
          "      --subject Offer --body 'See attached.' --flavour IP"})
  static final class Send extends ClientCommand {
    @Option(names = "--to", required = true, paramLabel = "MAILBOX", description = "Recipient, e.g. bob@beta.example.")
    String to;

    @Option(names = "--subject", defaultValue = "", description = "Subject line.")
    String subject;

    @Option(names = "--body", description = "The mail's text.")
    String body;

    @Option(names = "--body-file", paramLabel = "FILE", description = "Read the mail's text from FILE instead.")
    Path bodyFile;

    @Option(names = "--flavour", defaultValue = "CEM", description = "CEM (recipient sees the mail first), NSR or IP (default ${DEFAULT-VALUE}).")
    String flavour;

    @Option(names = "--deadline", paramLabel = "T",
        description = "Deadline: an ISO-8601 instant (2026-12-01T12:00:00Z) or a duration from now (PT10M, 1h, 90s). Default 1h.")
    String deadline;

    @Option(names = "--idempotency-key", paramLabel = "KEY", description = "Your id for this mail (default: a new random one).")
    String idempotencyKey;

    @Option(names = "--no-wait", description = "Return as soon as the node took the submission (status SUBMITTED),"
        + " without waiting for the COP or the rejection; follow it with certmail status.")
    boolean noWait;

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "30s",
        description = "How long to wait for the COP or the rejection (default ${DEFAULT-VALUE}).")
    String waitFor;

    @Override
    public Integer call() throws Exception {
      if (body != null && bodyFile != null) {
        throw new UserInputException("give --body or --body-file, not both");
      }
      Duration patience = durationOf("--wait", waitFor);
      String text = bodyFile != null ? Files.readString(bodyFile, StandardCharsets.UTF_8) : body == null ? "" : body;
      Map<String, Object> request = new LinkedHashMap<>();
      request.put("recipient", to);
      request.put("subject", subject);
      request.put("body", text);
      request.put("flavour", flavour);
      // An absolute deadline, computed once here: a resend with the same key is then the same mail.
      request.put("deadline", deadlineOf(deadline).toString());
      request.put("idempotencyKey", idempotencyKey != null ? idempotencyKey : UUID.randomUUID().toString());
      JsonNode status = client.call("POST", "/outbox", request).json();
      String submissionId = status.path("submissionId").asText();
      long until = System.nanoTime() + patience.toNanos();
      while (!noWait && Outcome.of(status) == Outcome.PENDING && System.nanoTime() < until) {
        // A long poll: the node answers as soon as the status leaves SUBMITTED (or after the wait).
        long seconds = Math.max(1, Math.min(HttpApi.MAX_STATUS_WAIT_SECONDS, TimeUnit.NANOSECONDS.toSeconds(until - System.nanoTime())));
        var answer = client.call("GET", "/outbox/" + submissionId + "?waitWhile=SUBMITTED&waitSeconds=" + seconds, null);
        status = answer.json();
        if (answer.status() != 200) {
          Thread.sleep(250); // not a long poll's answer: do not ask again at once
        }
      }
      Outcome outcome = noWait ? Outcome.POSTED : Outcome.of(status);
      print(status, this::printStatus);
      String follow = "certmail status --mailbox " + client.mailbox + " " + submissionId;
      switch (outcome) {
        case POSTED -> {
          if (!json) {
            out().println("follow it with: " + follow);
          }
          return CertmailCli.OK;
        }
        case REJECTED -> {
          spec.commandLine().getErr().println("certmail send: " + Outcome.rejecter(status) + " rejected the mail: "
              + status.path("reason").asText("(no reason given)") + ". The signed rejection is your evidence: certmail"
              + " evidence export --mailbox " + client.mailbox + " " + submissionId + " --out FILE");
          return CertmailCli.REJECTED;
        }
        case ENDED -> {
          spec.commandLine().getErr().println("certmail send: the submission ended " + status.path("status").asText()
              + " without a COP; see: " + follow);
          return CertmailCli.FAILED;
        }
        default -> {
          spec.commandLine().getErr().println("certmail send: no COP nor rejection from the origin server within "
              + waitFor + " (status " + status.path("status").asText() + "); the mail may still be certified:"
              + " follow it with " + follow);
          return CertmailCli.FAILED;
        }
      }
    }

    /** Where a submission stands for its sender, as far as the command's exit code is concerned. */
    enum Outcome {
      /** The origin server has not answered yet. */
      PENDING,
      /** A COP: the mail has a label and is on its way (or further). */
      POSTED,
      /** The origin's signed rejection. */
      REJECTED,
      /** Final without a COP or rejection (e.g. NOT_POSTED: the origin never answered). */
      ENDED;

      static Outcome of(JsonNode status) {
        if (rejection(status) != null) {
          return REJECTED;
        }
        if (!status.path("label").asText().isEmpty()) {
          return POSTED;
        }
        return switch (status.path("status").asText()) {
          case "SUBMITTED", "" -> PENDING;
          default -> ENDED;
        };
      }

      static JsonNode rejection(JsonNode status) {
        for (JsonNode item : status.path("evidence")) {
          if (item.path("kind").asText().equals("SUBMISSION_REJECTION")) {
            return item;
          }
        }
        return null;
      }

      static String rejecter(JsonNode status) {
        JsonNode rejection = rejection(status);
        String issuer = rejection == null ? "" : rejection.path("issuer").asText();
        return issuer.isEmpty() ? "the origin server" : issuer;
      }
    }

    /**
     * The absolute deadline to send: an instant, or now plus a positive duration. Refused here (exit 2,
     * nothing sent) when it cannot be a deadline: a duration that is not positive, or a time beyond
     * what the node takes (four-digit years; an instant such as +1000000000-12-31T23:59:59Z has no
     * epoch milliseconds, and PT9223372036854775807S overflows). Whether it lies within the origin
     * server's window (min-lead-time to max-lead-time ahead) is the server's to say, signed.
     */
    static Instant deadlineOf(String value) {
      if (value == null) {
        return Instant.now().plus(Duration.ofHours(1));
      }
      Instant deadline;
      try {
        deadline = Instant.parse(value);
      } catch (DateTimeParseException notInstant) {
        Duration lead;
        try {
          lead = durationOf("--deadline", value);
        } catch (UserInputException notDuration) {
          throw new UserInputException("--deadline " + value + " is neither an instant (2026-12-01T12:00:00Z)"
              + " nor a duration (PT10M, 1h, 90s)");
        }
        if (lead.isNegative() || lead.isZero()) {
          throw new UserInputException("--deadline " + value + " is not ahead: give a positive duration from now"
              + " (PT10M, 1h, 90s); " + ACCEPTED_DEADLINES);
        }
        try {
          deadline = Instant.now().plus(lead);
        } catch (DateTimeException | ArithmeticException overflow) {
          deadline = Instant.MAX;
        }
      }
      if (deadline.isBefore(HttpApi.EARLIEST_DEADLINE) || deadline.isAfter(HttpApi.LATEST_DEADLINE)) {
        throw new UserInputException("--deadline " + value + " is out of range; " + ACCEPTED_DEADLINES);
      }
      return deadline;
    }

    static final String ACCEPTED_DEADLINES = "the origin server accepts a deadline between its"
        + " certmail.engine.min-lead-time and max-lead-time ahead (minutes to days; the node's answer to a"
        + " submission outside them says which)";

    /** A duration as ISO-8601 (PT10M) or short (10m, 1h, 90s). */
    static Duration durationOf(String option, String value) {
      String iso = value.trim().toUpperCase(java.util.Locale.ROOT);
      try {
        return Duration.parse(iso.startsWith("P") ? iso : "PT" + iso);
      } catch (DateTimeParseException e) {
        throw new UserInputException(option + " " + value + " is not a duration such as 30s, 2m, 1h or PT10M");
      }
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show a submission's status and the evidence the sender holds so far.")
  static final class Status extends ClientCommand {
    @Parameters(paramLabel = "SUBMISSION_ID", description = "The id `certmail send` printed.")
    String submissionId;

    @Override
    public Integer call() throws Exception {
      return print(client.call("GET", "/outbox/" + submissionId, null), this::printStatus);
    }
  }

  @Command(name = "inbox", mixinStandardHelpOptions = true,
      description = {"List the mails delivered to --mailbox, or show one by label (the sender's status shows it).",
          "",
          "The list is read from the node's journal (at most 200 mails)."})
  static final class Inbox extends ClientCommand {
    @Parameters(paramLabel = "LABEL", arity = "0..1",
        description = "e.g. alpha.example/4f1c...; without it, every mail delivered to --mailbox.")
    String label;

    @Override
    public Integer call() throws Exception {
      if (label == null) {
        return print(client.call("GET", "/inbox", null), list -> list.path("entries").forEach(this::printInboxEntry));
      }
      return print(client.call("GET", "/inbox/" + NodeClient.labelPath(label), null), this::printInboxEntry);
    }
  }

  @Command(name = "accept", mixinStandardHelpOptions = true,
      description = "Accept a mail: your node signs the receipt (COD) with your key; NSR/IP content then arrives.")
  static final class Accept extends ClientCommand {
    @Parameters(paramLabel = "LABEL")
    String label;

    @Override
    public Integer call() throws Exception {
      return print(client.call("POST", "/inbox/" + NodeClient.labelPath(label) + "/accept", null), this::printInboxEntry);
    }
  }

  @Command(name = "refuse", mixinStandardHelpOptions = true,
      description = "Refuse a mail: the sender gets a signed non-delivery notice (RECIPIENT_REFUSED).")
  static final class Refuse extends ClientCommand {
    @Parameters(paramLabel = "LABEL")
    String label;

    @Option(names = "--reason", description = "Why, for the refusal evidence.")
    String reason;

    @Override
    public Integer call() throws Exception {
      return print(client.call("POST", "/inbox/" + NodeClient.labelPath(label) + "/refuse",
          NodeClient.refusal(reason)), this::printInboxEntry);
    }
  }

  @Command(name = "fetch", mixinStandardHelpOptions = true,
      description = "Print a mail's content once it is released (CEM: at once; NSR, IP: after `certmail accept`).")
  static final class Fetch extends ClientCommand {
    @Parameters(paramLabel = "LABEL")
    String label;

    @Override
    public Integer call() throws Exception {
      return print(client.call("GET", "/inbox/" + NodeClient.labelPath(label) + "/content", null), content -> {
        out().println("Subject: " + content.path("subject").asText());
        out().println("Content-Type: " + content.path("contentType").asText());
        out().println();
        out().println(content.path("body").asText());
      });
    }
  }

  @Command(name = "export", mixinStandardHelpOptions = true,
      description = "Write a submission's evidence bundle (CMBNDL01) to a file, for `certmail verify FILE`: the"
          + " evidence chain of its label, or the origin server's signed rejection when it rejected the mail. FILE is"
          + " used as given (relative to the working directory, `..` included); it is written owner-only (600) and an"
          + " existing file is replaced only with --force.")
  static final class Export extends ClientCommand {
    @Parameters(paramLabel = "SUBMISSION_ID")
    String submissionId;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The bundle file to write.")
    Path file;

    @Option(names = "--force", description = "Replace FILE if it exists.")
    boolean force;

    @Override
    public Integer call() throws Exception {
      if (Files.isDirectory(file)) {
        throw new UserInputException(file + " is a directory; give the bundle's file name, e.g. " + file.resolve("mail.cmbundle"));
      }
      if (Files.exists(file) && !force) {
        throw new UserInputException(file + " exists; choose another --out or add --force to replace it");
      }
      NodeClient.Answer answer = client.call("GET", "/outbox/" + submissionId + "/bundle", null);
      Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), ".certmail-export", ".part");
      try {
        ownerOnly(temporary);
        Files.write(temporary, answer.body());
        Files.move(temporary, file, force ? new java.nio.file.CopyOption[] {java.nio.file.StandardCopyOption.REPLACE_EXISTING}
            : new java.nio.file.CopyOption[0]);
      } finally {
        Files.deleteIfExists(temporary);
      }
      EvidenceBundle bundle = EvidenceBundles.parse(answer.body(), file.toString());
      String what = bundle.getLabel().isEmpty() ? "the origin server's signed rejection of the submission"
          : bundle.getItemsCount() + " evidence items of label " + bundle.getLabel();
      out().println("Wrote " + what + " (" + answer.body().length + " bytes) to " + file
          + "; check it offline with: certmail verify " + file + " --ca <the network's ca.pem>");
      return CertmailCli.OK;
    }
  }

  private static void ownerOnly(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: the directory's ACLs apply
    }
  }
}
