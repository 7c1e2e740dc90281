#!/usr/bin/env bash
# Raw Cassandra write rate through the Java driver (net.certmail.persistence.bench.CassandraWriteBench):
# async prepared inserts of 100-byte rows into a scratch table, bounded in rows and seconds.
# Needs a running Cassandra (./scripts/cassandra.sh start). Arguments go to the benchmark, e.g.
#   scripts/cassandra-write-bench.sh rows=300000 seconds=30 concurrency=256 row-bytes=100
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "bench: compiling persistence and computing its class path ..."
./mvnw -q -B -pl persistence -am compile dependency:build-classpath \
  -Dmdep.outputFile=target/runtime.classpath -DincludeScope=runtime
exec java -Xms512m -Xmx512m -Dslf4j.internal.verbosity=ERROR -cp "persistence/target/classes:$(cat persistence/target/runtime.classpath)" \
  net.certmail.persistence.bench.CassandraWriteBench "$@"
