package net.certmail.actors;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** The reminders' settings are checked against each other and against the network's clock skew when a node reads them. */
class ReminderSettingsTest {

  static ReminderSettings read(String settings) {
    Config config = ConfigFactory.parseString(settings).withFallback(ConfigFactory.defaultReference());
    return ReminderSettings.fromConfig(config);
  }

  @Test
  void shippedDefaultsAndTheDemoTimingsAreAccepted() {
    assertDoesNotThrow(() -> read(""));
    assertDoesNotThrow(() -> ReminderSettings.fromConfig(ConfigFactory.parseResources("certmail-demo-timings.conf")
        .withFallback(ConfigFactory.defaultReference())));
  }

  /**
   * Two honest clocks may differ by twice the clock skew: with a smaller overlap a row written at
   * its writer's now could land behind the scans, and only the next complete scan would find it.
   */
  @Test
  void anOverlapNoLargerThanTwoClockSkewsIsRefusedWithWhatToChange() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> read("certmail.engine.clock-skew = 3s\ncertmail.reminders.scan-overlap = 6s"));
    assertTrue(refused.getMessage().contains("certmail.reminders.scan-overlap"), refused.getMessage());
    assertTrue(refused.getMessage().contains("Raise scan-overlap"), refused.getMessage());
    assertDoesNotThrow(() -> read("certmail.engine.clock-skew = 3s\ncertmail.reminders.scan-overlap = 7s"));
  }

  @Test
  void aCompleteScanIntervalShorterThanTheFullOneIsRefused() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> read("certmail.reminders.complete-scan-interval = 5s"));
    assertTrue(refused.getMessage().contains("complete-scan-interval"), refused.getMessage());
  }
}
