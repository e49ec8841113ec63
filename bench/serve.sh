#!/usr/bin/env bash
# The decision service under load (docs/performance.md, "The service"):
# single-record requests over kept-alive connections at 1, 16 and 64
# connections, and 10,000-record batches, with wrk on loopback. Each figure
# is the median of REPS runs of SECONDS seconds, with the spread (min–max).
#
#   bench/serve.sh                      (after `make test`)
#   REPS=3 SECONDS_EACH=5 bench/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -x "$BUILD/stratum" ] || { echo "bench/serve.sh: build first (make test)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench/serve.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }
exec /usr/bin/python3 bench/serve_bench.py --stratum "$BUILD/stratum" --reps "${REPS:-5}" --seconds "${SECONDS_EACH:-10}"
