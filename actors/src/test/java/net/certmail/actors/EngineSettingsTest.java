package net.certmail.actors;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import net.certmail.protocol.simulation.SimulationOptions;
import org.junit.jupiter.api.Test;

/** The time model is checked when a node reads its settings: inconsistent margins are refused with what to change. */
class EngineSettingsTest {

  static EngineSettings read(String engine) {
    Config config = ConfigFactory.parseString("certmail.engine {" + engine + "}")
        .withFallback(ConfigFactory.defaultReference());
    return EngineSettings.fromConfig(config);
  }

  @Test
  void shippedDefaultsAreConsistent() {
    EngineSettings settings = assertDoesNotThrow(() -> read(""));
    assertEquals(Duration.ofSeconds(39), Duration.ofMillis(settings.timings().handshakeMillis()),
        "retry-max 30 s + max-transit 5 s + 2 x clock-skew 2 s");
  }

  /** The simulator cannot read configuration (module protocol has none): its copy must be the file's. */
  @Test
  void simulatorRunsOnTheDemoTimingsFile() {
    EngineSettings demo = EngineSettings.fromConfig(ConfigFactory.parseResources("certmail-demo-timings.conf")
        .withFallback(ConfigFactory.defaultReference()));
    assertEquals(demo.timings(), SimulationOptions.DEMO_TIMINGS);
    assertEquals(demo.submissionPolicy().minLeadTime(), SimulationOptions.DEMO_POLICY.minLeadTime());
  }

  @Test
  void codMarginThatLeavesNoRoomForTheReportIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read("cod-margin = 30s"));
    assertTrue(e.getMessage().contains("cod-margin 30s is shorter than verdict-margin + 2 x handshake"), e.getMessage());
  }

  @Test
  void minimumLeadTimeThatLeavesTheRecipientNoTimeIsRefused() {
    // The old default: a mail at the minimum deadline got its NDN at once.
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read("min-lead-time = 2m"));
    assertTrue(e.getMessage().contains("min-lead-time"), e.getMessage());
  }

  @Test
  void graceShorterThanTheClockSkewAllowsIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> read("clock-skew = 2m, verdict-margin = 5m, cod-margin = 12m, min-lead-time = 20m"));
    assertTrue(e.getMessage().contains("grace"), e.getMessage());
  }

  @Test
  void freshnessWindowShorterThanTransitAndSkewIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read("freshness-window = 5s"));
    assertTrue(e.getMessage().contains("freshness-window"), e.getMessage());
  }
}
