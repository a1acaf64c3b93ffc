#!/usr/bin/env bash
# A real Apache Kafka 4.1 broker (KRaft, single node, combined mode) as the reference for
# Tributary, from jars Maven fetches from Maven Central into ~/.cache/tributary (nothing of
# Kafka is kept in the repository). Needs java 17+ and mvn.
#
#   test/reference/kafka.sh fetch                    fetch the jars; print their folder
#   test/reference/kafka.sh start [name=value ...]   run a broker on free loopback ports until
#                                                    Ctrl-C, e.g. log.flush.interval.messages=1
#   test/reference/kafka.sh start-cluster [name=value ...]   the same with three KRaft nodes
#                                                    (combined mode, a quorum of three voters)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/test/reference/kafka-cli.js ] || npx tsc -p .
exec node dist/test/reference/kafka-cli.js "$@"
