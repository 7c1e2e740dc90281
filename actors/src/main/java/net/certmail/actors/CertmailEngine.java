package net.certmail.actors;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import net.certmail.crypto.EnvelopeOpener;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.PrincipalNames;
import net.certmail.crypto.ReplayGuard;
import net.certmail.crypto.TrustStore;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.persistence.inbox.InboxIndex;
import net.certmail.persistence.reminders.ReminderStore;
import net.certmail.persistence.reminders.ReminderStores;
import net.certmail.protocol.Routing;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The protocol engine of one node: starts the sharded entities of every organisation (hosted
 * here for this node's organisations, proxies for the others) and offers what a principal's
 * owner may do: submit a mail and ask its status (A), look at, accept or refuse a delivery (B).
 *
 * <p>A private key is only ever given to this node for the principals of its own organisations;
 * entities of other organisations are never started here, only reached through proxies.
 */
public final class CertmailEngine {
  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final EnvelopeMetrics metrics;
  private final Duration askTimeout;
  private final InboxIndex inboxIndex;

  private final Set<String> organisations;

  private CertmailEngine(ActorSystem<?> system, ClusterSharding sharding, EnvelopeMetrics metrics,
                         Set<String> organisations, InboxIndex inboxIndex) {
    this.inboxIndex = inboxIndex;
    this.system = system;
    this.sharding = sharding;
    this.metrics = metrics;
    this.organisations = Set.copyOf(organisations);
    this.askTimeout = Duration.ofSeconds(15);
  }

  /**
   * @param hostedKeys private keys of the principals this node hosts: only those of its organisations
   * @param trustStore the network CA and every principal's certificate
   */
  public static CertmailEngine start(ActorSystem<?> system, EngineSettings settings, Map<String, PrincipalKeys> hostedKeys,
                                     TrustStore trustStore, Clock clock, MeterRegistry registry) {
    return start(system, settings, hostedKeys, trustStore, clock, registry, UnaryOperator.identity());
  }

  /**
   * As above, with the cluster's transport passed through {@code transport} first: chaos runs put a
   * {@link FaultyTransport} there; every other caller uses the overload without it.
   */
  public static CertmailEngine start(ActorSystem<?> system, EngineSettings settings, Map<String, PrincipalKeys> hostedKeys,
                                     TrustStore trustStore, Clock clock, MeterRegistry registry,
                                     UnaryOperator<Transport> transport) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Set<String> servers = new HashSet<>();
    Set<String> organisations = new HashSet<>();
    trustStore.certificates().forEach(certificate -> {
      String principal = PrincipalNames.principalOf(certificate);
      organisations.add(Routing.organisationOf(principal));
      if (!Routing.isMailbox(principal)) {
        servers.add(principal);
      }
    });
    EnvelopeMetrics metrics = new EnvelopeMetrics(registry);
    ReminderSettings reminderSettings = ReminderSettings.fromConfig(system.settings().config());
    ReminderMetrics reminderMetrics = new ReminderMetrics(registry);
    ReminderStores.NodeStores stores = ReminderStores.open(system);
    ReminderStore reminders = stores.reminders();
    InboxIndex inboxIndex = stores.inboxIndex();
    Postman postman = new Postman(sharding, hostedKeys, clock);
    ProtocolServices services = new ProtocolServices(clock, settings.timings(), settings.submissionPolicy(),
        new Routing(servers, settings.routes()), trustStore,
        new EnvelopeOpener(trustStore, new ReplayGuard(clock, settings.freshnessWindow(),
            settings.timings().clockSkew().multipliedBy(2))), transport.apply(postman), metrics,
        settings.mailboxPolicies(), hostedKeys, reminders, reminderMetrics, reminderSettings.stayAwake(), reminderSettings.linger(),
        inboxIndex);
    for (String organisation : organisations) {
      // Typed sharding runs the entities on nodes with the role and a proxy everywhere else.
      sharding.init(Entity.of(OutboxEntry.typeKey(organisation), context -> OutboxEntry.create(context, services))
          .withStopMessage(OutboxEntry.Stop.INSTANCE)
          .withRole(organisation));
      sharding.init(Entity.of(MailServer.typeKey(organisation), context -> MailServer.create(context, services))
          .withStopMessage(MailServer.Stop.INSTANCE)
          .withRole(organisation));
      sharding.init(Entity.of(InboxEntry.typeKey(organisation), context -> InboxEntry.create(context, services))
          .withStopMessage(InboxEntry.Stop.INSTANCE)
          .withRole(organisation));
    }
    // Each organisation's reminders are scanned by one singleton on its nodes (this node's roles).
    for (String organisation : Cluster.get(system).selfMember().getRoles()) {
      if (organisations.contains(organisation)) {
        ReminderScanner.init(system, organisation, reminders, reminderSettings, reminderMetrics, clock);
      }
    }
    return new CertmailEngine(system, sharding, metrics, organisations, inboxIndex);
  }

  /** The labels delivered to each mailbox hosted here (for listings: a page at a time). */
  public InboxIndex inboxIndex() {
    return inboxIndex;
  }

  public EnvelopeMetrics metrics() {
    return metrics;
  }

  /** A posts a mail; the answer comes at once (SUBMITTED), the COP follows asynchronously. */
  public CompletionStage<MailStatus> submit(String sender, String submissionId, String recipient, MailItem item,
                                            long deadlineMillis, Flavour flavour) {
    byte[] content = item.toByteArray();
    return outbox(sender, submissionId).ask(replyTo -> new OutboxEntry.Submit(recipient, content, deadlineMillis,
        flavour, Routing.domainOf(sender), replyTo), askTimeout);
  }

  public CompletionStage<MailStatus> status(String sender, String submissionId) {
    return outbox(sender, submissionId).ask(OutboxEntry.GetStatus::new, askTimeout);
  }

  /**
   * A long poll: the status once it is no longer {@code unchanged}, or after {@code wait} (or
   * sooner, when the entry goes to sleep) as it is. The caller compares and asks again.
   */
  public CompletionStage<MailStatus> statusChange(String sender, String submissionId, DeliveryStatus unchanged,
                                                  Duration wait) {
    return outbox(sender, submissionId).ask(
        replyTo -> new OutboxEntry.AwaitChange(unchanged, wait.toMillis(), replyTo), askTimeout.plus(wait));
  }

  public CompletionStage<InboxView> inboxEntry(String mailbox, String label) {
    return inbox(mailbox, label).ask(InboxEntry.GetEntry::new, askTimeout);
  }

  public CompletionStage<InboxView> accept(String mailbox, String label) {
    return inbox(mailbox, label).ask(InboxEntry.Accept::new, askTimeout);
  }

  public CompletionStage<InboxView> refuse(String mailbox, String label, String reason) {
    return inbox(mailbox, label).ask(replyTo -> new InboxEntry.Refuse(reason, replyTo), askTimeout);
  }

  /**
   * The public directory of an origin server hosted by this node's organisations: the evidence it
   * published about a label it issued (read-only; asking never changes the mail's state).
   */
  public CompletionStage<MailServer.PublicEvidence> publicEvidence(String server, String label) {
    return sharding.entityRefFor(MailServer.typeKey(server), EntityKind.entityId(server, label))
        .ask(MailServer.GetPublicEvidence::new, askTimeout);
  }

  private EntityRef<OutboxEntry.Command> outbox(String sender, String submissionId) {
    return sharding.entityRefFor(OutboxEntry.typeKey(sender), EntityKind.entityId(sender, submissionId));
  }

  private EntityRef<InboxEntry.Command> inbox(String mailbox, String label) {
    return sharding.entityRefFor(InboxEntry.typeKey(mailbox), EntityKind.entityId(mailbox, label));
  }

  /**
   * The entity ids (e.g. {@code beta.example|<label>}) this node runs right now, read from cluster
   * sharding's own state of every entity type: where a mail's entities live.
   */
  public CompletionStage<Set<String>> localEntityIds() {
    List<EntityTypeKey<?>> keys = new ArrayList<>();
    for (String organisation : organisations) {
      keys.add(OutboxEntry.typeKey(organisation));
      keys.add(MailServer.typeKey(organisation));
      keys.add(InboxEntry.typeKey(organisation));
    }
    CompletableFuture<Set<String>> all = CompletableFuture.completedFuture(new TreeSet<>());
    for (EntityTypeKey<?> key : keys) {
      CompletionStage<ShardRegion.CurrentShardRegionState> state = AskPattern.ask(sharding.shardState(),
          (ActorRef<ShardRegion.CurrentShardRegionState> replyTo) -> new GetShardRegionState(key, replyTo),
          askTimeout, system.scheduler());
      all = all.thenCombine(state, (ids, region) -> {
        region.getShards().forEach(shard -> ids.addAll(shard.getEntityIds()));
        return ids;
      });
    }
    return all;
  }

  public ActorSystem<?> system() {
    return system;
  }
}
