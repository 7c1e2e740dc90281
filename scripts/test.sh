#!/usr/bin/env bash
# Builds certmail and runs ALL its tests, including the JUnit tests tagged "cassandra" (the root
# pom excludes them by default) against a real single-node Cassandra 5.0 that this script starts
# with scripts/cassandra.sh and ALWAYS stops again, also when a test fails or on Ctrl-C.
# A Cassandra that was already running before (started by you) is used and left running.
#
#   scripts/test.sh                      the whole build and test suite (what .ci/run calls), then
#                                        certmail simulate --schedules 20000 --seed 1, then
#                                        certmail chaos --duration 3m --seed 11 (on this Cassandra;
#                                        when this script started it, the chaos run also stops and
#                                        starts it as a fault: --cassandra-faults)
#   scripts/test.sh -pl persistence -am  extra arguments go to Maven
#
# The web pages' tests (WebUiBrowserTest) drive a real headless Chromium through chromedriver:
# this script installs Debian's chromium and chromium-driver with apt-get when they are missing
# (as root; otherwise it stops and says what to run). They are never skipped.
#
# The exit code is Maven's (or 1 when Cassandra or the browser could not be set up).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ensure_browser() {
  if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    return 0
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "test: the browser tests need Chromium and chromedriver (/usr/bin/chromium, /usr/bin/chromedriver)." >&2
    echo "test: install them once as root: sudo apt-get install -y chromium chromium-driver; then run this again." >&2
    return 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "test: no apt-get here: install Chromium and its chromedriver, then run the tests with" >&2
    echo "test: -Dcertmail.chromium=<chromium binary> -Dcertmail.chromedriver=<chromedriver>" >&2
    return 1
  fi
  echo "test: installing chromium and chromium-driver for the browser tests (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
}
ensure_browser

started_here=false

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "$started_here" == true ]]; then
    echo "test: stopping the Cassandra this run started"
    ./scripts/cassandra.sh stop || echo "test: WARNING: could not stop Cassandra; run ./scripts/cassandra.sh stop" >&2
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

status="$(./scripts/cassandra.sh status || true)"
case "$status" in
  running*)
    echo "test: using the Cassandra that was already running: $status (it stays running)"
    ./scripts/cassandra.sh wait
    ;;
  *"answers CQL"*)
    echo "test: using the Cassandra that already answers on 127.0.0.1:9042 (not started from this directory; it stays running)"
    ;;
  *)
    # Set before the start, so that a start that fails or is interrupted is cleaned up too.
    started_here=true
    ./scripts/cassandra.sh start
    ;;
esac

echo "test: ./mvnw -B verify -Dsurefire.excludedGroups= $*"
rc=0
./mvnw -B verify -Dsurefire.excludedGroups= "$@" || rc=$?
if (( rc == 0 && $# == 0 )); then
  # The whole suite also runs the deterministic simulator for 20,000 schedules (README, "Simulating
  # the protocol"), from the jar verify just built.
  echo "test: certmail simulate --schedules 20000 --seed 1"
  "${JAVA_HOME:+$JAVA_HOME/bin/}java" ${CERTMAIL_JAVA_OPTS:-} -jar node/target/certmail.jar simulate \
    --schedules 20000 --seed 1 || rc=$?
fi
if (( rc == 0 && $# == 0 )); then
  # And a short chaos run: five node JVMs under faults, a history and its checker (README, "Chaos").
  # It may stop and restart the Cassandra this script started (--cassandra-faults); one that was
  # running already, which others may use, is used as it is.
  chaos_args=(chaos --duration 3m --seed 11)
  if [[ "$started_here" == true ]]; then chaos_args+=(--cassandra-faults); fi
  echo "test: certmail ${chaos_args[*]}"
  "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Dh2.bindAddress=127.0.0.1 ${CERTMAIL_JAVA_OPTS:-} -jar node/target/certmail.jar \
    "${chaos_args[@]}" || rc=$?
fi
if (( rc == 0 )); then echo "test: build and tests passed"; else echo "test: build or tests FAILED (exit code $rc)" >&2; fi
exit "$rc"
