package net.certmail.protocol.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The knobs of one schedule, drawn from its seed: how many mails, how hostile the network, how
 * often principals crash, how busy the dishonest principals are. A <em>fair</em> schedule keeps
 * every fault within the stated bounds (clock offsets within the skew bound, delays within
 * max-transit, a link never loses two messages of one kind in a row (the stated bound: a message lost once is resent and arrives), no partitions, no outages); a schedule
 * beyond bounds may break them all (larger offsets and delays, repeated losses, links between
 * organisations down for a while, principals down for up to a minute), so only the safety
 * invariants are checked there.
 *
 * <p>{@code dishonestActs} is a set of bits: act i of the dishonest principals (its instant and
 * what it does are drawn from the schedule's seed whether it happens or not) happens when bit i
 * is set, so shrinking can take single acts away. Shrinking turns knobs down one at a time and
 * keeps the smallest shape that still fails.
 */
public record Shape(boolean fair, int mails, int dropPercent, int duplicatePercent, int crashPermille,
                    int principalCrashes, int dishonestActs, int partitions, int outages, int skewPercent,
                    int transitPercent) {

  /** At most this many dishonest acts per schedule. */
  static final int MAX_DISHONEST_ACTS = 16;

  static Shape draw(SplittableRandom random, int maxMails, int beyondBoundsPercent) {
    boolean fair = random.nextInt(100) >= beyondBoundsPercent;
    int mails = 1 + random.nextInt(Math.max(1, maxMails));
    int drop = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(fair ? 30 : 50);
    int duplicate = random.nextInt(3) == 0 ? 0 : random.nextInt(25);
    int crash = random.nextInt(3) == 0 ? 0 : random.nextInt(40);
    int principalCrashes = random.nextInt(3);
    int dishonestActs = random.nextInt(3) == 0 ? 0 : (1 << (1 + random.nextInt(MAX_DISHONEST_ACTS))) - 1;
    int partitions = fair ? 0 : random.nextInt(3);
    int outages = fair ? 0 : random.nextInt(3);
    int skew = fair ? 100 : 100 + random.nextInt(300);
    int transit = fair ? 100 : 100 + random.nextInt(300);
    return new Shape(fair, mails, drop, duplicate, crash, principalCrashes, dishonestActs, partitions, outages, skew,
        transit);
  }

  boolean dishonestAct(int index) {
    return (dishonestActs & (1 << index)) != 0;
  }

  /** Smaller shapes to try. */
  List<Shape> smaller() {
    List<Shape> candidates = new ArrayList<>();
    for (int m = 1; m < mails; m++) {
      candidates.add(with(m, dropPercent, duplicatePercent, crashPermille, principalCrashes, dishonestActs, partitions,
          outages));
    }
    if (dishonestActs != 0) {
      candidates.add(with(mails, dropPercent, duplicatePercent, crashPermille, principalCrashes, 0, partitions,
          outages));
      for (int i = 0; i < MAX_DISHONEST_ACTS; i++) {
        if (dishonestAct(i) && Integer.bitCount(dishonestActs) > 1) {
          candidates.add(with(mails, dropPercent, duplicatePercent, crashPermille, principalCrashes,
              dishonestActs & ~(1 << i), partitions, outages));
        }
      }
    }
    if (dropPercent > 0) {
      candidates.add(with(mails, 0, duplicatePercent, crashPermille, principalCrashes, dishonestActs, partitions,
          outages));
    }
    if (duplicatePercent > 0) {
      candidates.add(with(mails, dropPercent, 0, crashPermille, principalCrashes, dishonestActs, partitions, outages));
    }
    if (crashPermille > 0) {
      candidates.add(with(mails, dropPercent, duplicatePercent, 0, principalCrashes, dishonestActs, partitions,
          outages));
    }
    if (principalCrashes > 0) {
      candidates.add(with(mails, dropPercent, duplicatePercent, crashPermille, 0, dishonestActs, partitions, outages));
    }
    if (partitions > 0) {
      candidates.add(with(mails, dropPercent, duplicatePercent, crashPermille, principalCrashes, dishonestActs, 0,
          outages));
    }
    if (outages > 0) {
      candidates.add(with(mails, dropPercent, duplicatePercent, crashPermille, principalCrashes, dishonestActs,
          partitions, 0));
    }
    if (skewPercent > 100 || transitPercent > 100) {
      candidates.add(new Shape(fair, mails, dropPercent, duplicatePercent, crashPermille, principalCrashes,
          dishonestActs, partitions, outages, 100, 100));
    }
    if (!fair && partitions == 0 && outages == 0 && skewPercent == 100 && transitPercent == 100) {
      candidates.add(new Shape(true, mails, Math.min(dropPercent, 30), duplicatePercent, crashPermille,
          principalCrashes, dishonestActs, 0, 0, 100, 100));
    }
    return candidates;
  }

  private Shape with(int mailCount, int drop, int duplicate, int crash, int crashes, int acts, int links, int downs) {
    return new Shape(fair, mailCount, drop, duplicate, crash, crashes, acts, links, downs, skewPercent, transitPercent);
  }

  /** How much is going on: what shrinking minimises. */
  int weight() {
    return mails * 1000 + Integer.bitCount(dishonestActs) * 50 + dropPercent + duplicatePercent + crashPermille
        + principalCrashes * 10 + partitions * 20 + outages * 20 + (skewPercent - 100) / 10
        + (transitPercent - 100) / 10 + (fair ? 0 : 5);
  }

  @Override
  public String toString() {
    return (fair ? "fair" : "beyond bounds") + ", " + mails + " mail(s), drop " + dropPercent + "%, duplicate "
        + duplicatePercent + "%, crash " + crashPermille + "‰ of steps, " + principalCrashes + " principal crash(es), "
        + Integer.bitCount(dishonestActs) + " dishonest act(s)"
        + (fair ? "" : ", " + partitions + " partition(s), " + outages + " outage(s), skew x" + skewPercent / 100.0
        + ", transit x" + transitPercent / 100.0);
  }
}
