#!/usr/bin/env bash
# File: tools/install_kafka.sh
#
# Installs the Apache Kafkas pinned in third_party/kafka/pom.xml (every cluster) and
# third_party/kafka-3.9/pom.xml (the secure one, `tools/kafka up --secure`: broker,
# Kafka's own tools and the logging backend) from Maven Central into a cache outside
# the source tree, where tools/kafka finds them: $KITCHEN_CACHE_DIR (default
# /var/cache/kitchen)/kafka-VERSION/libs. Idempotent and offline once cached: a complete cache is left
# alone, and Maven's own repository sits in the same cache. Java and Maven come from
# Debian's packages (tools/install_deps.sh installs them first).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${KITCHEN_CACHE_DIR:-/var/cache/kitchen}"

# install POM BINDING: the Kafka that POM pins, into $cache/kafka-VERSION; BINDING is
# the jar (prefix) of its logging backend that must be among what Maven fetched:
# Log4j2's SLF4J binding (in the pom) for 4.x, reload4j's (Kafka's own) for 3.x.
install() {
local pom="$1" binding="$2" version target want partial
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
target="$cache/kafka-$version"

# The cache is complete when its marker names the pom it was made from.
want=$(sha256sum "$pom" | cut -d' ' -f1)
if [ "$(cat "$target/.complete" 2>/dev/null || true)" = "$want" ]; then
  return 0
fi

echo "install_kafka: fetching Apache Kafka $version from Maven Central into $target" >&2
mkdir -p "$cache"
partial="$target.partial.$$"
trap 'rm -rf "$partial"' EXIT
if ! mvn -q -B -f "$pom" -Dmaven.repo.local="$cache/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$partial/libs" \
    >"$cache/mvn-$version.log" 2>&1; then
  tail -n 30 "$cache/mvn-$version.log" >&2
  echo "install_kafka: Maven could not fetch Kafka $version (full log: $cache/mvn-$version.log)" >&2
  exit 1
fi
for jar in "kafka_2.13-$version.jar" "kafka-tools-$version.jar" "$binding"; do
  if ! ls "$partial/libs/$jar"* >/dev/null 2>&1; then
    echo "install_kafka: $jar is missing from what Maven fetched" >&2
    exit 1
  fi
done
echo "$want" >"$partial/.complete"
rm -rf "$target"
mv "$partial" "$target"
echo "install_kafka: done ($(ls "$target/libs" | wc -l) jars)" >&2
trap - EXIT
}

install "$root/third_party/kafka/pom.xml" "log4j-slf4j-impl-"
install "$root/third_party/kafka-3.9/pom.xml" "slf4j-reload4j-"
