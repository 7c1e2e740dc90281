package net.certmail.node.http;

import com.typesafe.config.Config;

/** {@code certmail.http} (documented in certmail-node.conf). */
public record HttpSettings(String host, int port, long maxRequestBytes, int burst, double perSecond) {
  public static HttpSettings fromConfig(Config config) {
    Config http = config.getConfig("certmail.http");
    return new HttpSettings(http.getString("host"), http.getInt("port"), http.getBytes("max-request-size"),
        http.getInt("rate-limit.burst"), http.getDouble("rate-limit.per-second"));
  }
}
