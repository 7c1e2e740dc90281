package net.certmail.node.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One mail of the workload, drawn from the seed: to whom (a route of one server inside
 * alpha.example, or of three servers through relay.example to beta.example), in which flavour,
 * with which deadline (from the minimum lead time upwards), and how its recipient behaves.
 */
public record MailPlan(int index, String submissionId, String sender, String recipient, String flavour,
                       long leadMillis, Behaviour behaviour, long decisionDelayMillis, String body) {

  /** What the recipient does: its mailbox policy, and for a held mail what its owner then does. */
  public enum Behaviour {
    /** The mailbox signs the COD at once. */
    AUTO_ACCEPT,
    /** The mailbox refuses by policy. */
    REFUSE_POLICY,
    /** Held; the owner accepts after a while. */
    HOLD_ACCEPT,
    /** Held; the owner refuses after a while. */
    HOLD_REFUSE,
    /** Held; the owner never answers. */
    HOLD_SILENT;

    boolean held() {
      return this == HOLD_ACCEPT || this == HOLD_REFUSE || this == HOLD_SILENT;
    }

    /** Whether the recipient may ever sign a COD for the mail. */
    boolean maySignCod() {
      return this == AUTO_ACCEPT || this == HOLD_ACCEPT;
    }
  }

  static final String SENDER = "alice@alpha.example";
  static final String[] FLAVOURS = {"CEM", "NSR", "IP"};

  /** Recipients by behaviour: [route of one server, route of three servers]. */
  private static String recipientFor(Behaviour behaviour, boolean longRoute) {
    return switch (behaviour) {
      case AUTO_ACCEPT -> longRoute ? "bob@beta.example" : "anna@alpha.example";
      case REFUSE_POLICY -> longRoute ? "dave@beta.example" : "adam@alpha.example";
      default -> longRoute ? "carol@beta.example" : "abby@alpha.example";
    };
  }

  public boolean longRoute() {
    return recipient.endsWith("@beta.example");
  }

  public String recipientOrganisation() {
    return recipient.substring(recipient.indexOf('@') + 1);
  }

  /**
   * The n-th mail of a run. Deadlines start 5 s above the minimum lead time (the submission's
   * transit and the origin's clock skew) and spread over a minute and a half above it.
   */
  static MailPlan draw(Random random, long seed, int index, long minLeadMillis) {
    boolean longRoute = random.nextInt(3) != 0;
    double roll = random.nextDouble();
    Behaviour behaviour = roll < 0.45 ? Behaviour.AUTO_ACCEPT : roll < 0.55 ? Behaviour.REFUSE_POLICY
        : roll < 0.75 ? Behaviour.HOLD_ACCEPT : roll < 0.87 ? Behaviour.HOLD_REFUSE : Behaviour.HOLD_SILENT;
    String flavour = FLAVOURS[random.nextInt(FLAVOURS.length)];
    // A quarter at the minimum (a submission delayed by a fault then gets a signed rejection),
    // the rest with room for a submission that must be resent while the cluster recovers.
    long lead = minLeadMillis + (random.nextInt(4) == 0 ? 5_000 : 30_000 + (long) (random.nextDouble() * 60_000));
    // Most owners decide well within the window the server gives them; some take longer.
    long decision = 500 + (long) (random.nextDouble() * (random.nextInt(5) == 0 ? 60_000 : 15_000));
    String body = "chaos mail " + index + " of seed " + seed + " (" + Long.toHexString(random.nextLong()) + ")";
    return new MailPlan(index, "chaos-" + seed + "-" + index, SENDER, recipientFor(behaviour, longRoute), flavour,
        lead, behaviour, decision, body);
  }

  static List<MailPlan> plans(long seed, int count, long minLeadMillis) {
    Random random = new Random(seed);
    List<MailPlan> plans = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      plans.add(draw(random, seed, i, minLeadMillis));
    }
    return plans;
  }
}
