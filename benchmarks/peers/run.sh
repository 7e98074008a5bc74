#!/usr/bin/env bash
# Times faiss (IndexBinaryFlat, IndexBinaryMultiHash) and bgan-db on the very same .npy files,
# one thread, exact 10-NN, and checks that bgan-db's distances equal faiss's exhaustive ones.
#
#   benchmarks/peers/run.sh DIR [QUERIES [RADIUS]]
#
# With RADIUS, every code within RADIUS bits instead (faiss range_search against query --radius).
# MULTIHASH_QUERIES=N: faiss's multi-hash index answers only the first N queries (0: left out).
# DIR holds NAME.database.npy / NAME.queries.npy pairs, as written by
#   bgan-bench search --save-npy DIR
# faiss-cpu and numpy go into a private virtual environment beside this script (PyPI).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:?usage: run.sh DIR (of NAME.database.npy / NAME.queries.npy from bgan-bench search --save-npy)}"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet faiss-cpu numpy
fi
(cd "$root" && swift build -c release --product bgan-db >&2)
bgan_db="$(cd "$root" && swift build -c release --show-bin-path)/bgan-db"
OMP_NUM_THREADS=1 "$venv/bin/python" "$here/peers.py" "$data" "$bgan_db" "${2:-1000}" ${3:+"$3"}
