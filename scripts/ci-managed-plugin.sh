#!/usr/bin/env bash
# The managed (v2) Docker plugin test, as .ci/run runs it: it needs the machine's dockerd (to
# build the ballast:local image the plugin's rootfs comes from; the test then installs the plugin
# into a second dockerd of its own). Starts dockerd when none answers and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

started=""
stop_dockerd() {
  if [ -n "$started" ] && kill -0 "$started" 2>/dev/null; then
    kill "$started" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$started" 2>/dev/null || break; sleep 1; done
  fi
}
trap stop_dockerd EXIT

if ! docker info >/dev/null 2>&1; then
  dockerd >/tmp/ballast-ci-dockerd.log 2>&1 &
  started=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start"; tail -20 /tmp/ballast-ci-dockerd.log; exit 1; }
fi

bash cluster/build-images.sh
npm run test:plugin -w @ballast/agent
