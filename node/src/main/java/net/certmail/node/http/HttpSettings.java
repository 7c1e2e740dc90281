package net.certmail.node.http;

import com.typesafe.config.Config;

/**
 * {@code certmail.http} (documented in certmail-node.conf).
 *
 * @param burst per-mailbox request budget at once; {@code perSecond} refills it
 * @param authFailureBurst failed authentications per client address before it gets 429; {@code authFailurePerSecond} refills it
 */
public record HttpSettings(String host, int port, long maxRequestBytes, int burst, double perSecond,
                           int authFailureBurst, double authFailurePerSecond) {
  public static HttpSettings fromConfig(Config config) {
    Config http = config.getConfig("certmail.http");
    boolean authLimit = http.hasPath("auth-failure-limit");
    return new HttpSettings(http.getString("host"), http.getInt("port"), http.getBytes("max-request-size"),
        http.getInt("rate-limit.burst"), http.getDouble("rate-limit.per-second"),
        authLimit ? http.getInt("auth-failure-limit.burst") : 20,
        authLimit ? http.getDouble("auth-failure-limit.per-second") : 0.2);
  }
}
