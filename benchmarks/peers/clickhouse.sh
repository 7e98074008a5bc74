#!/usr/bin/env bash
# A store's codes exported by bgan-db, loaded into ClickHouse (chDB: the ClickHouse engine
# in-process, the same SQL and functions a cluster's tables run) and searched exactly there;
# ClickHouse's 10 nearest distances must equal bgan-db's. See clickhouse.py.
#
#   benchmarks/peers/clickhouse.sh [COUNT] [QUERIES]     # default 10^6 codes, 1,000 queries
#
# chdb and numpy go into a private virtual environment beside this script (PyPI).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv-clickhouse"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet chdb==4.4.0 numpy
fi
(cd "$root" && swift build -c release --product bgan-db >&2)
bgan_db="$(cd "$root" && swift build -c release --show-bin-path)/bgan-db"
"$venv/bin/python" "$here/clickhouse.py" "$bgan_db" "${1:-1000000}" "${2:-1000}"
