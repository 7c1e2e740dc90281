package net.certmail.crypto;

import com.github.f4b6a3.ulid.UlidFactory;
import java.security.SecureRandom;
import java.time.Clock;

/** ULIDs (time-ordered, 80 random bits) for envelope ids and labels, timed by an injected clock. */
public final class Ulid {
  private static final UlidFactory FACTORY = UlidFactory.newInstance(new SecureRandom());

  private Ulid() {}

  public static String next(Clock clock) {
    return FACTORY.create(clock.millis()).toString();
  }
}
