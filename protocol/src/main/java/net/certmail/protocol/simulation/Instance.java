package net.certmail.protocol.simulation;

import java.util.ArrayList;
import java.util.List;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.RoleMachine;

/**
 * One entity instance of the simulated network: a principal's role for one mail. It holds what an
 * entity shell holds: the machine, the events it persisted (all that survives a crash), the stage
 * folded from them, and its one timer (a generation number: re-arming cancels the previous one).
 */
final class Instance {
  final Addressee entity;
  final RoleMachine<Object, Object> machine;
  final List<Object> events = new ArrayList<>();
  Object stage;
  long timerGeneration;
  long dueAtTrue = RoleMachine.NEVER;
  boolean ownerPrompted;

  @SuppressWarnings("unchecked")
  Instance(Addressee entity, RoleMachine<?, ?> machine) {
    this.entity = entity;
    this.machine = (RoleMachine<Object, Object>) machine;
    this.stage = this.machine.empty();
  }

  String principal() {
    return entity.principal();
  }

  /** Everything in memory is lost; the stage is folded again from the persisted events. */
  void rebuild() {
    Object rebuilt = machine.empty();
    for (Object event : events) {
      rebuilt = machine.apply(rebuilt, event);
    }
    stage = rebuilt;
  }

  <T> List<T> eventsOf(Class<T> type) {
    List<T> typed = new ArrayList<>();
    for (Object event : events) {
      if (type.isInstance(event)) {
        typed.add(type.cast(event));
      }
    }
    return typed;
  }
}
