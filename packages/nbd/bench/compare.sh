#!/usr/bin/env bash
# Compares @ballast/nbd (FileBlockDevice) with `nbdkit file` on the same kind of file, through
# fio's nbd engine over unix sockets: 4k randwrite QD32 and 4k randread QD32, interleaved
# (nbdkit, ballast, nbdkit, ballast ...) so both see the same machine state.
#
#   bash packages/nbd/bench/compare.sh [ROUNDS] [RUNTIME_S] [SIZE]
#
# Needs: a built package (node scripts/build.js common nbd), nbdkit, fio with the nbd engine.
# Prints one line per run and a summary with mean IOPS and the ballast/nbdkit ratio.
set -euo pipefail

ROUNDS=${1:-2}
RUNTIME=${2:-15}
SIZE=${3:-1G}
HERE=$(cd "$(dirname "$0")" && pwd)
CLI="$HERE/../dist/src/serve-cli.js"
WORK=$(mktemp -d /tmp/ballast-nbd-bench.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -f "$CLI" ] || { echo "build first: node scripts/build.js common nbd" >&2; exit 1; }

fallocate -l "$SIZE" "$WORK/nbdkit.img"
fallocate -l "$SIZE" "$WORK/ballast.img"

nbdkit --foreground --unix "$WORK/nbdkit.sock" file file="$WORK/nbdkit.img" &
PIDS+=($!)
node "$CLI" --socket "$WORK/ballast.sock" --file "$WORK/ballast.img" --name disk >"$WORK/ballast.log" &
PIDS+=($!)

for _ in $(seq 1 100); do
  [ -S "$WORK/nbdkit.sock" ] && grep -q ready "$WORK/ballast.log" 2>/dev/null && break
  sleep 0.1
done

declare -A URI=(
  [nbdkit]="nbd+unix:///?socket=$WORK/nbdkit.sock"
  [ballast]="nbd+unix:///disk?socket=$WORK/ballast.sock"
)

# Prefill both files through their servers so reads hit written data.
for name in nbdkit ballast; do
  fio --name=prefill --ioengine=nbd --uri="${URI[$name]}" --rw=write --bs=1M --iodepth=8 \
    --size="$SIZE" >/dev/null
done
sync

declare -A TOTAL=()
declare -A COUNT=()
for round in $(seq 1 "$ROUNDS"); do
  for job in randwrite randread; do
    for name in nbdkit ballast; do
      sync
      iops=$(fio --name="$job" --ioengine=nbd --uri="${URI[$name]}" --rw="$job" --bs=4k \
        --iodepth=32 --size="$SIZE" --time_based --runtime="$RUNTIME" --ramp_time=2 \
        --output-format=json | node -e '
          let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const job = JSON.parse(s.slice(s.indexOf("{"))).jobs[0];
            console.log(Math.round(job.write.iops + job.read.iops));
          });')
      echo "round $round $job $name: $iops IOPS"
      TOTAL[$job.$name]=$(( ${TOTAL[$job.$name]:-0} + iops ))
      COUNT[$job.$name]=$(( ${COUNT[$job.$name]:-0} + 1 ))
    done
  done
done

echo
echo "summary (mean of $ROUNDS rounds, ${RUNTIME}s each, 4k QD32, file $SIZE):"
for job in randwrite randread; do
  kit=$(( TOTAL[$job.nbdkit] / COUNT[$job.nbdkit] ))
  ours=$(( TOTAL[$job.ballast] / COUNT[$job.ballast] ))
  ratio=$(node -e "console.log(($ours / $kit).toFixed(2))")
  echo "  $job: nbdkit $kit IOPS, ballast $ours IOPS, ratio $ratio"
done
