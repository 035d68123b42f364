#!/usr/bin/env bash
# Installs every Debian package the kitchen needs to build, test and run its demo, then
# the pinned Apache Kafka from Maven Central (tools/install_kafka.sh).
# Idempotent: packages already present are left alone, and apt is only asked when
# something is missing. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  bazel-bootstrap      # Bazel 4.2.3, the build tool
  bazel-rules-java     # @rules_java, which Bazel 4.2.3 registers even for C++
  g++                  # C++ compiler
  pkg-config           # link lines of the system libraries
  librdkafka-dev       # Kafka client + mock cluster (the dev broker)
  libprotobuf-dev      # Protobuf runtime headers and library
  protobuf-compiler    # protoc
  libabsl-dev          # Abseil: status, flags, strings, time
  libgtest-dev         # GoogleTest
  kcat                 # independent Kafka client, for checks and benchmarks
  python3              # test and benchmark drivers
  python3-yaml         # PyYAML, for the deployment files' static test
  clang-format         # formatting (.clang-format at the root)
  python3-matplotlib   # the benchmark's latency plot (tools/bench)
  openjdk-17-jre-headless  # Java for the local Apache Kafka (tools/kafka)
  maven                # fetches Apache Kafka from Maven Central (tools/install_kafka.sh)
  libcpp-httplib-dev   # the board's HTTP server (cpp-httplib, server-sent events)
  nlohmann-json3-dev   # JSON for the board's API
  prometheus-cpp-dev   # Prometheus metrics: registry and text format (/metrics)
  chromium             # a real browser for the board's end-to-end test
  chromium-driver      # WebDriver for it
  python3-selenium     # drives it from the test
  curl                 # the board's HTTP API in its end-to-end test
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install_deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install_deps: done" >&2
fi

"$(dirname "$0")/install_kafka.sh"
