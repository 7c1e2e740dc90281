package net.certmail.persistence.testing;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * Test-only entity: an append-only log of text lines, one event per line. Just enough to push
 * events and snapshots through a journal and read them back.
 *
 * The reply to {@link Append} is the event's sequence number, sent only after the journal has
 * acknowledged the write: every line adds exactly one event, so it equals the number of lines.
 */
public final class TextLog
    extends EventSourcedBehaviorWithEnforcedReplies<TextLog.Command, TextLog.Appended, TextLog.Texts> {

  public sealed interface Command {}

  /** Persist one line; replies with its sequence number once it is stored. */
  public record Append(String text, ActorRef<Long> replyTo) implements Command {}

  /** Persist several lines in one write; replies with the last one's sequence number once they are stored. */
  public record AppendAll(List<String> texts, ActorRef<Long> replyTo) implements Command {}

  /** Replies with all lines. */
  public record Read(ActorRef<Texts> replyTo) implements Command {}

  /** The event. */
  public record Appended(String text) {}

  /** The state (also the snapshot). */
  public record Texts(List<String> lines) {
    public Texts {
      lines = List.copyOf(lines);
    }

    Texts append(String line) {
      List<String> longer = new ArrayList<>(lines);
      longer.add(line);
      return new Texts(longer);
    }
  }

  /** A snapshot every 5 events, so that recovery runs through the snapshot store too. */
  static final int SNAPSHOT_EVERY = 5;

  public static Behavior<Command> create(String persistenceId) {
    return new TextLog(PersistenceId.ofUniqueId(persistenceId));
  }

  private TextLog(PersistenceId persistenceId) {
    super(persistenceId);
  }

  @Override
  public Texts emptyState() {
    return new Texts(List.of());
  }

  @Override
  public CommandHandlerWithReply<Command, Appended, Texts> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Append.class, (state, append) -> Effect()
            .persist(new Appended(append.text()))
            .thenReply(append.replyTo(), updated -> (long) updated.lines().size()))
        .onCommand(AppendAll.class, (state, append) -> Effect()
            .persist(append.texts().stream().map(Appended::new).toList())
            .thenReply(append.replyTo(), updated -> (long) updated.lines().size()))
        .onCommand(Read.class, (state, read) -> Effect().reply(read.replyTo(), state))
        .build();
  }

  @Override
  public EventHandler<Texts, Appended> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Appended.class, (state, appended) -> state.append(appended.text()))
        .build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
  }
}
