"""stratum.dask on a local cluster of worker processes decides as the CLI
does, survives a worker killed mid-run, and fails fast on bad rules."""
import io
import json
import os
import signal
import sys
import time

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster, get_task_stream

import stratum
import stratum.dask
import stratum.partitions
from conftest import EXAMPLES, ROOT, RULES, cli_eval_csv, frame_as_cli_rows, run_cli

sys.path.insert(0, str(ROOT / "bench"))
import gen  # noqa: E402  (the seeded portfolio generators)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=50) as cluster, Client(cluster) as c:
        yield c


def sme_portfolio(path, n, seed=7):
    with open(path, "w", encoding="utf-8") as out:
        gen.sme(n, seed, out)


@pytest.mark.parametrize(
    "rules,portfolio",
    [("sme_size.strat", "portfolio.csv"), ("corporate_segments.strat", "corporate_portfolio.csv")],
)
def test_dask_equals_cli_on_the_example_portfolios(client, rules, portfolio):
    header, rows, rejections = cli_eval_csv(RULES / rules, EXAMPLES / portfolio)
    df = pd.read_csv(EXAMPLES / portfolio, dtype=str, keep_default_na=False)
    ddf = dd.from_pandas(df, npartitions=7)
    decided, rejected = stratum.dask.decide(ddf, RULES / rules)
    decided, rejected = dask.compute(decided, rejected)
    assert list(decided.columns) == header
    assert sorted(frame_as_cli_rows(decided)) == sorted(rows)
    assert len(decided) + len(rejected) == len(df)
    assert rejections == [] and len(rejected) == 0


def test_cli_python_and_dask_agree_on_a_million_records(client, tmp_path):
    path = tmp_path / "sme.csv"
    sme_portfolio(path, 1_000_000)
    rules = RULES / "sme_size.strat"
    header, rows, rejections = cli_eval_csv(rules, path)
    assert len(rows) + len(rejections) == 1_000_000
    cli = pd.DataFrame(rows, columns=header)

    rs = stratum.load(rules)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    py_decided, py_rejected = rs.decide_batch(df)
    assert len(py_decided) + len(py_rejected) == 1_000_000
    py = py_decided.astype(str).reset_index(drop=True)
    pd.testing.assert_frame_equal(py, cli)

    ddf = dd.read_csv(path, dtype=str, keep_default_na=False, blocksize=4_000_000)
    assert ddf.npartitions >= 8
    dk_decided, dk_rejected = dask.compute(*stratum.dask.decide(ddf, rules))
    assert len(dk_decided) + len(dk_rejected) == 1_000_000
    dk = dk_decided.astype(str).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(dk, cli.sort_values("id").reset_index(drop=True))
    assert [r["reason"] for r in rejections] == list(py_rejected["reason"])


def _slowly(part):
    time.sleep(0.15)  # a partition takes a while, so a worker dies with work in hand
    return part


def test_a_worker_killed_mid_run_changes_nothing(client, tmp_path):
    path = tmp_path / "sme.csv"
    sme_portfolio(path, 120_000, seed=11)
    rules = RULES / "sme_size.strat"
    header, rows, rejections = cli_eval_csv(rules, path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    ddf = dd.from_pandas(df, npartitions=40).map_partitions(_slowly, meta=df.iloc[:0])
    decided, rejected = stratum.dask.decide(ddf, rules)
    futures = client.compute([decided, rejected])

    # Wait until some partitions are decided and their results held in
    # worker memory, then kill the worker process holding the most of them.
    def held(dask_scheduler):
        out = {}
        for ts in dask_scheduler.tasks.values():
            if ts.state == "memory" and "from_pandas" not in str(ts.key):
                for ws in ts.who_has:
                    out[ws.address] = out.get(ws.address, 0) + 1
        return out

    deadline = time.monotonic() + 60
    while True:
        counts = client.run_on_scheduler(held)
        if sum(counts.values()) >= 4:
            break
        assert time.monotonic() < deadline, "no partition was decided within a minute"
        time.sleep(0.05)
    assert not all(f.done() for f in futures), "the run ended before a worker could be killed"
    victim = max(counts, key=counts.get)
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)

    got_decided, got_rejected = client.gather(futures)
    assert len(got_decided) + len(got_rejected) == len(df) == 120_000
    got = got_decided.astype(str).sort_values("id").reset_index(drop=True)
    cli = pd.DataFrame(rows, columns=header).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, cli)
    assert len(got_rejected) == len(rejections) == 0


def test_rule_errors_fail_on_the_client_before_any_task(client, tmp_path):
    bad = ROOT / "tests" / "golden" / "check" / "error-analysis-gap.strat"
    ddf = dd.from_pandas(pd.DataFrame({"id": ["A"], "industry": ["工业"], "employees": [1], "revenue": [1]}),
                         npartitions=1)
    with get_task_stream(client) as tasks:
        with pytest.raises(stratum.RulesError) as caught:
            stratum.dask.decide(ddf, bad)
        assert [d["code"] for d in caught.value.diagnostics] == ["gap", "gap"]
        assert "for example" in str(caught.value)
        with pytest.raises(stratum.InputError, match=r"the input has no column `total_assets`"):
            stratum.dask.decide(ddf.drop(columns=["revenue"]).assign(revenue="1"), RULES / "sme_size.strat")
    assert tasks.data == []
    # the stream does see tasks when there are some
    with get_task_stream(client) as tasks:
        ddf.sum().compute()
    assert tasks.data != []


def test_rules_travel_as_files_and_hash(client):
    rs = stratum.load(RULES / "corporate_segments.strat")
    df = pd.read_csv(EXAMPLES / "corporate_portfolio.csv", dtype=str, keep_default_na=False).iloc[:500]
    decided, rejected = stratum.dask.decide(dd.from_pandas(df, npartitions=2), rs)
    graph = dict(decided.__dask_graph__())
    shipped = [v for v in graph.values() if "stratum rules" in repr(v)]
    assert shipped, "the tasks carry the rules' files"
    got = decided.compute()
    assert len(got) == 500
    after = client.run(lambda: sorted(h for h, _ in stratum.partitions._compiled))
    assert any(rs.hash in h for h in after.values())
    assert all(list(v).count(rs.hash) <= 1 for v in after.values())


def test_write_csv_writes_what_the_cli_writes_in_one_pass(client, tmp_path):
    rules = RULES / "corporate_segments.strat"
    df = pd.read_csv(EXAMPLES / "corporate_portfolio.csv", dtype=str, keep_default_na=False).iloc[:3000].copy()
    df.loc[5, "信贷余额"] = "abc"
    df.loc[2000, "industry"] = "工商业"
    src = tmp_path / "in.csv"
    df.to_csv(src, index=False)
    header, rows, rejections = cli_eval_csv(rules, src)
    summary = stratum.dask.write_csv(dd.from_pandas(df, npartitions=3), rules, tmp_path / "out")
    assert list(summary["partition"]) == [0, 1, 2]
    assert int(summary["decided"].sum()) == len(rows) == 2998
    assert int(summary["rejected"].sum()) == len(rejections) == 2
    written = []
    cli = run_cli("eval", rules, "--input", src, "--format", "csv").stdout.splitlines()
    assert cli[0] == ",".join(header + ["@ruleset", "@version", "@hash", "@as_of"])
    for k in range(3):
        lines = (tmp_path / "out" / f"decided-{k:05}.csv").read_text(encoding="utf-8").splitlines()
        assert lines[0] == cli[0]
        written += lines[1:]
    assert written == cli[1:]
    got = []
    for k in range(3):
        got += [json.loads(l) for l in (tmp_path / "out" / f"rejected-{k:05}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["key"], r["column"], r["reason"]) for r in got] == [(r["key"], r["column"], r["reason"]) for r in rejections]
    assert [r["record"] for r in got] == [6, 1]  # within partitions of 1,000 rows
    segments = [c for c in summary.columns if c.startswith("segment=")]
    assert sum(int(summary[c].sum()) for c in segments) == 2998
    assert not list((tmp_path / "out").glob("*.tmp"))
