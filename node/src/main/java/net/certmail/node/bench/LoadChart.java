package net.certmail.node.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/** load.svg: p50 and p99 from submission to COP and to ROD against the offered rate, on log-scaled latency. */
final class LoadChart {
  private static final int WIDTH = 760;
  private static final int HEIGHT = 440;
  private static final int LEFT = 70;
  private static final int RIGHT = 170;
  private static final int TOP = 40;
  private static final int BOTTOM = 60;
  /** Pixels between the centres of two rate labels on the x axis. */
  private static final int MIN_LABEL_GAP = 24;

  private LoadChart() {}

  static String svg(List<LoadBenchCommand.StepFigures> stepsAsRun, long p99LimitMillis) {
    // Left to right by rate: the bisecting steps at the end of a run lie between earlier ones.
    List<LoadBenchCommand.StepFigures> steps = stepsAsRun.stream()
        .sorted(java.util.Comparator.comparingDouble(LoadBenchCommand.StepFigures::offered)).toList();
    double maxRate = steps.stream().mapToDouble(LoadBenchCommand.StepFigures::offered).max().orElse(1);
    long maxMillis = Math.max(p99LimitMillis * 2, steps.stream().mapToLong(LoadBenchCommand.StepFigures::rodMax).max()
        .orElse(1));
    double logMax = Math.log10(Math.max(10, maxMillis));
    int plotWidth = WIDTH - LEFT - RIGHT;
    int plotHeight = HEIGHT - TOP - BOTTOM;
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
        + " font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT));
    svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\">certmail bench load:"
        + " latency from intended send time against offered load</text>%n", LEFT));
    // Axes, with decades on the latency axis.
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
        LEFT, TOP + plotHeight, LEFT + plotWidth, TOP + plotHeight));
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
        LEFT, TOP, LEFT, TOP + plotHeight));
    for (long decade = 1; decade <= Math.pow(10, Math.ceil(logMax)); decade *= 10) {
      double y = y(decade, logMax, plotHeight);
      if (y < TOP) {
        break;
      }
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
          + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d ms</text>%n",
          LEFT, y, LEFT + plotWidth, y, LEFT - 6, y + 4, decade));
    }
    double lastLabelX = Double.NEGATIVE_INFINITY;
    for (LoadBenchCommand.StepFigures step : steps) {
      double x = x(step.offered(), maxRate, plotWidth);
      if (x - lastLabelX < MIN_LABEL_GAP) {
        continue; // rates too close to label both legibly
      }
      lastLabelX = x;
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>%n",
          x, TOP + plotHeight + 16, step.offered()));
    }
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">offered mails/s</text>%n",
        LEFT + plotWidth / 2, HEIGHT - 18));
    double limitY = y(p99LimitMillis, logMax, plotHeight);
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"red\""
        + " stroke-dasharray=\"6 4\"/>%n", LEFT, limitY, LEFT + plotWidth, limitY));
    series(svg, steps, LoadBenchCommand.StepFigures::rodP99, "#d62728", "ROD p99", 0, maxRate, logMax, plotWidth, plotHeight);
    series(svg, steps, LoadBenchCommand.StepFigures::rodP50, "#ff9896", "ROD p50", 1, maxRate, logMax, plotWidth, plotHeight);
    series(svg, steps, LoadBenchCommand.StepFigures::copP99, "#1f77b4", "COP p99", 2, maxRate, logMax, plotWidth, plotHeight);
    series(svg, steps, LoadBenchCommand.StepFigures::copP50, "#aec7e8", "COP p50", 3, maxRate, logMax, plotWidth, plotHeight);
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"red\">p99 limit %d ms</text>%n",
        WIDTH - RIGHT + 12, TOP + 4 * 18 + 12, p99LimitMillis));
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static void series(StringBuilder svg, List<LoadBenchCommand.StepFigures> steps,
                             ToLongFunction<LoadBenchCommand.StepFigures> value, String colour, String name, int index,
                             double maxRate, double logMax, int plotWidth, int plotHeight) {
    StringBuilder points = new StringBuilder();
    for (LoadBenchCommand.StepFigures step : steps) {
      double x = x(step.offered(), maxRate, plotWidth);
      double y = y(Math.max(1, value.applyAsLong(step)), logMax, plotHeight);
      points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
      svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n", x, y, colour));
    }
    svg.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n",
        points.toString().trim(), colour));
    int legendY = TOP + index * 18 + 12;
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
        + "<text x=\"%d\" y=\"%d\">%s</text>%n", WIDTH - RIGHT + 12, legendY - 4, WIDTH - RIGHT + 32, legendY - 4, colour,
        WIDTH - RIGHT + 38, legendY, name));
  }

  private static double x(double rate, double maxRate, int plotWidth) {
    return LEFT + plotWidth * rate / maxRate;
  }

  private static double y(double millis, double logMax, int plotHeight) {
    return TOP + plotHeight - plotHeight * Math.log10(Math.max(1, millis)) / logMax;
  }
}
