#!/usr/bin/env bash
# Builds the example service and drives it over HTTP (test.py); scripts/test runs this after the
# library's tests.
set -euo pipefail
cd "$(dirname "$0")"
swift build
python3 test.py "$(swift build --show-bin-path)/ImageSearchService"
