package net.certmail.protocol.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.certmail.proto.v1.MailInTransit;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.MailFacts;

/**
 * What a server holds about a mail it carries: the mail with its COP, the facts the COP
 * certifies, its place on the COP's route, the ACK it gave its previous hop, when it took the
 * mail, and — at the destination once B signed — B's COD with the content handover. Late
 * evidence (verified, entitled, bounded) is kept for the record.
 */
public record Carriage(
    MailInTransit mail,
    MailFacts facts,
    int position,
    Optional<SignedEvidence> ackGiven,
    long acceptedAtMillis,
    Optional<Receipt> receipt,
    List<SignedEvidence> late) {

  /** At the destination: B's COD, this server's ROD_n over it, and (NSR, IP) the content handover signed with it. */
  public record Receipt(SignedEvidence cod, SignedEvidence rodN, Optional<SignedEvidence> handover) {
    Receipt withHandover(SignedEvidence item) {
      return new Receipt(cod, rodN, Optional.of(item));
    }
  }

  public Carriage {
    late = List.copyOf(late);
  }

  public boolean origin() {
    return position == 0;
  }

  public boolean destination() {
    return position == facts.route().size() - 1;
  }

  public String label() {
    return facts.label();
  }

  public String previousHop() {
    return origin() ? "" : facts.route().get(position - 1);
  }

  public String nextHop() {
    return destination() ? "" : facts.route().get(position + 1);
  }

  public long deadline() {
    return facts.deadlineMillis();
  }

  Carriage withReceipt(Receipt value) {
    return new Carriage(mail, facts, position, ackGiven, acceptedAtMillis, Optional.of(value), late);
  }

  Carriage withLate(List<SignedEvidence> more) {
    List<SignedEvidence> all = new ArrayList<>(late);
    all.addAll(more);
    return new Carriage(mail, facts, position, ackGiven, acceptedAtMillis, receipt, all);
  }
}
