#!/usr/bin/env bash
# The photo benchmark: assembles it (once) from photographs in Debian packages, then runs PDQ in
# our store, our BGAN encoder, Meta's pdqhash and imagehash's pHash/dHash/wHash side by side on
# every photo, and again on the held-out half with the bundled photo model beside them (it was
# trained on the other half, so only that half measures it: docs/photos.md), and on the unseen
# set (photographs by other photographers from other packages, that nothing is trained or tuned on).
#
#   benchmarks/photos/run.sh [DATA [UNSEEN]]   (defaults: benchmarks/data/photos, benchmarks/data/photos-unseen)
#
# Pillow, NumPy, pdqhash and imagehash go into a private virtual environment beside this script
# (PyPI); the packages come from the machine's apt sources (`apt-get download`, nothing installed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:-$root/benchmarks/data/photos}"
unseen="${2:-$root/benchmarks/data/photos-unseen}"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pillow==13.0.0 numpy==2.4.6 pdqhash==0.2.8 imagehash==4.3.2
fi
if [ ! -d "$data/originals" ]; then
  "$venv/bin/python" "$here/assemble.py" "$data"
fi
(cd "$root" && swift build -c release --product bgan-db >&2)
bgan_db="$(cd "$root" && swift build -c release --show-bin-path)/bgan-db"
"$venv/bin/python" "$here/evaluate.py" "$data" "$bgan_db" --json "$data/results.json"
"$venv/bin/python" "$here/evaluate.py" "$data" "$bgan_db" --held-out --json "$data/results-held-out.json" \
    --model "photos-64=$root/Fixtures/models/photos-64.bganmodel"
if [ ! -d "$unseen/originals" ]; then
  "$venv/bin/python" "$here/assemble.py" "$unseen" --photographs unseen
fi
"$venv/bin/python" "$here/evaluate.py" "$unseen" "$bgan_db" --json "$unseen/results.json" \
    --model "photos-64=$root/Fixtures/models/photos-64.bganmodel"
