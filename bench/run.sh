#!/usr/bin/env bash
# Stratum's performance table: in-memory evaluation against hand-written C++,
# and `stratum eval` end to end on generated portfolios of 1M and 10M records,
# on one thread and on all cores, with peak memory.
#
#   bench/run.sh            (after `make test`; writes data into bench/data/)
#   SIZES="1000000" bench/run.sh   to skip the 10M portfolio
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-$ROOT/build}
STRATUM=$BUILD/stratum
BENCH=$BUILD/bench/stratum_bench
SIZES=${SIZES:-"1000000 10000000"}
THREADS=$(nproc)
[ -x "$STRATUM" ] || { echo "bench/run.sh: build first (make test)" >&2; exit 2; }
[ -x "$BENCH" ] || { echo "bench/run.sh: $BENCH is missing: install libbenchmark-dev and rebuild (make test)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench/run.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p bench/data
OUT=bench/data/results.tsv
: > "$OUT"

# 1. In memory: median of 5 repetitions.
"$BENCH" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=json > bench/data/inmemory.json 2>/dev/null

# 2. End to end.
for n in $SIZES; do
  data=bench/data/sme-$n.csv
  [ -s "$data" ] || python3 bench/gen.py sme "$n" > "$data"
  for format in jsonl csv; do
    for threads in 1 "$THREADS"; do
      for rep in 1 2 3; do
        /usr/bin/time -f "%e %U %S %M" -o bench/data/time.txt "$STRATUM" eval rules/sme_size.strat \
          --input "$data" --format "$format" --output bench/data/out.$format --threads "$threads" 2>/dev/null
        printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$n" "$format" "$threads" "$(stat -c %s "$data")" "$rep" \
          "$(cat bench/data/time.txt)" >> "$OUT"
      done
    done
  done
done

# 3. The analysis of a generated 2,000-row, 6-column unique table (median of 5).
python3 bench/gen_table.py 2000 > bench/data/table2000.strat
for rep in 1 2 3 4 5; do
  /usr/bin/time -f "%e" -o bench/data/check.$rep "$STRATUM" check bench/data/table2000.strat >/dev/null 2>&1
done
CHECK_S=$(cat bench/data/check.* | sort -n | sed -n 3p)

python3 - "$OUT" bench/data/inmemory.json "$THREADS" "$CHECK_S" <<'PY'
import json, statistics, sys, platform, subprocess
rows, inmem, threads, check_s = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print(f"machine: {cpu}, {threads} cores")
print()
med = {}
for b in json.load(open(inmem))["benchmarks"]:
    if b.get("aggregate_name") == "median" and "items_per_second" in b:
        med[b["run_name"]] = b["items_per_second"]
sme, hand, corp = med["BM_SmeCompiledRules"], med["BM_SmeHandWritten"], med["BM_CorporateCompiledRules"]
print("| in memory (one core, parsing excluded) | customers/s | ns per customer |")
print("|---|---:|---:|")
print(f"| SME size, hand-written C++ | {hand/1e6:.1f} M | {1e9/hand:.1f} |")
print(f"| SME size, rules/sme_size.strat | {sme/1e6:.1f} M | {1e9/sme:.1f} |")
print(f"| ratio (compiled rules / hand-written) | | {hand/sme:.2f}× |")
print(f"| corporate scheme, rules/corporate_segments.strat | {corp/1e6:.1f} M | {1e9/corp:.1f} |")
print()
runs = {}
for line in open(rows):
    n, fmt, th, size, rep, wall, user, sys_, rss = line.split()
    runs.setdefault((int(n), fmt, int(th), int(size)), []).append((float(wall), float(user) + float(sys_), int(rss)))
print("| end to end: stratum eval | threads | wall s | MB/s | records/s | MB/s per core (CPU) | peak memory |")
print("|---|---:|---:|---:|---:|---:|---:|")
for (n, fmt, th, size), xs in sorted(runs.items()):
    wall = statistics.median(x[0] for x in xs)
    cpu = statistics.median(x[1] for x in xs)
    rss = max(x[2] for x in xs)
    print(f"| {n:,} records ({size/1e6:.0f} MB) CSV → {'JSON Lines' if fmt == 'jsonl' else 'CSV'} | {th} | {wall:.2f} | "
          f"{size/1e6/wall:.0f} | {n/wall/1e6:.2f} M | {size/1e6/cpu:.0f} | {rss/1024:.0f} MB |")
print()
print("| analysis (stratum check, whole run) | seconds |")
print("|---|---:|")
print(f"| generated 2,000-row × 6-column unique table (bench/gen_table.py) | {float(check_s):.2f} |")
PY
