package net.certmail.protocol.simulation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.MailSubmitted;
import net.certmail.proto.v1.NotificationReceived;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Ignored;
import net.certmail.protocol.Input;
import net.certmail.protocol.Labels;
import net.certmail.protocol.MailFacts;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Timings;

/**
 * One schedule: the whole network run in simulated true time from one seed. A priority queue
 * holds what happens next (deliveries, wake-ups, owners' commands, dishonest acts, crashes),
 * ordered by true time and then by the order it was scheduled, so one seed gives one history.
 *
 * <p>Each principal's clock is true time plus an offset within the skew bound; a machine is
 * woken at its {@code dueAt}, converted to true time through that offset. The network delays each
 * message by up to max-transit, drops, duplicates and (by random delays) reorders; in a fair
 * schedule a link never loses two messages of one kind in a row. Steps may crash: before persisting (the input
 * is lost), after persisting but before sending (the messages are lost) or after sending; the
 * instance is then rebuilt from its events and woken, as the entity shell does on recovery.
 */
final class Schedule {
  private static final int STEP_LIMIT = 200_000;

  private enum Crash { NONE, BEFORE_PERSIST, AFTER_PERSIST, AFTER_SEND }

  private sealed interface Item permits Delivery, Wake, Submit, Owner, Rogue, PrincipalCrash {}

  private record Delivery(String from, Outgoing out, boolean duplicate) implements Item {}

  private record Wake(Addressee entity, long generation) implements Item {}

  private record Submit(MailPlan plan, boolean again) implements Item {}

  private record Owner(Addressee entity, Input command, String what) implements Item {}

  private record Rogue(int act, long seed) implements Item {}

  /** A principal's node crashes (or comes back after an outage): every instance is rebuilt from its events. */
  private record PrincipalCrash(String principal, boolean afterOutage) implements Item {}

  /** A principal down from {@code start} to {@code end}: what reaches it is lost, its timers wait for the restart. */
  private record Outage(String principal, long start, long end) {}

  private record Scheduled(long at, long order, Item item) {}

  private record Partition(String from, String to, boolean bothWays, long start, long end) {
    boolean cuts(String sender, String receiver, long at) {
      if (at < start || at >= end) {
        return false;
      }
      return from.equals(sender) && to.equals(receiver) || bothWays && from.equals(receiver) && to.equals(sender);
    }
  }

  final int index;
  final long seed;
  final Shape shape;
  final long epoch;
  final Timings timings;
  final SimulatedNetwork network;
  final List<MailPlan> plans = new ArrayList<>();
  final Map<Addressee, Instance> instances = new LinkedHashMap<>();
  final List<Violation> violations = new ArrayList<>();
  final Map<String, Long> ignoredByReason = new LinkedHashMap<>();
  final List<String> acts = new ArrayList<>();
  /** When (A's clock) each sender instance accepted its verdict. */
  final Map<Addressee, Long> verdictAcceptedAt = new HashMap<>();
  final long horizon;
  long steps;

  private final Roles roles;
  private final Roles.Decorator decorator;
  private final boolean keepTrace;
  private final List<Step> trace = new ArrayList<>();
  private final Map<String, Long> offsets = new HashMap<>();
  private final PriorityQueue<Scheduled> queue = new PriorityQueue<>((a, b) ->
      a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.order, b.order));
  private final Set<String> lastDropped = new HashSet<>();
  private final List<Partition> partitions = new ArrayList<>();
  private final List<Outage> outages = new ArrayList<>();
  private final Map<String, MailFacts> genuineFacts = new HashMap<>();
  private final Adversary adversary;
  private final SplittableRandom netRandom;
  private final SplittableRandom crashRandom;
  private final SplittableRandom ownerRandom;
  private long order;
  private long now;
  private boolean aborted;

  Schedule(int index, long seed, Shape givenShape, SimulationOptions options, Keyring keyring, boolean keepTrace) {
    this.index = index;
    this.seed = seed;
    this.epoch = SimulationOptions.EPOCH;
    this.timings = options.timings();
    this.keepTrace = keepTrace;
    this.decorator = options.decorator();
    SplittableRandom root = new SplittableRandom(seed);
    SplittableRandom shapeRandom = root.split();
    SplittableRandom planRandom = root.split();
    SplittableRandom worldRandom = root.split();
    this.netRandom = root.split();
    this.crashRandom = root.split();
    this.ownerRandom = root.split();
    SplittableRandom rogueRandom = root.split();
    SplittableRandom timeRandom = root.split();
    Shape drawn = Shape.draw(shapeRandom, options.maxMailsPerSchedule(), options.beyondBoundsPercent());
    this.shape = givenShape != null ? givenShape : drawn;

    Map<String, OwnerBehaviour> owners = new LinkedHashMap<>();
    for (String mailbox : Cast.MAILBOXES) {
      owners.put(mailbox, OwnerBehaviour.values()[worldRandom.nextInt(OwnerBehaviour.values().length)]);
    }
    this.network = new SimulatedNetwork(timings, options.policy(), Cast.routing(worldRandom), keyring, owners);
    long skewBound = timings.clockSkew().toMillis() * shape.skewPercent() / 100;
    for (String principal : Cast.principals()) {
      offsets.put(principal, worldRandom.nextLong(-skewBound, skewBound + 1));
    }
    for (int i = 0; i < shape.mails(); i++) {
      plans.add(drawPlan(planRandom, i, options));
    }
    this.roles = options.roles().create(network);
    this.adversary = new Adversary(network, plans);

    long handshake = timings.handshakeMillis();
    long lastDeadline = plans.stream().mapToLong(p -> p.submitAt() + p.leadMillis()).max().orElse(epoch);
    long slack = 2 * skewBound + timings.maxTransit().toMillis() * shape.transitPercent() / 100;
    this.horizon = lastDeadline + timings.grace().toMillis() + 4 * handshake + slack;

    for (MailPlan plan : plans) {
      schedule(plan.submitAt(), new Submit(plan, false));
      if (plan.submittedTwice()) {
        schedule(plan.submitAt() + 1 + timeRandom.nextLong(3_000), new Submit(plan, true));
      }
    }
    long actsEnd = horizon - 3 * handshake;
    for (int i = 0; i < Shape.MAX_DISHONEST_ACTS; i++) {
      long at = epoch + timeRandom.nextLong(actsEnd - epoch);
      long actSeed = rogueRandom.nextLong();
      if (shape.dishonestAct(i)) {
        schedule(at, new Rogue(i, actSeed));
      }
    }
    List<String> honest = Cast.principals().stream().filter(Cast::isHonest).toList();
    for (int i = 0; i < shape.principalCrashes(); i++) {
      schedule(epoch + timeRandom.nextLong(horizon - 2 * handshake - epoch),
          new PrincipalCrash(honest.get(timeRandom.nextInt(honest.size())), false));
    }
    for (int i = 0; i < shape.outages(); i++) {
      // servers mostly: an origin down across T is the case that ends in LOST
      String principal = timeRandom.nextInt(4) == 0 ? honest.get(timeRandom.nextInt(honest.size()))
          : Cast.honestServers().get(timeRandom.nextInt(Cast.honestServers().size()));
      long start = epoch + timeRandom.nextLong(Math.max(1, lastDeadline + timings.grace().toMillis() - epoch));
      long end = Math.min(start + 5_000 + timeRandom.nextLong(60_000), horizon - 3 * handshake);
      if (end > start) {
        outages.add(new Outage(principal, start, end));
        schedule(end, new PrincipalCrash(principal, true));
      }
    }
    List<String> organisations = new ArrayList<>(Cast.honestServers());
    for (int i = 0; i < shape.partitions(); i++) {
      String from = organisations.get(timeRandom.nextInt(organisations.size()));
      String to = organisations.get(timeRandom.nextInt(organisations.size()));
      long start = epoch + timeRandom.nextLong(Math.max(1, lastDeadline - epoch));
      long length = 1_000 + timeRandom.nextLong(3 * timings.relayTimeout().toMillis());
      partitions.add(new Partition(from, to, timeRandom.nextBoolean(), start, start + length));
    }
  }

  private MailPlan drawPlan(SplittableRandom random, int index, SimulationOptions options) {
    String sender = Cast.MAILBOXES.get(random.nextInt(Cast.MAILBOXES.size()));
    int where = random.nextInt(100);
    // a few mails go to the dishonest mailbox: it may acknowledge holding them wrongly, or hold and never decide
    String recipient = where < 86 ? Cast.MAILBOXES.get(random.nextInt(Cast.MAILBOXES.size()))
        : where < 90 ? Cast.ROGUE_MAILBOX : where < 95 ? Cast.UNKNOWN_MAILBOX : Cast.UNKNOWN_DOMAIN_MAILBOX;
    byte[] content = new byte[1 + random.nextInt(200)];
    random.nextBytes(content);
    Flavour flavour = new Flavour[] {Flavour.CEM, Flavour.NSR, Flavour.IP}[random.nextInt(3)];
    long submitAt = epoch + random.nextLong(10_000);
    long minLead = options.policy().minLeadTime().toMillis();
    long lead = random.nextInt(100) < 8 ? minLead / 2 + random.nextLong(minLead / 2)
        : minLead + random.nextLong(3 * minLead);
    return new MailPlan(index, sender, "mail-" + index, recipient, content, flavour, submitAt, lead,
        random.nextInt(10) == 0);
  }

  // --- running ------------------------------------------------------------------------------

  void run() {
    while (!queue.isEmpty() && !aborted) {
      Scheduled next = queue.poll();
      if (next.at > horizon) {
        break;
      }
      now = next.at;
      handle(next.item);
    }
    now = horizon;
  }

  private void handle(Item item) {
    if (item instanceof Delivery delivery) {
      deliver(delivery);
    } else if (item instanceof Wake wake) {
      Instance instance = instances.get(wake.entity());
      if (instance != null && instance.timerGeneration == wake.generation() && !isDown(wake.entity().principal())) {
        step(instance, Input.WakeUp.INSTANCE, null, null, "wake-up", true);
      }
    } else if (item instanceof Submit submit) {
      MailPlan plan = submit.plan();
      if (isDown(plan.sender())) {
        schedule(downUntil(plan.sender()), submit); // the owner tries again when the node is back
        return;
      }
      Instance instance = instance(Addressee.sender(plan.sender(), plan.submissionId()));
      // the owner chose T when writing the mail: a node that was down delays the command, not T
      long deadline = plan.submitAt() + offsetOf(plan.sender()) + plan.leadMillis();
      step(instance, roles.submit(plan, deadline), null, null,
          (submit.again() ? "owner submits again " : "owner submits ") + plan.flavour() + " to " + plan.recipient()
              + ", T in " + (deadline - localTime(plan.sender())) + "ms", true);
    } else if (item instanceof Owner owner) {
      if (isDown(owner.entity().principal())) {
        schedule(downUntil(owner.entity().principal()), owner);
        return;
      }
      step(instances.get(owner.entity()), owner.command(), null, null, owner.what(), true);
    } else if (item instanceof Rogue rogue) {
      List<String> what = new ArrayList<>();
      List<Adversary.Sent> sent = adversary.act(now, new SplittableRandom(rogue.seed()), what);
      acts.addAll(what);
      trace(() -> new Step(now, now, null, null, "dishonest act " + rogue.act() + ": " + String.join(", ", what), null, null,
          sent.stream().map(Adversary.Sent::out).toList(), null, null));
      for (Adversary.Sent message : sent) {
        send(message.from(), message.out(), false);
      }
    } else if (item instanceof PrincipalCrash crash) {
      if (!crash.afterOutage() && isDown(crash.principal())) {
        return;
      }
      trace(() -> new Step(now, now, null, null, (crash.afterOutage() ? "restart of " : "crash of ") + crash.principal()
          + ": every instance rebuilt from its events", null, null, null, null, null));
      for (Instance instance : List.copyOf(instances.values())) {
        if (instance.principal().equals(crash.principal())) {
          recover(instance);
        }
      }
    }
  }

  private void deliver(Delivery delivery) {
    Addressee to = delivery.out().to();
    if (Cast.isRogue(to.principal())) {
      return; // the adversary saw it when it was sent
    }
    if (isDown(to.principal())) {
      trace(() -> new Step(now, now, delivery.from(), to, "lost (" + to.principal() + " is down)", delivery.out().message(),
          null, null, null, null));
      return;
    }
    boolean serverEntity = to.role() == Addressee.Role.SERVER;
    if (!Cast.isHonest(to.principal()) || serverEntity == Routing.isMailbox(to.principal())) {
      trace(() -> new Step(now, now, delivery.from(), to, "undeliverable", delivery.out().message(), null, null, null,
          "no such entity"));
      return;
    }
    step(instance(to), new Input.Received(delivery.from(), delivery.out().message()), delivery.from(),
        delivery.out().message(), delivery.duplicate() ? "duplicate" : "receives", true);
  }

  private Instance instance(Addressee entity) {
    return instances.computeIfAbsent(entity, e -> new Instance(e, decorator.decorate(e, roles.machine(e), network)));
  }

  long localTime(String principal) {
    return now + offsets.getOrDefault(principal, 0L);
  }

  private void step(Instance instance, Input input, String from, ProtocolMessage message, String what,
                    boolean mayCrash) {
    if (++steps > STEP_LIMIT) {
      violate(Invariant.SCHEDULE_ENDS, instance.entity.key(), "more than " + STEP_LIMIT + " steps: "
          + Step.entity(instance.entity) + " keeps stepping");
      aborted = true;
      return;
    }
    long local = localTime(instance.principal());
    Decision<Object> decision;
    try {
      decision = instance.machine.decide(instance.stage, input, local);
    } catch (RuntimeException e) {
      thrown(instance, "decide(" + what + ")", e);
      return;
    }
    Crash crash = mayCrash ? drawCrash(instance, input, from, decision) : Crash.NONE;
    if (crash == Crash.BEFORE_PERSIST) {
      trace(() -> new Step(now, local, from, instance.entity, what, message, List.of(), List.of(), decision.ignored(),
          "CRASH before persisting"));
      recover(instance);
      return;
    }
    for (Object event : decision.events()) {
      instance.events.add(event);
      try {
        instance.stage = instance.machine.apply(instance.stage, event);
      } catch (RuntimeException e) {
        thrown(instance, "apply(" + Messages.caseOf(event) + ")", e);
        return;
      }
    }
    for (Ignored ignored : decision.ignored()) {
      ignoredByReason.merge(ignored.reason(), 1L, Long::sum);
    }
    trace(() -> new Step(now, local, from, instance.entity, what, message, decision.events(),
        crash == Crash.AFTER_PERSIST ? List.of() : decision.messages(), decision.ignored(), note(decision, crash)));
    afterPersist(instance, decision.events(), local);
    if (crash == Crash.AFTER_PERSIST) {
      recover(instance);
      return;
    }
    for (Outgoing out : decision.messages()) {
      checkHonestSend(instance, out);
      send(instance.principal(), out, true);
    }
    if (crash == Crash.AFTER_SEND) {
      trace(() -> new Step(now, local, null, instance.entity, "CRASH after sending", null, null, null, null, null));
      recover(instance);
      return;
    }
    arm(instance, local);
  }

  private static String note(Decision<Object> decision, Crash crash) {
    String note = decision.problem() == null ? null : "owner told: " + decision.problem();
    if (crash == Crash.AFTER_PERSIST) {
      note = (note == null ? "" : note + "; ") + "CRASH after persisting, before sending";
    }
    return note;
  }

  private Crash drawCrash(Instance instance, Input input, String from, Decision<Object> decision) {
    if (shape.crashPermille() == 0 || crashRandom.nextInt(1000) >= shape.crashPermille()) {
      return Crash.NONE;
    }
    Crash crash = Crash.values()[1 + crashRandom.nextInt(3)];
    boolean ownerCommand = !(input instanceof Input.Received) && input != Input.WakeUp.INSTANCE;
    if (crash == Crash.BEFORE_PERSIST && ownerCommand) {
      crash = Crash.AFTER_SEND; // an owner whose command failed repeats it; model the crash after it
    }
    if (shape.fair()) {
      // a crash loses messages as the network does: never twice in a row on one link
      if (crash == Crash.BEFORE_PERSIST && input instanceof Input.Received) {
        String link = link(from, instance.entity, ((Input.Received) input).message());
        if (!lastDropped.add(link)) {
          return Crash.NONE;
        }
      }
      if (crash == Crash.AFTER_PERSIST) {
        for (Outgoing out : decision.messages()) {
          if (lastDropped.contains(link(instance.principal(), out.to(), out.message()))) {
            return Crash.NONE;
          }
        }
        for (Outgoing out : decision.messages()) {
          lastDropped.add(link(instance.principal(), out.to(), out.message()));
        }
      }
    }
    return crash;
  }

  /** What an entity shell does after a crash: fold the persisted events, then wake the role. */
  private void recover(Instance instance) {
    instance.timerGeneration++;
    instance.dueAtTrue = RoleMachine.NEVER;
    try {
      instance.rebuild();
    } catch (RuntimeException e) {
      thrown(instance, "apply on recovery", e);
      return;
    }
    step(instance, Input.WakeUp.INSTANCE, null, null, "recovered, wake-up", false);
  }

  private void arm(Instance instance, long local) {
    long due;
    try {
      due = instance.machine.dueAt(instance.stage, local);
    } catch (RuntimeException e) {
      thrown(instance, "dueAt", e);
      return;
    }
    instance.timerGeneration++;
    if (due == RoleMachine.NEVER) {
      instance.dueAtTrue = RoleMachine.NEVER;
      return;
    }
    long at = Math.max(now + 1, due - offsets.getOrDefault(instance.principal(), 0L));
    instance.dueAtTrue = at;
    schedule(at, new Wake(instance.entity, instance.timerGeneration));
  }

  private void send(String from, Outgoing out, boolean honest) {
    if (honest) {
      adversary.observe(from, out);
    }
    String link = link(from, out.to(), out.message());
    String fromOrganisation = Routing.organisationOf(from);
    String toOrganisation = Routing.organisationOf(out.to().principal());
    for (Partition partition : partitions) {
      if (partition.cuts(fromOrganisation, toOrganisation, now)) {
        trace(() -> new Step(now, now, from, out.to(), "lost (link down)", out.message(), null, null, null, null));
        return;
      }
    }
    boolean drop = shape.dropPercent() > 0 && netRandom.nextInt(100) < shape.dropPercent();
    if (drop && shape.fair() && lastDropped.contains(link)) {
      drop = false;
    }
    if (drop) {
      lastDropped.add(link);
      trace(() -> new Step(now, now, from, out.to(), "lost", out.message(), null, null, null, null));
      return;
    }
    lastDropped.remove(link);
    schedule(now + transitDelay(), new Delivery(from, out, false));
    if (shape.duplicatePercent() > 0 && netRandom.nextInt(100) < shape.duplicatePercent()) {
      schedule(now + transitDelay(), new Delivery(from, out, true));
    }
  }

  private boolean isDown(String principal) {
    for (Outage outage : outages) {
      if (outage.principal().equals(principal) && now >= outage.start() && now < outage.end()) {
        return true;
      }
    }
    return false;
  }

  private long downUntil(String principal) {
    long until = now;
    for (Outage outage : outages) {
      if (outage.principal().equals(principal) && now >= outage.start() && now < outage.end()) {
        until = Math.max(until, outage.end());
      }
    }
    return until;
  }

  private long transitDelay() {
    return netRandom.nextLong(timings.maxTransit().toMillis() * shape.transitPercent() / 100 + 1);
  }

  /**
   * What "lost once, then resent and arrives" is counted on within bounds: one kind of message
   * between two entities (a relay and its resends, an ACK and the ones answering later resends).
   */
  private static String link(String from, Addressee to, ProtocolMessage message) {
    return from + ">" + to.role() + ":" + to.principal() + ":" + to.key() + "#" + message.getMessageCase();
  }

  private void schedule(long at, Item item) {
    queue.add(new Scheduled(at, order++, item));
  }

  /** Steps are built only when the trace is kept: a run without one formats nothing. */
  private void trace(Supplier<Step> step) {
    if (keepTrace) {
      trace.add(step.get());
    }
  }

  List<Step> trace() {
    return trace;
  }

  // --- checks made as the schedule runs -----------------------------------------------------

  void violate(Invariant invariant, String label, String detail) {
    Violation violation = new Violation(invariant, label, detail);
    if (!violations.contains(violation)) {
      violations.add(violation);
    }
  }

  private void thrown(Instance instance, String where, RuntimeException e) {
    violate(Invariant.NO_EXCEPTION, instance.entity.key(), Step.entity(instance.entity) + " threw in " + where + ": "
        + e);
    trace(() -> new Step(now, localTime(instance.principal()), null, instance.entity, "EXCEPTION in " + where, null, null,
        null, null, e.toString()));
    instance.timerGeneration++;
    instance.dueAtTrue = RoleMachine.NEVER;
  }

  private void afterPersist(Instance instance, List<Object> events, long local) {
    for (Object event : events) {
      if (event instanceof OutboxEvent outbox) {
        afterOutboxEvent(instance, outbox, local);
      } else if (event instanceof ServerEvent server) {
        afterServerEvent(instance, server, local);
      } else if (event instanceof InboxEvent inbox) {
        afterInboxEvent(instance, inbox, local);
      }
    }
  }

  private void afterOutboxEvent(Instance instance, OutboxEvent event, long local) {
    if (event.hasDeliveryConfirmed() || event.hasNonDeliveryNotified()) {
      verdictAcceptedAt.putIfAbsent(instance.entity, local);
      MailSubmitted submitted = submittedOf(instance);
      if (submitted != null && local >= timings.lostAfter(submitted.getDeadlineMillis())) {
        violate(Invariant.VERDICT_IN_TIME, labelOfSender(instance), "A accepted its verdict at " + local
            + ", at or after T + grace = " + timings.lostAfter(submitted.getDeadlineMillis()));
      }
    }
  }

  private void afterServerEvent(Instance instance, ServerEvent event, long local) {
    String label = instance.entity.key();
    if (event.hasSubmissionAccepted() && instance.eventsOf(ServerEvent.class).stream()
        .filter(ServerEvent::hasSubmissionAccepted).count() > 1) {
      violate(Invariant.LABEL_ISSUED_ONCE, label, instance.principal() + " issued a second COP for the label");
    }
    if (instance.principal().equals(Labels.originOf(label)) && verdictOf(event) != null) {
      long verdicts = instance.eventsOf(ServerEvent.class).stream().filter(e -> verdictOf(e) != null).count();
      if (verdicts > 1) {
        violate(Invariant.ONE_VERDICT, label, instance.principal() + " recorded verdict number " + verdicts + ": "
            + Messages.caseOf(event));
      }
      MailFacts facts = facts(label);
      if (facts != null && local >= facts.deadlineMillis()) {
        violate(Invariant.VERDICT_IN_TIME, label, instance.principal() + " recorded its verdict at " + local
            + ", at or after T = " + facts.deadlineMillis());
      }
    }
  }

  private void afterInboxEvent(Instance instance, InboxEvent event, long local) {
    String label = instance.entity.key();
    String mailbox = instance.principal();
    if (event.hasNotificationReceived()) {
      NotificationReceived notification = event.getNotificationReceived();
      if (!notification.getAgent().equals(Routing.domainOf(mailbox))) {
        violate(Invariant.ONLY_HOME_SERVER_NOTIFIES, label, mailbox + " took a notification from "
            + notification.getAgent());
      }
      if (!instance.ownerPrompted) {
        instance.ownerPrompted = true;
        promptOwner(instance, notification, local);
      }
    }
    if (event.hasContentRetrieved()) {
      Flavour flavour = instance.eventsOf(InboxEvent.class).stream().filter(InboxEvent::hasNotificationReceived)
          .map(e -> e.getNotificationReceived().getFlavour()).findFirst().orElse(Flavour.FLAVOUR_UNSPECIFIED);
      boolean signed = instance.eventsOf(InboxEvent.class).stream().anyMatch(InboxEvent::hasReceiptSigned);
      if (flavour != Flavour.CEM && !signed) {
        violate(Invariant.NO_CONTENT_BEFORE_COD, label, mailbox + " retrieved the content of a " + flavour
            + " mail without having signed a COD");
      }
    }
  }

  /** The recipient's owner, told of a mail, answers as its behaviour says (possibly after the told deadline). */
  private void promptOwner(Instance instance, NotificationReceived notification, long local) {
    OwnerBehaviour behaviour = network.ownerOf(instance.principal());
    long window = Math.max(1, notification.getCodDeadlineMillis() - local);
    long quick = ownerRandom.nextLong(300);
    long held = ownerRandom.nextLong(window * 13 / 10 + 1);
    Input command;
    long delay;
    switch (behaviour) {
      case AUTO_ACCEPT -> {
        if (roles.answersByPolicy(instance.principal())) {
          return;
        }
        command = roles.accept();
        delay = quick;
      }
      case HOLD_THEN_ACCEPT -> {
        command = roles.accept();
        delay = held;
      }
      case HOLD_THEN_REFUSE -> {
        command = roles.refuse("not for me");
        delay = held;
      }
      case REFUSE -> {
        if (roles.answersByPolicy(instance.principal())) {
          return;
        }
        command = roles.refuse("unwanted");
        delay = quick;
      }
      default -> {
        return;
      }
    }
    String what = "owner " + (behaviour == OwnerBehaviour.HOLD_THEN_REFUSE || behaviour == OwnerBehaviour.REFUSE
        ? "refuses" : "accepts") + " (" + behaviour + ", " + (local + delay > notification.getCodDeadlineMillis()
        ? "after" : "before") + " the told deadline)";
    long at = Math.min(now + delay, horizon - 2 * timings.handshakeMillis());
    schedule(Math.max(now, at), new Owner(instance.entity, command, what));
    if (ownerRandom.nextInt(10) == 0) {
      schedule(Math.max(now, at) + 1 + ownerRandom.nextLong(2_000), new Owner(instance.entity, command, what + " again"));
    }
  }

  /** What an honest server hands out: content only to the COP's recipient, in NSR and IP only after B's COD. */
  private void checkHonestSend(Instance instance, Outgoing out) {
    ProtocolMessage message = out.message();
    if (!message.hasContent() && !message.hasDelivery()) {
      return;
    }
    String label = Messages.labelOf(message);
    MailFacts facts = facts(label);
    String where = instance.principal() + " sent " + Messages.caseOf(message) + " to " + Step.entity(out.to());
    if (facts == null) {
      violate(Invariant.NO_CONTENT_BEFORE_COD, label, where + " for a label its origin never issued");
      return;
    }
    if (!instance.principal().equals(facts.destination()) || out.to().role() != Addressee.Role.RECIPIENT
        || !out.to().principal().equals(facts.recipient())) {
      violate(Invariant.NO_CONTENT_BEFORE_COD, label, where + ", but the COP's recipient is " + facts.recipient()
          + " at " + facts.destination());
      return;
    }
    if (message.hasDelivery() && facts.flavour() != Flavour.CEM) {
      violate(Invariant.NO_CONTENT_BEFORE_COD, label, where + " with the content of a " + facts.flavour() + " mail");
    }
    if (message.hasContent() && facts.flavour() != Flavour.CEM) {
      Instance recipient = instances.get(Addressee.recipient(facts.recipient(), label));
      // a dishonest recipient keeps no journal: then the COD its server accepted is the proof it signed
      boolean signed = Cast.isRogue(facts.recipient())
          ? instance.eventsOf(ServerEvent.class).stream().anyMatch(ServerEvent::hasCodAccepted)
          : recipient != null && recipient.eventsOf(InboxEvent.class).stream().anyMatch(InboxEvent::hasReceiptSigned);
      if (!signed) {
        violate(Invariant.NO_CONTENT_BEFORE_COD, label, where + " before " + facts.recipient() + " signed a COD");
      }
    }
  }

  // --- what the invariants read -------------------------------------------------------------

  /** The facts of the COP the label's (honest) origin issued, or null if it issued none. */
  MailFacts facts(String label) {
    MailFacts known = genuineFacts.get(label);
    if (known != null) {
      return known;
    }
    EvidenceStatement cop = genuineCop(label);
    if (cop == null) {
      return null;
    }
    MailFacts facts = MailFacts.of(cop);
    genuineFacts.put(label, facts);
    return facts;
  }

  EvidenceStatement genuineCop(String label) {
    String origin = Labels.originOf(label);
    if (!Cast.isHonest(origin) || Routing.isMailbox(origin)) {
      return null;
    }
    Instance p1 = instances.get(Addressee.server(origin, label));
    if (p1 == null) {
      return null;
    }
    for (ServerEvent event : p1.eventsOf(ServerEvent.class)) {
      if (event.hasSubmissionAccepted()) {
        return Messages.statementOf(event.getSubmissionAccepted().getMail().getCop());
      }
    }
    return null;
  }

  /**
   * The verdict an event of the label's origin P1 records: the ROD it signed, or the NDN it took
   * from downstream, issued itself, or issued when it is also Pn and B refused; null for any
   * other event.
   */
  static SignedEvidence verdictOf(ServerEvent event) {
    return switch (event.getEventCase()) {
      case DELIVERY_CERTIFIED -> event.getDeliveryCertified().getRod();
      case NON_DELIVERY_RECORDED -> event.getNonDeliveryRecorded().getNdn();
      case NON_DELIVERY_ISSUED -> event.getNonDeliveryIssued().getNdn();
      case REFUSAL_ACCEPTED -> event.getRefusalAccepted().getNdn();
      default -> null;
    };
  }

  /** P1's verdicts for the label (its ROD or NDN items), in the order it recorded them. */
  List<SignedEvidence> p1Verdicts(String label) {
    Instance p1 = instances.get(Addressee.server(Labels.originOf(label), label));
    List<SignedEvidence> verdicts = new ArrayList<>();
    if (p1 != null) {
      for (ServerEvent event : p1.eventsOf(ServerEvent.class)) {
        SignedEvidence verdict = verdictOf(event);
        if (verdict != null) {
          verdicts.add(verdict);
        }
      }
    }
    return verdicts;
  }

  static MailSubmitted submittedOf(Instance sender) {
    for (OutboxEvent event : sender.eventsOf(OutboxEvent.class)) {
      if (event.hasMailSubmitted()) {
        return event.getMailSubmitted();
      }
    }
    return null;
  }

  static String labelOfSender(Instance sender) {
    for (OutboxEvent event : sender.eventsOf(OutboxEvent.class)) {
      if (event.hasPostingCertified()) {
        return event.getPostingCertified().getLabel();
      }
    }
    MailSubmitted submitted = submittedOf(sender);
    return submitted == null ? sender.entity.key()
        : Labels.forSubmission(submitted.getOriginServer(), submitted.getSender(), submitted.getSubmissionId());
  }

  long offsetOf(String principal) {
    return offsets.getOrDefault(principal, 0L);
  }
}
