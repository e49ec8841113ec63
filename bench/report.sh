#!/usr/bin/env bash
# `stratum report` against `stratum eval` on the same generated corporate
# portfolio (docs/performance.md, "Reports"): wall time and peak memory,
# median and spread of REPS runs each, and the ratio of the medians.
#
#   bench/report.sh                 (after `make test`; 10M records, about 2 GB in bench/data/)
#   N=1000000 REPS=5 bench/report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
STRATUM=$BUILD/stratum
N=${N:-10000000}
REPS=${REPS:-3}
[ -x "$STRATUM" ] || { echo "bench/report.sh: build first (make test)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench/report.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p bench/data
data=bench/data/corporate-$N.csv
[ -s "$data" ] || python3 bench/gen.py corporate "$N" > "$data"
times=$(mktemp)
trap 'rm -f "$times" bench/data/report-out.csv bench/data/report-out.html' EXIT
for rep in $(seq "$REPS"); do
  /usr/bin/time -f "eval %e %M" -a -o "$times" "$STRATUM" eval rules/corporate_segments.strat --input "$data" \
    --format csv --output bench/data/report-out.csv 2>/dev/null
  /usr/bin/time -f "report %e %M" -a -o "$times" "$STRATUM" report rules/corporate_segments.strat --input "$data" \
    --output bench/data/report-out.html 2>/dev/null
done
python3 - "$times" "$N" "$(stat -c %s "$data")" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    kind, secs, kb = line.split()
    runs.setdefault(kind, []).append((float(secs), int(kb)))
print('corporate portfolio: %s records, %.0f MB of CSV; %d runs each; median (min–max)' % (
    f'{int(sys.argv[2]):,}', int(sys.argv[3]) / 1e6, len(runs['eval'])))
med = {}
for kind in ('eval', 'report'):
    s = [r[0] for r in runs[kind]]
    m = [r[1] / 1024 for r in runs[kind]]
    med[kind] = statistics.median(s)
    print('%-7s %7.2f s (%.2f–%.2f)   peak memory %4.0f MB (%.0f–%.0f)' % (kind, med[kind], min(s), max(s),
          statistics.median(m), min(m), max(m)))
print('report / eval: %.2f×' % (med['report'] / med['eval']))
PY
