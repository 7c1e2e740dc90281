package net.certmail.protocol.server;

import java.util.function.Predicate;
import net.certmail.protocol.Routing;
import net.certmail.protocol.SubmissionPolicy;
import net.certmail.protocol.Timings;

/**
 * A server's settings for the protocol: its time model, its submission policy, the routing
 * tables, and which principals exist (a server refuses mail for a mailbox of its own domain
 * that the network does not know).
 */
public record ServerRules(Timings timings, SubmissionPolicy policy, Routing routing, Predicate<String> knownPrincipal) {}
