package net.certmail.actors;

import com.typesafe.config.Config;
import java.time.Duration;

/** How entities sleep and the scanner wakes them ({@code certmail.reminders}; defaults and comments: reference.conf). */
public record ReminderSettings(Duration stayAwake, Duration linger, Duration scanInterval, Duration lookAhead,
                               Duration fullScanInterval, Duration completeScanInterval, Duration scanOverlap, Duration refireAfter,
                               int scanLimit, Duration countInterval, int backfillPerSecond) {

  public static ReminderSettings fromConfig(Config root) {
    Config config = root.getConfig("certmail.reminders");
    ReminderSettings settings = new ReminderSettings(config.getDuration("stay-awake"), config.getDuration("linger"),
        config.getDuration("scan-interval"),
        config.getDuration("look-ahead"), config.getDuration("full-scan-interval"),
        config.getDuration("complete-scan-interval"), config.getDuration("scan-overlap"),
        config.getDuration("refire-after"), config.getInt("scan-limit"),
        config.getDuration("count-interval"), config.getInt("backfill-per-second"));
    if (settings.lookAhead.compareTo(settings.scanInterval) < 0) {
      throw new IllegalArgumentException("certmail.reminders.look-ahead (" + settings.lookAhead + ") must be at least"
          + " scan-interval (" + settings.scanInterval + "), or rows coming due between two scans would fire late");
    }
    if (settings.completeScanInterval.compareTo(settings.fullScanInterval) < 0) {
      throw new IllegalArgumentException("certmail.reminders.complete-scan-interval (" + settings.completeScanInterval
          + ") must be at least full-scan-interval (" + settings.fullScanInterval + ")");
    }
    Duration clockSkew = root.getDuration("certmail.engine.clock-skew");
    if (settings.scanOverlap.compareTo(clockSkew.multipliedBy(2)) <= 0) {
      throw new IllegalArgumentException("certmail.reminders.scan-overlap (" + settings.scanOverlap + ") must exceed"
          + " 2 x certmail.engine.clock-skew (" + clockSkew + "): two clocks of the network may differ by that much,"
          + " and a row written at its writer's now would land behind the scans (found only by the next complete"
          + " scan). Raise scan-overlap.");
    }
    if (settings.scanLimit < 1) {
      throw new IllegalArgumentException("certmail.reminders.scan-limit must be at least 1");
    }
    if (settings.backfillPerSecond < 1) {
      throw new IllegalArgumentException("certmail.reminders.backfill-per-second must be at least 1");
    }
    return settings;
  }
}
