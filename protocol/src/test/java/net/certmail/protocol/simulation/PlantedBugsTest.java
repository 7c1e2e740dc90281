package net.certmail.protocol.simulation;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.certmail.proto.v1.Content;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.NonDeliveryRecorded;
import net.certmail.proto.v1.NotificationReceived;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Input;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.recipient.RecipientStage;
import net.certmail.protocol.server.ServerStage;
import org.junit.jupiter.api.Test;

/**
 * The simulator catches bugs: each test plants one in a role (a wrapper around the real machine,
 * through the simulator's decorator seam) and expects violations of the invariant that bug
 * breaks. Without the plant the same schedules find nothing (SimulatorTest).
 */
class PlantedBugsTest {
  static final long SEED = 77L;

  /** Delegates to the real machine; a subclass changes one decision. */
  abstract static class Planted implements RoleMachine<Object, Object> {
    final Addressee entity;
    final RoleMachine<Object, Object> inner;

    @SuppressWarnings("unchecked")
    Planted(Addressee entity, RoleMachine<?, ?> inner) {
      this.entity = entity;
      this.inner = (RoleMachine<Object, Object>) inner;
    }

    @Override
    public Object empty() {
      return inner.empty();
    }

    @Override
    public Object apply(Object stage, Object event) {
      return inner.apply(stage, event);
    }

    @Override
    public Decision<Object> decide(Object stage, Input input, long now) {
      return inner.decide(stage, input, now);
    }

    @Override
    public long dueAt(Object stage, long now) {
      return inner.dueAt(stage, now);
    }
  }

  private static SimulationSummary run(int schedules, Roles.Decorator plant) {
    return Simulator.run(SimulationOptions.of(SEED, schedules).withDecorator(plant).withMaxReports(1));
  }

  private static void assertCaught(SimulationSummary summary, Invariant invariant) {
    assertTrue(summary.violationsByInvariant().getOrDefault(invariant, 0L) > 0,
        () -> invariant + " not caught; found " + summary.violationsByInvariant());
    assertFalse(summary.reports().isEmpty(), "a violation comes with a report");
    assertTrue(summary.reports().get(0).lines().stream().anyMatch(line -> line.contains("re-run: ./certmail simulate")));
  }

  private static boolean isOrigin(Addressee entity) {
    return entity.role() == Addressee.Role.SERVER && entity.principal().equals(Labels.originOf(entity.key()));
  }

  @Test
  void anOriginThatTakesAnyNonDeliveryNoticeIsCaught() {
    // hole 1: P1 takes an off-route NDN as its verdict
    Roles.Decorator plant = (entity, machine, network) -> !isOrigin(entity) ? machine : new Planted(entity, machine) {
      @Override
      public Decision<Object> decide(Object stage, Input input, long now) {
        Decision<Object> decision = inner.decide(stage, input, now);
        if (input instanceof Input.Received received && received.message().hasNonDeliveryNotice()
            && decision.events().isEmpty()
            && (stage instanceof ServerStage.Forwarding || stage instanceof ServerStage.AwaitingVerdict)) {
          return Decision.persist(ServerEvent.newBuilder().setNonDeliveryRecorded(NonDeliveryRecorded.newBuilder()
              .setNdn(received.message().getNonDeliveryNotice().getNdn()).setAtMillis(now)).build());
        }
        return decision;
      }
    };
    assertCaught(run(1500, plant), Invariant.EVIDENCE_ENTITLED);
  }

  @Test
  void anOriginThatRecordsASecondVerdictIsCaught() {
    // hole 3: two verdicts for one label (here: every verdict recorded twice, the second one later)
    Roles.Decorator plant = (entity, machine, network) -> !isOrigin(entity) ? machine : new Planted(entity, machine) {
      @Override
      public Decision<Object> decide(Object stage, Input input, long now) {
        Decision<Object> decision = inner.decide(stage, input, now);
        List<Object> events = new java.util.ArrayList<>(decision.events());
        for (Object event : decision.events()) {
          if (Schedule.verdictOf((ServerEvent) event) != null) {
            events.add(event);
          }
        }
        return new Decision<>(events, decision.messages(), decision.ignored(), decision.problem());
      }
    };
    // ServerMachine.after refuses a verdict after a verdict: the entity (and the audit's replay)
    // fails on the second one, which the simulator reports as an exception in the machine.
    assertCaught(run(50, plant), Invariant.NO_EXCEPTION);
  }

  @Test
  void aDestinationThatHandsContentToWhoeverAsksIsCaught() {
    Roles.Decorator plant = (entity, machine, network) -> entity.role() != Addressee.Role.SERVER ? machine
        : new Planted(entity, machine) {
          @Override
          public Decision<Object> decide(Object stage, Input input, long now) {
            Decision<Object> decision = inner.decide(stage, input, now);
            if (input instanceof Input.Received received && received.message().hasContentFetch()
                && stage instanceof ServerStage.Carrying carrying && carrying.carriage().destination()
                && decision.messages().isEmpty()) {
              return Decision.send(new Outgoing(Addressee.recipient(received.from(), entity.key()),
                  ProtocolMessage.newBuilder().setContent(Content.newBuilder().setLabel(entity.key())
                      .setContent(carrying.carriage().mail().getContent())).build()));
            }
            return decision;
          }
        };
    assertCaught(run(400, plant), Invariant.NO_CONTENT_BEFORE_COD);
  }

  @Test
  void aSenderThatIgnoresItsVerdictsIsCaught() {
    Roles.Decorator plant = (entity, machine, network) -> entity.role() != Addressee.Role.SENDER ? machine
        : new Planted(entity, machine) {
          @Override
          public Decision<Object> decide(Object stage, Input input, long now) {
            if (input instanceof Input.Received received && (received.message().hasDeliveryReport()
                || received.message().hasNonDeliveryNotice())) {
              return Decision.none();
            }
            return inner.decide(stage, input, now);
          }
        };
    assertCaught(run(100, plant), Invariant.VERDICT_REACHES_SENDER);
  }

  @Test
  void aRecipientThatTakesAnyNotificationIsCaught() {
    // the label lock taken by whoever notifies first
    Roles.Decorator plant = (entity, machine, network) -> entity.role() != Addressee.Role.RECIPIENT ? machine
        : new Planted(entity, machine) {
          @Override
          public Decision<Object> decide(Object stage, Input input, long now) {
            Decision<Object> decision = inner.decide(stage, input, now);
            if (input instanceof Input.Received received && stage instanceof RecipientStage.Empty
                && decision.events().isEmpty()
                && (received.message().hasNotification() || received.message().hasDelivery())) {
              return Decision.persist(InboxEvent.newBuilder().setNotificationReceived(NotificationReceived.newBuilder()
                  .setLabel(entity.key()).setAgent(received.from()).setReceivedAtMillis(now)).build());
            }
            return decision;
          }
        };
    assertCaught(run(400, plant), Invariant.ONLY_HOME_SERVER_NOTIFIES);
  }

  @Test
  void aRelayThatNeverRestsIsCaught() {
    Roles.Decorator plant = (entity, machine, network) -> entity.role() != Addressee.Role.SERVER ? machine
        : new Planted(entity, machine) {
          @Override
          public long dueAt(Object stage, long now) {
            long due = inner.dueAt(stage, now);
            return due == NEVER && stage instanceof ServerStage.Settled ? now + 60_000 : due;
          }
        };
    assertCaught(run(50, plant), Invariant.QUIESCENCE);
  }

  @Test
  void aMachineThatThrowsIsCaught() {
    Roles.Decorator plant = (entity, machine, network) -> entity.role() != Addressee.Role.SERVER ? machine
        : new Planted(entity, machine) {
          @Override
          public Decision<Object> decide(Object stage, Input input, long now) {
            if (input instanceof Input.Received received && received.message().hasRelayAck()
                && stage instanceof ServerStage.Settled) {
              throw new IllegalStateException("a late ACK");
            }
            return inner.decide(stage, input, now);
          }
        };
    assertCaught(run(200, plant), Invariant.NO_EXCEPTION);
  }

  @Test
  void aDestinationThatForgetsItsCodIsCaught() {
    // hole 5: B signed, Pn accepted the COD, but the content never reaches B
    Roles.Decorator plant = (entity, machine, network) -> entity.role() != Addressee.Role.SERVER ? machine
        : new Planted(entity, machine) {
          @Override
          public Decision<Object> decide(Object stage, Input input, long now) {
            Decision<Object> decision = inner.decide(stage, input, now);
            List<Outgoing> kept = decision.messages().stream().filter(out -> !out.message().hasContent()).toList();
            return new Decision<>(decision.events(), kept, decision.ignored(), decision.problem());
          }
        };
    assertCaught(run(200, plant), Invariant.COD_MEANS_CONTENT);
  }
}
