package net.certmail.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.certmail.protocol.SubmissionPolicy;
import net.certmail.protocol.Timings;
import net.certmail.protocol.recipient.MailboxPolicy;

/** The engine's settings, read from {@code certmail.engine} (defaults and comments: reference.conf). */
public record EngineSettings(Timings timings, SubmissionPolicy submissionPolicy, Duration freshnessWindow,
                             Map<String, Map<String, String>> routes,
                             MailboxPolicies mailboxPolicies) {

  public static EngineSettings fromConfig(Config root) {
    Config engine = root.getConfig("certmail.engine");
    Timings timings = new Timings(
        engine.getDuration("clock-skew"), engine.getDuration("max-transit"),
        engine.getDuration("retry-min"), engine.getDuration("retry-max"),
        engine.getDuration("relay-timeout"), engine.getDuration("delivery-timeout"),
        engine.getDuration("cod-margin"), engine.getDuration("verdict-margin"),
        engine.getDuration("grace"), engine.getDuration("min-recipient-window"));
    SubmissionPolicy policy = new SubmissionPolicy(engine.getDuration("min-lead-time"),
        engine.getDuration("max-lead-time"), (int) engine.getBytes("max-content-size").longValue());
    List<String> problems = new ArrayList<>(timings.check(policy));
    Duration freshness = engine.getDuration("freshness-window");
    if (freshness.toMillis() < timings.maxTransit().toMillis() + 2 * timings.clockSkew().toMillis()) {
      problems.add("freshness-window " + freshness + " is shorter than max-transit + 2 x clock-skew: honest"
          + " messages would be rejected as stale");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("inconsistent certmail.engine timings (see reference.conf):\n  - "
          + String.join("\n  - ", problems));
    }
    Map<String, Map<String, String>> routes = new HashMap<>();
    ConfigObject routeTable = engine.getObject("routes");
    for (String server : routeTable.keySet()) {
      Map<String, String> hops = new HashMap<>();
      ConfigObject table = (ConfigObject) routeTable.get(server);
      table.forEach((domain, hop) -> hops.put(domain, hop.unwrapped().toString()));
      routes.put(server, Map.copyOf(hops));
    }
    Map<String, MailboxPolicy> policies = new HashMap<>();
    engine.getObject("mailbox-policies").forEach((mailbox, value) ->
        policies.put(mailbox, MailboxPolicy.parse(value.unwrapped().toString())));
    return new EngineSettings(timings, policy, freshness, Map.copyOf(routes),
        new MailboxPolicies(Map.copyOf(policies), MailboxPolicy.parse(engine.getString("default-mailbox-policy"))));
  }
}
