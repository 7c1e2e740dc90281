package net.certmail.protocol;

import net.certmail.proto.v1.ReasonCode;

/** Why a principal turns a request down: a reason code from the closed set and a detail for people. */
public record Refusal(ReasonCode reason, String detail) {}
