package net.certmail.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import net.certmail.protocol.SubmissionPolicy;
import net.certmail.protocol.Timings;

/** The engine's settings, read from {@code certmail.engine} (defaults and comments: reference.conf). */
public record EngineSettings(Timings timings, SubmissionPolicy submissionPolicy, Duration freshnessWindow,
                             int maxFetchAttempts, Map<String, Map<String, String>> routes,
                             MailboxPolicies mailboxPolicies) {

  public static EngineSettings fromConfig(Config root) {
    Config engine = root.getConfig("certmail.engine");
    Timings timings = new Timings(
        engine.getDuration("retry-min"), engine.getDuration("retry-max"),
        engine.getDuration("relay-timeout"), engine.getDuration("delivery-timeout"),
        engine.getDuration("cod-margin"), engine.getDuration("verdict-margin"),
        engine.getDuration("grace"), engine.getDuration("tick"));
    SubmissionPolicy policy = new SubmissionPolicy(engine.getDuration("min-lead-time"),
        engine.getDuration("max-lead-time"), (int) engine.getBytes("max-content-size").longValue());
    Map<String, Map<String, String>> routes = new HashMap<>();
    ConfigObject routeTable = engine.getObject("routes");
    for (String server : routeTable.keySet()) {
      Map<String, String> hops = new HashMap<>();
      ConfigObject table = (ConfigObject) routeTable.get(server);
      table.forEach((domain, hop) -> hops.put(domain, hop.unwrapped().toString()));
      routes.put(server, Map.copyOf(hops));
    }
    Map<String, MailboxPolicies.Policy> policies = new HashMap<>();
    engine.getObject("mailbox-policies").forEach((mailbox, value) ->
        policies.put(mailbox, MailboxPolicies.Policy.parse(value.unwrapped().toString())));
    return new EngineSettings(timings, policy, engine.getDuration("freshness-window"),
        engine.getInt("max-fetch-attempts"), Map.copyOf(routes),
        new MailboxPolicies(Map.copyOf(policies), MailboxPolicies.Policy.parse(engine.getString("default-mailbox-policy"))));
  }
}
