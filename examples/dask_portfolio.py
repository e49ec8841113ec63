#!/usr/bin/python3
"""Decide a partitioned portfolio on a local Dask cluster.

    PYTHONPATH=build/python /usr/bin/python3 examples/dask_portfolio.py \\
        --records 1000000 --workers 2 --output build/dask-decided

Starts a LocalCluster of worker processes (loopback only), generates a
partitioned CSV portfolio of --records SME companies with a fixed seed (or
reads --input, a CSV file or glob), decides it with the rule file, writes the
decided customers (as `stratum eval --format csv` writes them) and the
rejections (JSON Lines) partition by partition under --output, and
prints the distribution and the time taken. Each partition is read, decided
and written by one task (stratum.dask.write_csv). Every record is either decided or
rejected: read = decided + rejected.
"""

import argparse
import glob
import os
import pathlib
import shutil
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def generate(folder: pathlib.Path, records: int, partitions: int, seed: int) -> str:
    """A portfolio as `partitions` CSV files, from bench/gen.py's seeded generator."""
    sys.path.insert(0, str(ROOT / "bench"))
    import io

    import gen

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.csv"):
        old.unlink()
    text = io.StringIO()
    gen.sme(records, seed, text)
    lines = text.getvalue().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    per = -(-len(rows) // partitions)
    for k in range(partitions):
        chunk = rows[k * per:(k + 1) * per]
        if chunk:
            (folder / f"part-{k:04}.csv").write_text(header + "".join(chunk), encoding="utf-8")
    return str(folder / "part-*.csv")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", default=str(ROOT / "rules" / "sme_size.strat"), help="the rule file")
    parser.add_argument("--input", help="CSV file or glob to decide (default: generate a portfolio)")
    parser.add_argument("--records", type=int, default=100_000, help="records to generate (default 100000)")
    parser.add_argument("--partitions", type=int, default=0, help="partitions to generate (default: 1 per 250,000 records, at least 2 per worker)")
    parser.add_argument("--seed", type=int, default=20110618, help="the generator's seed")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--as-of", help="the date `today` stands for, YYYY-MM-DD")
    parser.add_argument("--output", default="dask-decided", help="folder for decided-*.csv and rejected-*.jsonl")
    args = parser.parse_args()
    if args.records < 1 or args.workers < 1 or args.partitions < 0:
        parser.error("--records and --workers are whole numbers from 1; --partitions from 0")

    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import stratum
    import stratum.dask

    try:
        rules = stratum.load(args.rules, as_of=args.as_of)  # rule errors stop here, before any work
    except stratum.RulesError as e:
        print(e, file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"dask_portfolio: {e}", file=sys.stderr)
        return 2
    out = pathlib.Path(args.output)
    if args.input:
        pattern = args.input
        if not glob.glob(pattern):
            print(f"dask_portfolio: no file matches {pattern}", file=sys.stderr)
            return 2
    else:
        partitions = args.partitions or max(2 * args.workers, -(-args.records // 250_000))
        started = time.monotonic()
        pattern = generate(out / "input", args.records, partitions, args.seed)
        print(f"generated {args.records} records in {partitions} files in {time.monotonic() - started:.1f} s")

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        started = time.monotonic()
        ddf = dd.read_csv(pattern, dtype=str, keep_default_na=False, blocksize=None)
        for old in list(out.glob("decided-*.csv")) + list(out.glob("rejected-*.jsonl")):
            old.unlink()
        # One pass: each partition decided once, its two files written by its task.
        summary = stratum.dask.write_csv(ddf, rules, out)
        seconds = time.monotonic() - started

    n_decided, n_rejected = int(summary["decided"].sum()), int(summary["rejected"].sum())
    read = n_decided + n_rejected
    for o in rules.outputs:
        if o["values"] and not o["type"].startswith("set<"):
            print(f"\n{o['name']}")
            for value in o["values"]:
                n = int(summary[f"{o['name']}={value}"].sum())
                print(f"  {value}\t{n}\t{100 * n / max(n_decided, 1):.1f}%")
    print(f"\nread {read}, decided {n_decided}, rejected {n_rejected}")
    print(f"{args.workers} worker{'s' if args.workers > 1 else ''}: {seconds:.2f} s, {read / seconds:,.0f} records/s")
    print(f"decided customers in {out}/decided-*.csv, rejections in {out}/rejected-*.jsonl")
    return 1 if n_rejected else 0


if __name__ == "__main__":
    sys.exit(main())
