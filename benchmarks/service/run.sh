#!/usr/bin/env bash
# Load on the example service (Examples/ImageSearchService, release build) with wrk: search by
# code and by image at 1, 8 and 64 connections, 10 s each, over a store of the 60,000
# Fashion-MNIST training images (bundled 64-bit model); queries cycle through the codes of 1,000
# test images and through 100 test images. The service and wrk share the machine.
# The first table drives the service as hard as the connections can (each sends its next request
# as soon as the last is answered), so its latencies include the queue that saturation builds
# (at 64 connections, mean latency = 64 ÷ requests/s). The second holds searches by image at
# offered rates (64 connections, each pausing a random 0.5–1.5 × 64 ÷ RATE seconds between an
# answer and its next request): the latency of a service carrying that load, not of one
# overloaded. wrk times a request from its sending, so pauses are not counted.
#
#   benchmarks/service/run.sh [SECONDS] [RATE…]   # default rates: 1000 2000 3000
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-10}"
shift || true
rates=("${@:-1000 2000 3000}")
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
(cd "$root" && swift build -c release --product bgan-db >&2)
(cd "$root/Examples/ImageSearchService" && swift build -c release >&2)
bgan_db="$(cd "$root" && swift build -c release --show-bin-path)/bgan-db"
service="$(cd "$root/Examples/ImageSearchService" && swift build -c release --show-bin-path)/ImageSearchService"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
F=/usr/share/datasets/fashion-mnist
"$bgan_db" create "$work/store" --bits 64 >&2
"$bgan_db" ingest "$work/store" "$F/train-images-idx3-ubyte.gz" >&2
# Queries that differ from request to request: the codes of the first 1,000 test images (none
# of them stored) and the first 100 test images themselves as PGM bodies.
"$bgan_db" encode --bits 64 --limit 1000 "$F/t10k-images-idx3-ubyte.gz" | cut -f1 > "$work/codes.txt"
python3 - "$work/images.bin" <<'PY2'
import gzip, sys
raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:]
with open(sys.argv[1], "wb") as out:
    for i in range(100):
        out.write(b"P5 28 28 255\n" + raw[i * 784:(i + 1) * 784])
PY2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$service" --store "$work/store" --port "$port" > "$work/service.log" 2>&1 &
pid=$!
until curl -s -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.2; done
# One search by image first, so that no row times the network being built.
curl -s -o /dev/null -X POST --data-binary @<(head -c 797 "$work/images.bin") "http://127.0.0.1:$port/search?k=1"
# Each wrk thread walks the query list from a random starting point.
cat > "$work/code.lua" <<LUA
local codes = {}
for line in io.lines("$work/codes.txt") do codes[#codes + 1] = line end
local next = math.random(#codes)
request = function()
  next = next % #codes + 1
  return wrk.format("POST", "/search?code=" .. codes[next] .. "&k=10")
end
LUA
cat > "$work/image.lua" <<LUA
local f = io.open("$work/images.bin", "rb")
local all = f:read("*all")
f:close()
local size = #all / 100
local images = {}
for i = 0, 99 do images[#images + 1] = all:sub(i * size + 1, (i + 1) * size) end
local next = math.random(#images)
request = function()
  next = next % #images + 1
  return wrk.format("POST", "/search?k=10", nil, images[next])
end
LUA
# One table row from wrk's output: LABEL, then requests/s, p50, p99 and any errors.
table_row() {
  local label="$1" out="$2"
  local rate p50 p99 errors
  rate="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx|Socket errors/' <<<"$out")"
  echo "| $label | $rate | $p50 | $p99 |${errors:+ $errors}"
}
echo "| search | connections | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for kind in code image; do
  for connections in 1 8 64; do
    threads=$(( connections < 2 ? 1 : 2 ))
    table_row "by $kind | $connections" "$(wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency -s "$work/$kind.lua" "http://127.0.0.1:$port")"
  done
done
echo
echo "| search at an offered rate, 64 connections | offered/s | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for rate in ${rates[*]}; do
  { cat "$work/image.lua"; echo "delay = function() return 64000 / $rate * (0.5 + math.random()) end"; } > "$work/paced.lua"
  table_row "by image | $rate" "$(wrk -t 2 -c 64 -d "${seconds}s" --latency -s "$work/paced.lua" "http://127.0.0.1:$port")"
done
