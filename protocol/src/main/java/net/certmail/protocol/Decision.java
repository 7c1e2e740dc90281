package net.certmail.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * What a role decided in one step: the events to persist (in order), the messages to send once
 * they are persisted, what it ignored and why, and a problem to tell its owner when it turned a
 * command down. The next instant to wake the role is a function of its new stage
 * ({@link RoleMachine#dueAt}), so it is the same after a restart.
 */
public record Decision<E>(List<E> events, List<Outgoing> messages, List<Ignored> ignored, String problem) {

  public Decision {
    events = List.copyOf(events);
    messages = List.copyOf(messages);
    ignored = List.copyOf(ignored);
  }

  public static <E> Decision<E> none() {
    return new Decision<>(List.of(), List.of(), List.of(), null);
  }

  public static <E> Decision<E> ignore(String reason, String detail) {
    return new Decision<>(List.of(), List.of(), List.of(new Ignored(reason, detail)), null);
  }

  /** An owner's command turned down, with what to tell the owner. */
  public static <E> Decision<E> refuse(String problem) {
    return new Decision<>(List.of(), List.of(), List.of(), problem);
  }

  public static <E> Decision<E> persist(List<E> events) {
    return new Decision<>(events, List.of(), List.of(), null);
  }

  @SafeVarargs
  public static <E> Decision<E> persist(E... events) {
    return persist(List.of(events));
  }

  public static <E> Decision<E> send(Outgoing... messages) {
    return new Decision<E>(List.of(), List.of(messages), List.of(), null);
  }

  public Decision<E> andSend(Outgoing message) {
    List<Outgoing> more = new ArrayList<>(messages);
    more.add(message);
    return new Decision<>(events, more, ignored, problem);
  }

  public Decision<E> andSend(List<Outgoing> more) {
    List<Outgoing> all = new ArrayList<>(messages);
    all.addAll(more);
    return new Decision<>(events, all, ignored, problem);
  }
}
