package net.certmail.protocol;

/**
 * One role's protocol as a value-in, value-out machine (sans-IO): no threads, clocks, sockets or
 * journals inside. The entity shell persists {@link Decision#events()}, then sends
 * {@link Decision#messages()}, then arms one timer for {@link #dueAt}; the simulator and the
 * audit drive the same functions.
 *
 * @param <S> the role's stage types (one record per stage)
 * @param <E> the role's persisted event
 */
public interface RoleMachine<S, E> {

  /** Stands for "nothing to wake up for". */
  long NEVER = Long.MAX_VALUE;

  S empty();

  /** The stage after an event: total over the events {@link #decide} produces, pure, used on replay. */
  S apply(S stage, E event);

  /** What the role does about {@code input} in {@code stage} at {@code now} (epoch millis). */
  Decision<E> decide(S stage, Input input, long now);

  /** The next instant the role must be woken in {@code stage}, after {@code now}; {@link #NEVER} when it only waits. */
  long dueAt(S stage, long now);

  /** Applies a decision's events in order. */
  default S applyAll(S stage, Iterable<E> events) {
    S result = stage;
    for (E event : events) {
      result = apply(result, event);
    }
    return result;
  }
}
