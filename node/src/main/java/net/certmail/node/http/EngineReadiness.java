package net.certmail.node.http;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * Readiness check of pekko-management ({@code pekko.management.health-checks.readiness-checks}):
 * ready once the node's engine has started. The management server comes up before the engine
 * (so /alive answers during a slow journal start); until {@link #markStarted} /ready says 503.
 * Cluster membership (Up) is checked by pekko-management-cluster-http's own check.
 */
public final class EngineReadiness implements Supplier<CompletionStage<Boolean>> {
  private final Flag flag;

  /** pekko-management instantiates readiness checks with the classic ActorSystem. */
  public EngineReadiness(ActorSystem system) {
    this.flag = Flag.ID.get(system);
  }

  public static void markStarted(ActorSystem system) {
    Flag.ID.get(system).started = true;
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(flag.started);
  }

  /** One flag per ActorSystem (tests run several in one JVM, so no static field). */
  static final class Flag implements Extension {
    static final Id ID = new Id();
    volatile boolean started;

    static final class Id extends AbstractExtensionId<Flag> {
      @Override
      public Flag createExtension(ExtendedActorSystem system) {
        return new Flag();
      }
    }
  }
}
