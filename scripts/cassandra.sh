#!/usr/bin/env bash
# A real single-node Apache Cassandra 5.0 for certmail's tests, benchmarks and local clusters,
# started from the Maven Central jars (no Docker, no system package).
#
#   scripts/cassandra.sh start    fetch the jars on first use, start, wait until CQL answers
#   scripts/cassandra.sh stop     SIGTERM, then SIGKILL after 60 s; nothing is left running
#   scripts/cassandra.sh status   "running (pid N)" / "stopped"; exit 0 when running, 3 when not
#   scripts/cassandra.sh wait     wait until 127.0.0.1:9042 answers CQL (after a start elsewhere)
#
# Everything lives in var/cassandra/ of the repository (gitignored): lib/ (jars), conf/ (written
# from tools/cassandra/ on every start), data/, logs/ (system.log, and gc.log: its collector's
# pauses), tmp/, home/.
# Environment: CASSANDRA_JAVA_HOME (default /usr/lib/jvm/java-17-openjdk-amd64; Cassandra 5.0
# runs on JDK 11 or 17 only), CASSANDRA_START_TIMEOUT (seconds, default 180).
# A second instance beside the first (e.g. one that `certmail chaos` may stop and start while
# other work uses the first): CASSANDRA_DIR (default var/cassandra; the jars are shared from
# var/cassandra/lib), CASSANDRA_CQL_PORT (9042), CASSANDRA_STORAGE_PORT (7000), CASSANDRA_JMX_PORT
# (7199). Every command of the script then means that instance.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CASSANDRA_DIR="${CASSANDRA_DIR:-$ROOT/var/cassandra}"
case "$CASSANDRA_DIR" in /*) ;; *) CASSANDRA_DIR="$PWD/$CASSANDRA_DIR" ;; esac
LIB_DIR="$ROOT/var/cassandra/lib"
CONF_DIR="$CASSANDRA_DIR/conf"
LOG_DIR="$CASSANDRA_DIR/logs"
PID_FILE="$CASSANDRA_DIR/cassandra.pid"
TOOLS_DIR="$ROOT/tools/cassandra"

JAVA_HOME_FOR_CASSANDRA="${CASSANDRA_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
START_TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
STOP_TIMEOUT=60
CQL_HOST=127.0.0.1
CQL_PORT="${CASSANDRA_CQL_PORT:-9042}"
STORAGE_PORT="${CASSANDRA_STORAGE_PORT:-7000}"
JMX_PORT="${CASSANDRA_JMX_PORT:-7199}"
MAIN_CLASS=org.apache.cassandra.service.CassandraDaemon

say() { echo "cassandra: $*"; }
fail() { echo "cassandra: ERROR: $*" >&2; exit 1; }

# The pid recorded by our own start, if that process is still a Cassandra JVM (a stale pid file,
# or a pid reused by an unrelated process after a reboot, counts as "not running").
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "$MAIN_CLASS" || return 1
  echo "$pid"
}

# True when 127.0.0.1:9042 speaks CQL: sends a native-protocol v4 OPTIONS request and expects a
# SUPPORTED response (header: version 0x84, flags 0, stream 0, opcode 0x06). A port that merely
# accepts TCP is not enough: Cassandra opens 9042 last, when it is ready for clients.
cql_answers() {
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x04\x00\x00\x00\x05\x00\x00\x00\x00" >&3
    header="$(head -c 5 <&3 | od -An -tx1 | tr -d " \n")"
    [[ "$header" == "8400000006" ]]
  ' "$CQL_HOST" "$CQL_PORT" 2>/dev/null
}

show_log_tail() {
  local f
  for f in "$LOG_DIR/system.log" "$LOG_DIR/stdout.log"; do
    if [[ -s "$f" ]]; then
      echo "----- last 40 lines of ${f#"$ROOT"/} -----" >&2
      tail -n 40 "$f" >&2
    fi
  done
  echo "-----" >&2
}

check_java() {
  local java="$JAVA_HOME_FOR_CASSANDRA/bin/java"
  [[ -x "$java" ]] || fail "no Java at $java. Cassandra 5.0 needs JDK 11 or 17: install it
  (apt-get install openjdk-17-jdk-headless) or point CASSANDRA_JAVA_HOME at one."
  local version major
  version="$("$java" -version 2>&1 | head -n 1)"
  major="$(sed -E 's/.*version "([0-9]+).*/\1/' <<<"$version")"
  [[ "$major" == 11 || "$major" == 17 ]] || fail "Cassandra 5.0 runs on JDK 11 or 17 only, but
  $java is: $version. Set CASSANDRA_JAVA_HOME to a JDK 17 (e.g. /usr/lib/jvm/java-17-openjdk-amd64)."
}

# The jars come from Maven Central through tools/cassandra/pom.xml. A marker holding the pom's
# checksum is written only after a complete copy, so an interrupted fetch, or an edited pom
# (another Cassandra version), fetches again.
ensure_jars() {
  local marker="$LIB_DIR/.fetched-from" wanted
  wanted="$(sha256sum "$TOOLS_DIR/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$marker" && "$(cat "$marker")" == "$wanted" ]]; then
    return 0
  fi
  say "fetching Apache Cassandra and its runtime dependencies from Maven Central into ${LIB_DIR#"$ROOT"/}"
  say "(first use only: about 100 jars, 66 MB; takes a minute) ..."
  rm -rf "$LIB_DIR"
  mkdir -p "$LIB_DIR"
  local started=$SECONDS
  if ! (cd "$ROOT" && ./mvnw -q -B -f tools/cassandra/pom.xml package -Dcassandra.lib.dir="$LIB_DIR"); then
    rm -rf "$LIB_DIR"
    fail "could not fetch the Cassandra jars (see the Maven output above). Check that Maven Central
  is reachable (./mvnw -v works), then run './scripts/cassandra.sh start' again."
  fi
  echo "$wanted" > "$marker"
  say "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $((SECONDS - started)) s"
}

write_conf() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$CASSANDRA_DIR/tmp" "$CASSANDRA_DIR/home" \
    "$CASSANDRA_DIR/data/data" "$CASSANDRA_DIR/data/commitlog" "$CASSANDRA_DIR/data/hints" \
    "$CASSANDRA_DIR/data/saved_caches" "$CASSANDRA_DIR/data/cdc_raw" "$CONF_DIR/triggers"
  sed -e "s#@CASSANDRA_HOME@#$CASSANDRA_DIR#g" -e "s#@STORAGE_PORT@#$STORAGE_PORT#g" -e "s#@CQL_PORT@#$CQL_PORT#g" \
    "$TOOLS_DIR/cassandra.yaml" > "$CONF_DIR/cassandra.yaml"
  cp "$TOOLS_DIR/logback.xml" "$CONF_DIR/logback.xml"
}

jvm_args() {
  local jamm
  jamm="$(find "$LIB_DIR" -maxdepth 1 -name 'jamm-*.jar' | head -n 1)"
  JVM_ARGS=(
    -Xms1G -Xmx1G -Xss256k
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxGCPauseMillis=300
    -XX:+ExitOnOutOfMemoryError
    # its collector's pauses with wall-clock times, as Cassandra's own distribution keeps them
    # (to match a stall of the nodes or of a bench step with a pause of Cassandra's)
    -Xlog:gc:file="$LOG_DIR/gc.log":time,uptime:filecount=5,filesize=10m
    # no hsperfdata file in /tmp: everything stays in var/cassandra
    -XX:+PerfDisableSharedMem
    -Djava.io.tmpdir="$CASSANDRA_DIR/tmp" -Djna.tmpdir="$CASSANDRA_DIR/tmp"
    -Duser.home="$CASSANDRA_DIR/home"
    -Djava.net.preferIPv4Stack=true
    -Dcassandra.storagedir="$CASSANDRA_DIR/data"
    -Dcassandra.logdir="$LOG_DIR"
    -Dcassandra.config="file://$CONF_DIR/cassandra.yaml"
    -Dcassandra.triggers_dir="$CONF_DIR/triggers"
    -Dlogback.configurationFile="$CONF_DIR/logback.xml"
    -Dcassandra-foreground=yes
    # Fast start of a single node (measured: without ring_delay ~30 s more). Safe because there
    # is no other node to wait for.
    -Dcassandra.ring_delay_ms=1000
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.superuser_setup_delay_ms=0
    # JMX for nodetool, bound to localhost only
    -Dcassandra.jmx.local.port=$JMX_PORT -Dcom.sun.management.jmxremote.authenticate=false
    # JDK 17: the module exports/opens of Cassandra's conf/jvm17-server.options
    -Djdk.attach.allowAttachSelf=true
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
    --add-exports java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  )
  # Cassandra measures object sizes with the jamm agent (as its own cassandra-env.sh does).
  [[ -n "$jamm" ]] && JVM_ARGS+=("-javaagent:$jamm")
  JVM_ARGS+=(-cp "$CONF_DIR:$LIB_DIR/*" "$MAIN_CLASS")
}

# Waits until CQL answers; fails when the process dies or CASSANDRA_START_TIMEOUT passes.
# $1: pid to watch (empty: only watch the port).
wait_for_cql() {
  local pid="$1" started=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
  printf 'cassandra: waiting for CQL on %s:%s ' "$CQL_HOST" "$CQL_PORT"
  while ! cql_answers; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      echo
      show_log_tail
      rm -f "$PID_FILE"
      fail "Cassandra (pid $pid) exited during start-up; the log above says why. Common causes:
  ports $STORAGE_PORT/$JMX_PORT/$CQL_PORT in use (another Cassandra? see: ss -ltnp | grep -E ':($STORAGE_PORT|$JMX_PORT|$CQL_PORT) '),
  too little free memory (it needs ~1.5 GB), or a wrong JDK. Full log: ${LOG_DIR#"$ROOT"/}/system.log"
    fi
    if (( SECONDS >= deadline )); then
      echo
      show_log_tail
      fail "CQL did not answer on $CQL_HOST:$CQL_PORT within $START_TIMEOUT s.${pid:+ Cassandra is still
  running as pid $pid:} wait longer with './scripts/cassandra.sh wait' (CASSANDRA_START_TIMEOUT=600 to
  wait more), or stop it with './scripts/cassandra.sh stop' and read ${LOG_DIR#"$ROOT"/}/system.log."
    fi
    sleep 1
    if (( (SECONDS - started) % 10 == 0 )); then printf '%ss' "$((SECONDS - started))"; else printf '.'; fi
  done
  echo " up after $((SECONDS - started)) s"
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    if cql_answers; then
      say "already running (pid $pid), CQL on $CQL_HOST:$CQL_PORT"
      return 0
    fi
    say "already starting (pid $pid)"
    wait_for_cql "$pid"
    return 0
  fi
  if cql_answers; then
    fail "a Cassandra that this script did not start (not from $CASSANDRA_DIR) already answers
  on $CQL_HOST:$CQL_PORT. Use it as it is, or stop it first (ss -ltnp | grep ':$CQL_PORT ' shows its pid)."
  fi
  check_java
  ensure_jars
  write_conf
  jvm_args
  rm -f "$PID_FILE"
  say "starting Apache Cassandra ($(basename "$(find "$LIB_DIR" -maxdepth 1 -name 'cassandra-all-*.jar' | head -n 1)" .jar)) in ${CASSANDRA_DIR#"$ROOT"/} on $("$JAVA_HOME_FOR_CASSANDRA/bin/java" -version 2>&1 | head -n 1)"
  # setsid: its own session, so a Ctrl-C in this terminal does not reach it; stop it with 'stop'.
  (cd "$CASSANDRA_DIR" && exec setsid "$JAVA_HOME_FOR_CASSANDRA/bin/java" "${JVM_ARGS[@]}" \
      </dev/null >"$LOG_DIR/stdout.log" 2>&1) &
  pid=$!
  echo "$pid" > "$PID_FILE"
  say "pid $pid; log: ${LOG_DIR#"$ROOT"/}/system.log"
  trap 'echo; say "interrupted: Cassandra (pid $pid) goes on starting; stop it with ./scripts/cassandra.sh stop"; exit 130' INT
  wait_for_cql "$pid"
  trap - INT
  say "running (pid $pid), CQL on $CQL_HOST:$CQL_PORT"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    if cql_answers; then
      say "not started by this script, but a Cassandra answers on $CQL_HOST:$CQL_PORT; leaving it alone"
    else
      say "not running"
    fi
    return 0
  fi
  local started=$SECONDS
  printf 'cassandra: stopping pid %s (SIGTERM) ' "$pid"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && (( SECONDS - started < STOP_TIMEOUT )); do
    sleep 1
    printf '.'
  done
  if kill -0 "$pid" 2>/dev/null; then
    printf ' still alive after %s s: SIGKILL ' "$STOP_TIMEOUT"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  echo " stopped in $((SECONDS - started)) s"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if cql_answers; then
      echo "running (pid $pid), CQL on $CQL_HOST:$CQL_PORT"
    else
      echo "running (pid $pid), not yet answering CQL on $CQL_HOST:$CQL_PORT"
    fi
    return 0
  fi
  if cql_answers; then
    echo "stopped (but a Cassandra not started by this script answers CQL on $CQL_HOST:$CQL_PORT)"
  else
    echo "stopped"
  fi
  return 3
}

cmd_wait() {
  local pid=""
  pid="$(running_pid)" || pid=""
  if cql_answers; then
    say "CQL answers on $CQL_HOST:$CQL_PORT"
    return 0
  fi
  wait_for_cql "$pid"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  wait) cmd_wait ;;
  *)
    echo "usage: $0 start|stop|status|wait" >&2
    echo "  start   fetch Cassandra 5.0 on first use, start it in $CASSANDRA_DIR, wait for CQL on 127.0.0.1:$CQL_PORT" >&2
    echo "  stop    stop it (SIGTERM, SIGKILL after ${STOP_TIMEOUT} s)" >&2
    echo "  status  print running (pid) or stopped; exit 0 if running, 3 if not" >&2
    echo "  wait    wait until CQL answers on 127.0.0.1:$CQL_PORT (timeout ${START_TIMEOUT} s)" >&2
    exit 2
    ;;
esac
