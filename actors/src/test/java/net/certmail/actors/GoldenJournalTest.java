package net.certmail.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.NotSerializableException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.certmail.persistence.EmbeddedJournalSchema;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.audit.JournalAudit;
import net.certmail.persistence.serialization.CertmailEventSerializer;
import net.certmail.proto.v1.EventsProto;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.protocol.recipient.RecipientMachine;
import net.certmail.protocol.recipient.RecipientStage;
import net.certmail.protocol.sender.SenderMachine;
import net.certmail.protocol.sender.SenderStage;
import net.certmail.protocol.sender.SenderStage.AwaitingCop;
import net.certmail.protocol.sender.SenderStage.Concluded;
import net.certmail.protocol.server.Carriage;
import net.certmail.protocol.server.Outcome;
import net.certmail.protocol.server.ServerMachine;
import net.certmail.protocol.server.ServerStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schema evolution: a journal written by today's certmail must replay with every later version.
 *
 * <p>{@code golden/journal-v1.tsv} holds the events (persistence id, sequence nr, manifest, the
 * exact payload bytes) that real mails of every kind wrote through the v1 schema and
 * CertmailEventSerializer. It is committed and never regenerated for a schema change: it is what
 * old journals on disk look like. Each test reads it with the current code, rebuilds the
 * entities' states with their event handlers, and checks that a schema addition (a new field, a
 * new event case) keeps old bytes readable, while an event case or manifest this code does not
 * know is a clear error.
 *
 * <p>To record a new golden file (only for a new manifest version, e.g. "outbox.v2"):
 * {@code ./mvnw -pl actors -am test -Dtest=GoldenJournalTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dcertmail.golden.write=$PWD/actors/src/test/resources/golden/journal-v1.tsv}
 */
class GoldenJournalTest {
  static final String GOLDEN = "golden/journal-v1.tsv";

  record Recorded(String persistenceId, long sequenceNr, String manifest, byte[] payload) {}

  private final CertmailEventSerializer serializer = new CertmailEventSerializer(null);

  @Test
  void journalWrittenByTodaysCodeReplaysIntoTheSameEntityStates() throws Exception {
    Golden golden = Golden.read();
    Map<String, Object> states = new LinkedHashMap<>();
    for (Recorded event : golden.events) {
      Object decoded = serializer.fromBinary(event.payload(), event.manifest());
      states.put(event.persistenceId(), apply(event.persistenceId(), states.get(event.persistenceId()), decoded));
    }
    assertTrue(states.size() > 30, "golden journal covers many entities: " + states.size());

    String cem = golden.labels.get("cem-3-servers");
    Concluded delivered = outboxOf(states, cem);
    assertEquals(SenderStage.Outcome.DELIVERED, delivered.status());
    assertEquals(4, delivered.evidence().size(), "COP, ROD_n, COD, ROD");
    Outcome verdict = ServerMachine.verdictOf((ServerStage) states.get(TestNetwork.ALPHA + "|" + cem)).orElseThrow();
    assertTrue(((Outcome.Delivered) verdict).rod().isPresent(), "the origin's verdict survived the replay");
    assertInstanceOf(RecipientStage.Acknowledged.class, states.get(TestNetwork.BOB + "|" + cem));

    String refused = golden.labels.get("cem-refused");
    assertEquals(SenderStage.Outcome.NOT_DELIVERED, outboxOf(states, refused).status());
    assertInstanceOf(RecipientStage.Refused.class, states.get(TestNetwork.DAVE + "|" + refused));

    String held = golden.labels.get("nsr-held-accepted");
    RecipientStage.Acknowledged carol = (RecipientStage.Acknowledged) states.get(TestNetwork.CAROL + "|" + held);
    assertTrue(carol.retrieval().isPresent(), "the NSR content was retrieved after the COD");
    assertTrue(carol.signedAtMillis() > 0, "a receipt written before signed_at_millis fetches on its COD's schedule");
    assertTrue(((ServerStage.Carrying) states.get(TestNetwork.BETA + "|" + held)).carriage().receipt()
        .flatMap(Carriage.Receipt::handover).isPresent(), "the destination still holds the content handover");

    String relay = golden.labels.get("ip-relay-unreachable");
    assertEquals(SenderStage.Outcome.NOT_DELIVERED, outboxOf(states, relay).status());
  }

  @Test
  void anAddedFieldReadsOldBytesAndOldCodeReadsNewBytes() throws Exception {
    Golden golden = Golden.read();
    Recorded old = golden.events.stream().filter(e -> e.manifest().equals("outbox.v1/mail_submitted")).findFirst()
        .orElseThrow();
    FileDescriptor newerSchema = newerSchema();
    Descriptor newerOutbox = newerSchema.findMessageTypeByName("OutboxEvent");
    Descriptor newerSubmitted = newerSchema.findMessageTypeByName("MailSubmitted");
    FieldDescriptor submittedCase = newerOutbox.findFieldByName("mail_submitted");
    FieldDescriptor priority = newerSubmitted.findFieldByName("priority");

    // Newer code reads the old bytes: every old field is there, the new one has its default.
    DynamicMessage read = DynamicMessage.parseFrom(newerOutbox, old.payload());
    DynamicMessage submitted = (DynamicMessage) read.getField(submittedCase);
    OutboxEvent current = OutboxEvent.parseFrom(old.payload());
    assertEquals(current.getMailSubmitted().getSubmissionId(),
        submitted.getField(newerSubmitted.findFieldByName("submission_id")));
    assertEquals("", submitted.getField(priority));
    assertTrue(submitted.getUnknownFields().asMap().isEmpty());

    // Today's code reads bytes written by the newer schema: the new field is carried along unread.
    byte[] newer = read.toBuilder().setField(submittedCase,
        submitted.toBuilder().setField(priority, "urgent").build()).build().toByteArray();
    OutboxEvent decoded = (OutboxEvent) serializer.fromBinary(newer, old.manifest());
    assertEquals(current.getMailSubmitted().getSubmissionId(), decoded.getMailSubmitted().getSubmissionId());
    assertFalse(decoded.getMailSubmitted().getUnknownFields().asMap().isEmpty(), "the newer field is kept");
    SenderMachine machine = outboxMachine(old.persistenceId());
    assertInstanceOf(AwaitingCop.class, machine.apply(machine.empty(), decoded));
  }

  @Test
  void anEventCaseOrManifestThisVersionDoesNotKnowIsAClearError() throws Exception {
    Descriptor newerOutbox = newerSchema().findMessageTypeByName("OutboxEvent");
    FieldDescriptor recalled = newerOutbox.findFieldByName("mail_recalled");
    byte[] newerEvent = DynamicMessage.newBuilder(newerOutbox)
        .setField(recalled, DynamicMessage.getDefaultInstance(recalled.getMessageType())).build().toByteArray();

    NotSerializableException newerCase = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(newerEvent, "outbox.v1/mail_recalled"));
    assertTrue(newerCase.getMessage().contains("written by a newer certmail"), newerCase.getMessage());

    byte[] oldBytes = Golden.read().events.get(0).payload();
    NotSerializableException unknown = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(oldBytes, "outbox.v2/mail_submitted"));
    assertTrue(unknown.getMessage().contains("unknown certmail event manifest"), unknown.getMessage());
  }

  /**
   * The v1 events schema with two additions a later certmail might make: a field
   * {@code MailSubmitted.priority = 100} and a oneof case {@code OutboxEvent.mail_recalled = 100}.
   * Built from today's descriptor, so the test needs no second copy of the .proto files.
   */
  static FileDescriptor newerSchema() throws Exception {
    FileDescriptorProto.Builder file = EventsProto.getDescriptor().toProto().toBuilder();
    for (DescriptorProto.Builder message : file.getMessageTypeBuilderList()) {
      if (message.getName().equals("MailSubmitted")) {
        message.addField(FieldDescriptorProto.newBuilder().setName("priority").setNumber(100)
            .setType(FieldDescriptorProto.Type.TYPE_STRING).setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL));
      }
      if (message.getName().equals("OutboxEvent")) {
        message.addField(FieldDescriptorProto.newBuilder().setName("mail_recalled").setNumber(100)
            .setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(".certmail.v1.MailDeclaredLost")
            .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL).setOneofIndex(0));
      }
    }
    return FileDescriptor.buildFrom(file.build(),
        EventsProto.getDescriptor().getDependencies().toArray(new FileDescriptor[0]));
  }

  private static Object apply(String persistenceId, Object state, Object event) {
    if (event instanceof OutboxEvent outbox) {
      SenderMachine machine = outboxMachine(persistenceId);
      return machine.apply(state == null ? machine.empty() : (SenderStage) state, outbox);
    }
    if (event instanceof ServerEvent server) {
      ServerMachine machine = new ServerMachine(EntityKind.principalOf(persistenceId), EntityKind.keyOf(persistenceId),
          TestNetwork.serverRules(), null);
      return machine.apply(state == null ? machine.empty() : (ServerStage) state, server);
    }
    return RecipientMachine.after(state == null ? new RecipientStage.Empty() : (RecipientStage) state,
        (InboxEvent) event);
  }

  /** A's machine for one outbox stream: replay needs neither keys nor a clock. */
  private static SenderMachine outboxMachine(String persistenceId) {
    return new SenderMachine(EntityKind.principalOf(persistenceId), EntityKind.keyOf(persistenceId),
        EngineSettings.fromConfig(ConfigFactory.load()).timings(), null);
  }

  private static Concluded outboxOf(Map<String, Object> states, String label) {
    return states.values().stream().filter(Concluded.class::isInstance)
        .map(Concluded.class::cast).filter(state -> state.label().equals(label)).findFirst()
        .orElseThrow(() -> new AssertionError("no concluded outbox entry for " + label));
  }

  /** The golden file: "# label <scenario> <label>" lines, then one event per line. */
  record Golden(Map<String, String> labels, List<Recorded> events) {
    static Golden read() throws IOException {
      Map<String, String> labels = new LinkedHashMap<>();
      List<Recorded> events = new ArrayList<>();
      try (InputStream in = GoldenJournalTest.class.getClassLoader().getResourceAsStream(GOLDEN)) {
        assertNotNull(in, GOLDEN + " is missing from the test resources");
        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
          if (line.startsWith("# label ")) {
            String[] parts = line.split(" ");
            labels.put(parts[2], parts[3]);
          } else if (!line.isBlank() && !line.startsWith("#")) {
            String[] fields = line.split("\t");
            events.add(new Recorded(fields[0], Long.parseLong(fields[1]), fields[2],
                Base64.getDecoder().decode(fields[3])));
          }
        }
      }
      return new Golden(labels, events);
    }
  }

  // ---- recording the golden file (run by hand, see the class comment) ----

  @TempDir
  Path directory;

  @Test
  @EnabledIfSystemProperty(named = "certmail.golden.write", matches = ".+")
  void recordGoldenJournal() throws Exception {
    TestNetwork network = new TestNetwork();
    ManualClock clock = new ManualClock(Instant.now());
    Config journal = JournalBackend.EMBEDDED.config(ConfigFactory.parseString(
        "certmail.journal.embedded.path = \"" + directory.resolve("journal") + "\""));
    Map<String, String> labels;
    try (EngineNode node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null)) {
      EmbeddedJournalSchema.ensureCreated(node.system);
      labels = new MailScenarios(node.engine, clock).deliveries().heldAndAccepted().failures().labels;
      // The last receipts between servers are events too: recorded once the journal passes the audit.
      EngineNode.awaitCondition(() -> JournalAudit.run(node.system,
              JournalBackend.EMBEDDED, network.trustStore(), clock.instant(), progress -> { }).result().violations()
          .isEmpty(), MailScenarios.WAIT, "the recorded journal passing the audit");
    }
    StringBuilder out = new StringBuilder("# certmail journal v1: persistence id, sequence nr, manifest, payload"
        + " (base64), written by CertmailEventSerializer. Never regenerate for a schema addition.\n");
    labels.forEach((scenario, label) -> out.append("# label ").append(scenario).append(' ').append(label).append('\n'));
    try (Connection connection = DriverManager.getConnection(
            journal.getString("pekko-persistence-jdbc.shared-databases.slick.db.url"), "sa",
            journal.getString("pekko-persistence-jdbc.shared-databases.slick.db.password"));
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT \"persistence_id\", \"sequence_number\","
            + " \"event_ser_manifest\", \"event_payload\" FROM \"event_journal\" WHERE \"persistence_id\" NOT LIKE"
            + " '/sharding/%' ORDER BY \"persistence_id\", \"sequence_number\"")) {
      while (rows.next()) {
        out.append(rows.getString(1)).append('\t').append(rows.getLong(2)).append('\t').append(rows.getString(3))
            .append('\t').append(Base64.getEncoder().encodeToString(rows.getBytes(4))).append('\n');
      }
    }
    Files.writeString(Path.of(System.getProperty("certmail.golden.write")), out.toString());
  }
}
