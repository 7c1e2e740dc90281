package net.certmail.actors;

import java.util.List;
import net.certmail.persistence.chain.ChainLink;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * What a command persisted, as the entity sees it. The entities' events reach the journal inside
 * their stream's hash chain (ChainingEventAdapter), and EventSourcedBehaviorTestKit shows what the
 * journal holds: here the chain link is taken off again.
 */
final class Journaled {
  private Journaled() {}

  /** The one event the command persisted. */
  static <E> E event(EventSourcedBehaviorTestKit.CommandResult<?, E, ?> result, Class<E> type) {
    List<?> events = result.events();
    if (events.size() != 1) {
      throw new AssertionError("expected one event, got " + events.size());
    }
    Object stored = events.get(0);
    if (!(stored instanceof ChainLink link)) {
      throw new AssertionError("the event was not stored in its stream's hash chain: " + stored.getClass().getName());
    }
    return type.cast(link.event());
  }

  /** The events of a stream as stored (each inside its hash-chain link), unwrapped. */
  static <E> List<E> events(List<?> stored, Class<E> type) {
    return stored.stream().map(item -> {
      if (!(item instanceof ChainLink link)) {
        throw new AssertionError("an event was not stored in its stream's hash chain: " + item.getClass().getName());
      }
      return type.cast(link.event());
    }).toList();
  }
}
