package net.certmail.protocol.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The knobs of one schedule, drawn from its seed: how many mails, how hostile the network, how
 * often principals crash, how busy the dishonest principals are. A <em>fair</em> schedule keeps
 * every fault within the stated bounds (clock offsets within the skew bound, delays within
 * max-transit, a link never loses two messages in a row, no partitions); a schedule beyond
 * bounds may break them all (larger offsets and delays, repeated losses, links down for a while),
 * so only the safety invariants are checked there.
 *
 * <p>Shrinking turns knobs down one at a time and keeps the smallest shape that still fails.
 */
public record Shape(boolean fair, int mails, int dropPercent, int duplicatePercent, int crashPermille,
                    int principalCrashes, int rogueActs, int partitions, int skewPercent, int transitPercent) {

  static Shape draw(SplittableRandom random, int maxMails, int beyondBoundsPercent) {
    boolean fair = random.nextInt(100) >= beyondBoundsPercent;
    int mails = 1 + random.nextInt(Math.max(1, maxMails));
    int drop = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(fair ? 30 : 50);
    int duplicate = random.nextInt(3) == 0 ? 0 : random.nextInt(25);
    int crash = random.nextInt(3) == 0 ? 0 : random.nextInt(40);
    int principalCrashes = random.nextInt(3);
    int rogueActs = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(16);
    int partitions = fair ? 0 : random.nextInt(3);
    int skew = fair ? 100 : 100 + random.nextInt(300);
    int transit = fair ? 100 : 100 + random.nextInt(300);
    return new Shape(fair, mails, drop, duplicate, crash, principalCrashes, rogueActs, partitions, skew, transit);
  }

  /** Smaller shapes to try, smallest effect first. */
  List<Shape> smaller() {
    List<Shape> candidates = new ArrayList<>();
    for (int m = 1; m < mails; m++) {
      candidates.add(new Shape(fair, m, dropPercent, duplicatePercent, crashPermille, principalCrashes, rogueActs,
          partitions, skewPercent, transitPercent));
    }
    if (rogueActs > 0) {
      candidates.add(withRogueActs(0));
      if (rogueActs > 1) {
        candidates.add(withRogueActs(rogueActs / 2));
        candidates.add(withRogueActs(rogueActs - 1));
      }
    }
    if (dropPercent > 0) {
      candidates.add(new Shape(fair, mails, 0, duplicatePercent, crashPermille, principalCrashes, rogueActs, partitions,
          skewPercent, transitPercent));
    }
    if (duplicatePercent > 0) {
      candidates.add(new Shape(fair, mails, dropPercent, 0, crashPermille, principalCrashes, rogueActs, partitions,
          skewPercent, transitPercent));
    }
    if (crashPermille > 0) {
      candidates.add(new Shape(fair, mails, dropPercent, duplicatePercent, 0, principalCrashes, rogueActs, partitions,
          skewPercent, transitPercent));
    }
    if (principalCrashes > 0) {
      candidates.add(new Shape(fair, mails, dropPercent, duplicatePercent, crashPermille, 0, rogueActs, partitions,
          skewPercent, transitPercent));
    }
    if (partitions > 0) {
      candidates.add(new Shape(fair, mails, dropPercent, duplicatePercent, crashPermille, principalCrashes, rogueActs, 0,
          skewPercent, transitPercent));
    }
    if (skewPercent > 100 || transitPercent > 100) {
      candidates.add(new Shape(fair, mails, dropPercent, duplicatePercent, crashPermille, principalCrashes, rogueActs,
          partitions, 100, 100));
    }
    if (!fair && partitions == 0 && skewPercent == 100 && transitPercent == 100) {
      candidates.add(new Shape(true, mails, Math.min(dropPercent, 30), duplicatePercent, crashPermille,
          principalCrashes, rogueActs, 0, 100, 100));
    }
    return candidates;
  }

  private Shape withRogueActs(int acts) {
    return new Shape(fair, mails, dropPercent, duplicatePercent, crashPermille, principalCrashes, acts, partitions,
        skewPercent, transitPercent);
  }

  /** How much is going on: what shrinking minimises. */
  int weight() {
    return mails * 1000 + rogueActs * 50 + dropPercent + duplicatePercent + crashPermille + principalCrashes * 10
        + partitions * 20 + (skewPercent - 100) / 10 + (transitPercent - 100) / 10 + (fair ? 0 : 5);
  }

  @Override
  public String toString() {
    return (fair ? "fair" : "beyond bounds") + ", " + mails + " mail(s), drop " + dropPercent + "%, duplicate "
        + duplicatePercent + "%, crash " + crashPermille + "‰ of steps, " + principalCrashes + " principal crash(es), "
        + rogueActs + " dishonest act(s)"
        + (fair ? "" : ", " + partitions + " partition(s), skew x" + skewPercent / 100.0 + ", transit x"
        + transitPercent / 100.0);
  }
}
