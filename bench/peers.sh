#!/usr/bin/env bash
# Stratum side by side with GoRules ZEN and json-rules-engine (npm) on the SME
# decision and the same generated companies, every engine checked against the
# hand-written oracle, then timed. Prints one table of per-core throughput.
#
#   bench/peers.sh [N=200000]        (after `make test`; needs node and npm)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-200000}
STRATUM=${STRATUM:-$ROOT/build/stratum}
[ -x "$STRATUM" ] || { echo "bench/peers.sh: build Stratum first (make test)" >&2; exit 2; }
command -v node >/dev/null || { echo "bench/peers.sh: needs node and npm" >&2; exit 2; }
cd bench/peers
[ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error
node gen.js "$N" >/dev/null
node to_stratum.js
# Stratum's answers, checked against the oracle like every engine's.
"$STRATUM" eval "$ROOT/rules/sme_size.strat" --input data/companies_stratum.csv --format csv \
  --output data/stratum.csv --threads 1 2>/dev/null
node compare.js
# Timing: the same companies 10 times over (so a run lasts long enough to time
# well), 5 runs end to end on one thread; the median CPU time (user + system).
{ head -1 data/companies_stratum.csv; for _ in 1 2 3 4 5 6 7 8 9 10; do tail -n +2 data/companies_stratum.csv; done; } \
  > data/companies_stratum_x10.csv
rm -f data/time.*
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%U %S" -o "data/time.$i" "$STRATUM" eval "$ROOT/rules/sme_size.strat" \
    --input data/companies_stratum_x10.csv --format csv --output data/stratum_x10.csv --threads 1 2>/dev/null
done
CPU=$(cat data/time.* | awk '{print ($1 + $2) / 10}' | sort -n | sed -n 3p)
# The same through the rules compiled ahead of time (build --native): the
# same output, byte for byte.
"$STRATUM" build --native "$ROOT/rules/sme_size.strat" -o data/sme_size.so 2>/dev/null
rm -f data/time.*
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%U %S" -o "data/time.$i" "$STRATUM" eval "$ROOT/rules/sme_size.strat" --native data/sme_size.so \
    --input data/companies_stratum_x10.csv --format csv --output data/stratum_native_x10.csv --threads 1 2>/dev/null
done
cmp -s data/stratum_x10.csv data/stratum_native_x10.csv || { echo "bench/peers.sh: eval --native decided otherwise" >&2; exit 1; }
CPU_NATIVE=$(cat data/time.* | awk '{print ($1 + $2) / 10}' | sort -n | sed -n 3p)
node bench.js --records "$N" --only zen2-table-batch,zen-table-inflight,zen-switch-inflight,jre-stop,oracle \
  --json data/peers.json > data/peers.log
grep -E "mismatches" data/peers.log | sed 's/^/  /'
echo
echo "$N companies, $(nproc) cores, node $(node --version), $(date -u +%Y-%m-%d)"
node report.js "$CPU" "$N" "$CPU_NATIVE"
