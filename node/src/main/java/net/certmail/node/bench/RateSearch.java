package net.certmail.node.bench;

import java.util.OptionalDouble;

/**
 * The rates {@code bench load} offers, step after step: up by the factor while steps hold, down by
 * it until one holds if the first did not, and then bisected between the highest rate that held and
 * the lowest that did not. Steps a factor of 1.3 apart put the limit anywhere in a 30 % gap, and
 * the sustained figure at its bottom; each bisection halves the gap, so the figure says what the
 * network carries rather than which step of the ladder came below it.
 */
final class RateSearch {
  private final double factor;
  private final double maxRate;
  private final int bisections;
  private double rate;
  private double highestHeld = Double.NaN;
  private double lowestFailed = Double.NaN;
  private int bisected;

  RateSearch(double startRate, double factor, double maxRate, int bisections) {
    this.rate = startRate;
    this.factor = factor;
    this.maxRate = maxRate;
    this.bisections = bisections;
  }

  /** The rate of the step to run now. */
  double rate() {
    return rate;
  }

  /** The highest rate that held, if any did. */
  OptionalDouble sustained() {
    return Double.isNaN(highestHeld) ? OptionalDouble.empty() : OptionalDouble.of(highestHeld);
  }

  /** Whether the next step bisects the gap between what held and what did not. */
  boolean bisecting() {
    return !Double.isNaN(highestHeld) && !Double.isNaN(lowestFailed);
  }

  /** Records whether the step at {@link #rate()} held; returns the next step's rate, or empty when the search is over. */
  OptionalDouble next(boolean held) {
    if (held) {
      highestHeld = Double.isNaN(highestHeld) ? rate : Math.max(highestHeld, rate);
    } else {
      lowestFailed = Double.isNaN(lowestFailed) ? rate : Math.min(lowestFailed, rate);
    }
    if (Double.isNaN(lowestFailed)) {
      return move(Math.ceil(rate * factor));
    }
    if (Double.isNaN(highestHeld)) {
      double lower = Math.floor(rate / factor);
      return lower < 1 ? OptionalDouble.empty() : move(lower);
    }
    double middle = Math.round((highestHeld + lowestFailed) / 2);
    if (bisected >= bisections || middle <= highestHeld || middle >= lowestFailed) {
      return OptionalDouble.empty();
    }
    bisected++;
    return move(middle);
  }

  private OptionalDouble move(double next) {
    if (next > maxRate) {
      return OptionalDouble.empty();
    }
    rate = next;
    return OptionalDouble.of(next);
  }
}
