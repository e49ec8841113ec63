#!/usr/bin/python3
"""The Python module's and Dask's figures beside the CLI's.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py            # 1M in memory, 10M on Dask
    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py --dask-records 1000000

1. decide_batch on the SME scheme from a DataFrame already in memory (1M
   records; typed as pandas reads them, and all text), on 1 thread and on all
   cores: median and spread of 5 runs.
2. A partitioned CSV portfolio (--dask-records, default 10M) decided end to
   end (read, decide, write CSV) on a LocalCluster of 1 and of 2 worker
   processes, and by `stratum eval` (one file, CSV → CSV) on 1 and 2 threads:
   median and spread of 3 runs each.
Data goes to bench/data/.
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RULES = ROOT / "rules" / "sme_size.strat"


def summary(times, records):
    med = statistics.median(times)
    return (f"median {med:.3f} s = {records / med / 1e6:.2f} M records/s "
            f"(spread {min(times):.3f}–{max(times):.3f} s over {len(times)} runs)")


def in_memory(records):
    import pandas as pd

    import stratum

    path = DATA / f"sme-{records}.csv"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen.py"), "sme", str(records)],
                       stdout=open(path, "w"), check=True)
    rs = stratum.load(RULES)
    cores = os.cpu_count() or 1
    for label, kwargs in [("typed (int64, float64, str)", {}), ("all text", {"dtype": str, "keep_default_na": False})]:
        df = pd.read_csv(path, **kwargs)
        for threads in sorted({1, cores}):
            times = []
            for _ in range(5):
                started = time.perf_counter()
                decided, rejected = rs.decide_batch(df, threads=threads)
                times.append(time.perf_counter() - started)
            assert len(decided) + len(rejected) == records
            print(f"decide_batch, {records} records, {label}, {threads} thread{'s' if threads > 1 else ''}: "
                  f"{summary(times, records)}", flush=True)


def dask_runs(records, partitions):
    sys.path.insert(0, str(ROOT / "examples"))
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import dask_portfolio
    import stratum
    import stratum.dask

    folder = DATA / f"dask-{records}"
    if not (folder / "input" / "part-0000.csv").exists():
        dask_portfolio.generate(folder / "input", records, partitions, 20110618)
    whole = DATA / f"dask-{records}.csv"
    if not whole.exists():
        with open(whole, "w", encoding="utf-8") as out:
            for k, part in enumerate(sorted((folder / "input").glob("part-*.csv"))):
                lines = part.read_text(encoding="utf-8").splitlines(keepends=True)
                out.writelines(lines if k == 0 else lines[1:])
    stratum_bin = os.environ.get("STRATUM_BIN", str(ROOT / "build" / "stratum"))
    for threads in (1, 2):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([stratum_bin, "eval", str(RULES), "--input", str(whole), "--format", "csv",
                            "--output", str(DATA / "eval-out.csv"), "--threads", str(threads)],
                           check=True, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
        print(f"stratum eval, {records} records in one CSV file → CSV, {threads} thread"
              f"{'s' if threads > 1 else ''}: {summary(times, records)}", flush=True)
    rs = stratum.load(RULES)
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, silence_logs=50) as cluster, Client(cluster):
            times = []
            for _ in range(3):
                started = time.perf_counter()
                ddf = dd.read_csv(str(folder / "input" / "part-*.csv"), dtype=str, keep_default_na=False,
                                  blocksize=None)
                counts = stratum.dask.write_csv(ddf, rs, folder / "out")
                times.append(time.perf_counter() - started)
                assert int(counts["decided"].sum()) + int(counts["rejected"].sum()) == records
            print(f"Dask, {records} records in {partitions} CSV files → CSV, {workers} worker"
                  f"{'s' if workers > 1 else ''}: {summary(times, records)}", flush=True)
            # The same pipeline without deciding: what reading and writing CSV costs on Dask.
            times = []
            for _ in range(3):
                for old in folder.glob("copy-*.csv"):
                    old.unlink()
                started = time.perf_counter()
                ddf = dd.read_csv(str(folder / "input" / "part-*.csv"), dtype=str, keep_default_na=False,
                                  blocksize=None)
                dask.compute(ddf[["id"]].to_csv(str(folder / "copy-*.csv"), index=False, compute=False))
                times.append(time.perf_counter() - started)
            print(f"Dask, the same files read and their ids written, nothing decided, {workers} worker"
                  f"{'s' if workers > 1 else ''}: {summary(times, records)}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in memory (default 1M)")
    parser.add_argument("--dask-records", type=int, default=10_000_000, help="records on Dask (default 10M; 0 skips)")
    parser.add_argument("--partitions", type=int, default=40, help="CSV files of the Dask portfolio (default 40)")
    parser.add_argument("--no-memory", action="store_true", help="skip the in-memory figures")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    if not args.no_memory:
        in_memory(args.records)
    if args.dask_records:
        dask_runs(args.dask_records, args.partitions)


if __name__ == "__main__":
    main()
