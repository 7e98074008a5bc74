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
# lines and each stage's peak resident memory. WORK=DIR keeps the files (default: a temp folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
count="${1:-1000000}"
seconds="${2:-120}"
work="${WORK:-$(mktemp -d /tmp/bgan-million-XXXXXX)}"
mkdir -p "$work"
fashion=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -f "$fashion" ] || { echo "needs Fashion-MNIST from Debian: apt-get install dataset-fashion-mnist" >&2; exit 1; }
(cd "$root" && swift build -c release --product bgan-db >&2)
bgan_db="$(cd "$root" && swift build -c release --show-bin-path)/bgan-db"
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
  echo "== $name: bgan-db $*"
  grep -v "/s ETA" "$log" | sed 's/^/   /'
  echo "   set-up until the first progress line: ${setup}s"
  grep "/s ETA" "$log" | tail -1 | sed 's/^/   last progress: /'
  local peak
  peak=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
  awk -v kb="$peak" 'BEGIN { printf "   peak resident memory: %.2f GB\n", kb / 1e6 }'
}

echo "$count images in $data; each stage stopped ${seconds}s after its first step"
[ -f "$work/stage1-60k.bganmodel" ] || "$bgan_db" pretrain --data "$fashion" --limit 60000 --epochs 1 \
  --out "$work/stage1-60k.bganmodel" > "$work/stage1-60k.log" 2>&1
run_stage pretrain pretrain --data "$data" --neighbour-partners pixels --out "$work/pretrain.bganmodel"
run_stage train train --data "$data" --pretrained "$work/stage1-60k.bganmodel" --out "$work/train.bganmodel"
