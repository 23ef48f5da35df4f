#!/usr/bin/env bash
# Compares a Ballast volume (VolumeEngine over the TCP data plane, served by @ballast/nbd; its
# storage nodes are local processes) with 1 and 3 replicas against `nbdkit file`, through fio's
# nbd engine over unix sockets: 4k randwrite at QD32 and QD1, interleaved
# (nbdkit, r1, r3, nbdkit, r1, r3 ...) so every target sees the same machine state.
#
#   bash packages/engine/bench/compare.sh [ROUNDS] [RUNTIME_S] [SIZE]
#
# Needs: a built package (node scripts/build.js), nbdkit, fio with the nbd engine.
# Prints one line per run and a summary: mean IOPS, mean latency, ratio to nbdkit.
set -euo pipefail

ROUNDS=${1:-2}
RUNTIME=${2:-10}
SIZE=${3:-512M}
HERE=$(cd "$(dirname "$0")" && pwd)
SERVE="$HERE/../dist/bench/serve.js"
WORK=$(mktemp -d /tmp/ballast-engine-bench.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -f "$SERVE" ] || { echo "build first: node scripts/build.js" >&2; exit 1; }

fallocate -l "$SIZE" "$WORK/nbdkit.img"
nbdkit --foreground --unix "$WORK/nbdkit.sock" file file="$WORK/nbdkit.img" &
PIDS+=($!)
for r in 1 3; do
  node "$SERVE" --socket "$WORK/r$r.sock" --start-nodes "$r" --replicas "$r" --size "$SIZE" \
    --chunk-size 4MiB --dir "$WORK/r$r" >"$WORK/r$r.out" 2>"$WORK/r$r.err" &
  PIDS+=($!)
done
for _ in $(seq 1 600); do
  [ -S "$WORK/nbdkit.sock" ] && grep -q ready "$WORK/r1.out" 2>/dev/null &&
    grep -q ready "$WORK/r3.out" 2>/dev/null && break
  sleep 0.1
done
grep -q ready "$WORK/r3.out" || { echo "targets did not start" >&2; cat "$WORK"/*.err >&2; exit 1; }

declare -A URI=(
  [nbdkit]="nbd+unix:///?socket=$WORK/nbdkit.sock"
  [r1]="nbd+unix:///?socket=$WORK/r1.sock"
  [r3]="nbd+unix:///?socket=$WORK/r3.sock"
)
TARGETS=(nbdkit r1 r3)

# Prefill every target through its server (allocated data, dirty marks taken once).
for name in "${TARGETS[@]}"; do
  fio --name=prefill --ioengine=nbd --uri="${URI[$name]}" --rw=write --bs=1M --iodepth=8 \
    --size="$SIZE" >/dev/null
done
sync

declare -A TOTAL=() LAT=() COUNT=()
for round in $(seq 1 "$ROUNDS"); do
  for qd in 32 1; do
    for name in "${TARGETS[@]}"; do
      sync
      read -r iops lat < <(fio --name="w$qd" --ioengine=nbd --uri="${URI[$name]}" --rw=randwrite \
        --bs=4k --iodepth="$qd" --size="$SIZE" --time_based --runtime="$RUNTIME" --ramp_time=2 \
        --output-format=json | node -e '
          let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const job = JSON.parse(s.slice(s.indexOf("{"))).jobs[0];
            console.log(Math.round(job.write.iops), Math.round(job.write.lat_ns.mean / 1000));
          });')
      echo "round $round randwrite QD$qd $name: $iops IOPS, mean latency $lat us"
      TOTAL[$qd.$name]=$(( ${TOTAL[$qd.$name]:-0} + iops ))
      LAT[$qd.$name]=$(( ${LAT[$qd.$name]:-0} + lat ))
      COUNT[$qd.$name]=$(( ${COUNT[$qd.$name]:-0} + 1 ))
    done
  done
done

echo
echo "summary (mean of $ROUNDS rounds, ${RUNTIME}s each, 4k randwrite, volume $SIZE):"
for qd in 32 1; do
  kit=$(( TOTAL[$qd.nbdkit] / COUNT[$qd.nbdkit] ))
  for name in "${TARGETS[@]}"; do
    mean=$(( TOTAL[$qd.$name] / COUNT[$qd.$name] ))
    lat=$(( LAT[$qd.$name] / COUNT[$qd.$name] ))
    ratio=$(node -e "console.log(($mean / $kit).toFixed(2))")
    echo "  QD$qd $name: $mean IOPS, $lat us mean, ratio to nbdkit $ratio"
  done
done
