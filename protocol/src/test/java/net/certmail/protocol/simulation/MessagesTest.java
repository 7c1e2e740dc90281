package net.certmail.protocol.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import org.junit.jupiter.api.Test;

/**
 * Messages reads labels and evidence field by field for speed; reflection over the descriptors is
 * the reference. Every message and event of a few hundred schedules reads the same both ways, so
 * an evidence field added to a message or event cannot slip past the invariants unnoticed.
 */
class MessagesTest {

  @Test
  void fieldByFieldReadingMatchesReflectionOnEveryMessageAndEvent() {
    SimulationOptions options = SimulationOptions.of(5L, 200);
    Keyring keyring = new FastKeyring(Cast.principals());
    int messages = 0;
    int events = 0;
    for (int index = 0; index < 200; index++) {
      Schedule schedule = Simulator.runOne(options, keyring, index, null, true);
      for (Step step : schedule.trace()) {
        if (step.message() != null) {
          assertEquals(Messages.labelByReflection(step.message()), Messages.labelOf(step.message()));
          assertEquals(Messages.evidenceByReflection(step.message()), Messages.evidenceIn(step.message()));
          messages++;
        }
      }
      for (Instance instance : schedule.instances.values()) {
        for (Object event : instance.events) {
          assertEquals(Messages.evidenceByReflection((Message) event), Messages.evidenceIn((Message) event),
              () -> Messages.caseOf(event));
          events++;
        }
      }
    }
    assertTrue(messages > 10_000 && events > 4_000, messages + " messages, " + events + " events");
  }
}
