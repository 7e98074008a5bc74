#!/usr/bin/env bash
# Training at a million images: peak memory and set-up time of both training stages.
#
#   benchmarks/training/million.sh [COUNT [SECONDS]]
#
# Writes COUNT images (default 1,000,000: Fashion-MNIST's 60,000 training images, then augmented
# copies of them, see augment.py) as one IDX file, then runs, each under /usr/bin/time -v:
#   stage 1  bgan-db pretrain on all of them, with the recommended recipe's neighbour partners
#            (each image's 5 nearest neighbours in pixels);
#   stage 2  bgan-db train --pretrained MODEL on all of them, its neighbourhood structure and
#            spectral targets from MODEL's features (MODEL: one epoch of pre-training on the
#            first 60,000 images, made here first);
# each stopped with SIGINT (it writes a checkpoint and exits 130) SECONDS (default 120) after
# its first progress line, when the set-up is done and steps are running. Prints the logs' set-up
# lines, each stage's peak resident memory and the peak of each phase (resident memory sampled
# every half second beside the log's last line: set-up before S, building S, targets, training
# steps, the checkpoint written on the stop). WORK=DIR keeps the files (default: a temp folder);
# STAGES="train" runs the BGAN stage alone (default "pretrain train"); BGAN_DB=PATH runs that
# binary instead of building this checkout's (to compare two builds on the same files).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
count="${1:-1000000}"
seconds="${2:-120}"
work="${WORK:-$(mktemp -d /tmp/bgan-million-XXXXXX)}"
mkdir -p "$work"
fashion=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -f "$fashion" ] || { echo "needs Fashion-MNIST from Debian: apt-get install dataset-fashion-mnist" >&2; exit 1; }
if [ -n "${BGAN_DB:-}" ]; then
  bgan_db="$BGAN_DB"
else
  (cd "$root" && swift build -c release --product bgan-db >&2)
  bgan_db="$(cd "$root" && swift build -c release --show-bin-path)/bgan-db"
fi
data="$work/images-$count.idx"
[ -f "$data" ] || python3 "$here/augment.py" "$fashion" "$count" "$data"

# Runs bgan-db with the given arguments until SECONDS after its first progress line.
run_stage() {
  local name=$1
  shift
  local log="$work/$name.log"
  local started=$SECONDS
  /usr/bin/time -v -o "$work/$name.time" "$bgan_db" "$@" > "$log" 2>&1 &
  local wrapper=$!
  sample_memory "$wrapper" "$log" > "$work/$name.rss" &
  local sampler=$!
  until grep -q "/s ETA" "$log" 2>/dev/null; do
    if ! kill -0 "$wrapper" 2>/dev/null; then
      echo "$name ended before its first step:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 2
  done
  local setup=$((SECONDS - started))
  sleep "$seconds"
  pkill -INT -P "$wrapper" || true
  wait "$wrapper" || true
  wait "$sampler" || true
  echo "== $name: bgan-db $*"
  grep -v "/s ETA" "$log" | sed 's/^/   /'
  echo "   set-up until the first progress line: ${setup}s"
  grep "/s ETA" "$log" | tail -1 | sed 's/^/   last progress: /'
  local peak
  peak=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
  awk -v kb="$peak" 'BEGIN { printf "   peak resident memory: %.2f GB\n", kb / 1e6 }'
  awk '{ kb = $1; $1 = ""; phase = "set-up" }
       /building the neighbourhood structure|finding the/ { phase = "nearest-neighbour lists and S" }
       /structure built|spectral embedding/ { phase = "similarity targets" }
       /\/s ETA/ { phase = "training steps" }
       /interrupt/ { phase = "checkpoint on the stop" }
       { if (!(phase in peak)) order[++n] = phase; if (kb > peak[phase]) peak[phase] = kb }
       END { for (i = 1; i <= n; i++) printf "   peak while %s: %.2f GB\n", order[i], peak[order[i]] / 1e6 }' "$work/$name.rss"
}

# Prints, every half second until process $1 (/usr/bin/time) ends, its child's resident memory
# (kB) and the last line of log $2.
sample_memory() {
  local wrapper=$1 log=$2 child rss
  while kill -0 "$wrapper" 2>/dev/null; do
    child=$(pgrep -P "$wrapper" | head -1 || true)
    rss=$(awk '/VmRSS/ {print $2}' "/proc/${child:-0}/status" 2>/dev/null || true)
    if [ -n "$rss" ]; then echo "$rss $(tail -c 300 "$log" | tr '\r' '\n' | grep -v '^$' | tail -1 || true)"; fi
    sleep 0.5
  done
}

echo "$count images in $data; each stage stopped ${seconds}s after its first step"
[ -f "$work/stage1-60k.bganmodel" ] || "$bgan_db" pretrain --data "$fashion" --limit 60000 --epochs 1 \
  --out "$work/stage1-60k.bganmodel" > "$work/stage1-60k.log" 2>&1
stages="${STAGES:-pretrain train}"
if [[ " $stages " == *" pretrain "* ]]; then
  run_stage pretrain pretrain --data "$data" --neighbour-partners pixels --out "$work/pretrain.bganmodel"
fi
if [[ " $stages " == *" train "* ]]; then
  run_stage train train --data "$data" --pretrained "$work/stage1-60k.bganmodel" --out "$work/train.bganmodel"
fi
