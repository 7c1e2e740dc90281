package net.certmail.node.http;

/**
 * An error answer: {@code {"error": REASON_CODE, "message": what to do next}}. Reason codes are
 * stable (clients switch on them); messages are for people.
 */
record ApiError(String error, String message) {}
