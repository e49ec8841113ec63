"""Stratum on Dask: a rule set mapped over a Dask DataFrame's partitions.

    import stratum.dask
    decided, rejected = stratum.dask.decide(ddf, "rules/sme_size.strat")
    decided, rejected = dask.compute(decided, rejected)

The rules are loaded and checked on the client first: a rule file with errors
raises stratum.RulesError there, before any task runs, and a missing column
raises stratum.InputError. The rule set travels to the workers as its files
and their hash, never as a native object; each worker process compiles it
once (cached by hash) and checks the hash. Each partition is decided by the
same pandas batch function as RuleSet.decide_batch, so the decisions are
those of `stratum eval`, whatever the cluster does: a partition lost with a
worker is decided again, with the same result.
"""

from __future__ import annotations

import decimal
import json
import os

import numpy as np
import pandas as pd

from . import InputError, RuleSet, _batch, _stratum, from_bundle, load
from .partitions import DECIDED, REJECTED, Shipped, decide_partition, partition_meta, rules_for

__all__ = ["decide", "write_csv", "rules_for", "InputError"]


def decide(ddf, rules, as_of=None, threads: int = 1):
    """Decides every row of the Dask DataFrame `ddf` with `rules` (a path or
    a loaded RuleSet). Returns two lazy Dask DataFrames (decided, rejected)
    with the columns of RuleSet.decide_batch; compute them together
    (`dask.compute(decided, rejected)`) so each partition is decided once.
    In `rejected`, `record` counts rows within the partition; the index is
    the input's. `threads` is per task: Dask already runs one task per core."""
    if isinstance(rules, RuleSet):
        rs = rules if as_of is None else from_bundle(rules.bundle(), as_of=as_of)
    else:
        rs = load(rules, as_of=as_of)
    # The columns are checked here, once, rather than in every task.
    _batch._input_columns(rs, ddf._meta)
    meta = partition_meta(rs, ddf._meta.index)
    both = ddf.map_partitions(decide_partition, Shipped(rs), threads, meta=meta, align_dataframes=False)
    decided = both[both[DECIDED]][rs.output_columns]
    rejected = both[~both[DECIDED]][[REJECTED[c] for c in _batch.REJECTED_COLUMNS]]
    rejected = rejected.rename(columns={v: k for k, v in REJECTED.items()})
    return decided, rejected



def _cli_text(value):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def _cli_csv(decided: pd.DataFrame) -> bytes:
    """Decided rows as `stratum eval --format csv` writes them: booleans as
    true/false, numbers with their own digits, no value as an empty cell,
    quoted as the CLI quotes (the engine's own CSV writer)."""
    columns = []
    to_text = np.frompyfunc(_cli_text, 1, 1)
    for name in decided.columns:
        col = decided[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            texts = np.array([str(c) for c in col.cat.categories] + [None], dtype=object)
            columns.append(texts[col.cat.codes.to_numpy()])  # code -1 (no value) picks the None
        else:
            values = col.astype(object).to_numpy()
            columns.append(np.asarray(to_text(values), dtype=object) if len(values) else values)
    return _stratum.csv_text([str(c) for c in decided.columns], columns)


def _write_partition(part: pd.DataFrame, shipped: Shipped, threads: int, folder: str, partition_info=None):
    rs = rules_for(shipped)
    number = partition_info["number"] if partition_info else 0
    decided, rejected = rs.decide_batch(part, threads=threads)
    target = os.path.join(folder, f"decided-{number:05}.csv")
    # Each record says which rules decided it, as `stratum eval` writes it.
    provenance = {"@ruleset": rs.ruleset, "@version": rs.version, "@hash": rs.hash, "@as_of": rs.as_of}
    with open(target + ".tmp", "wb") as out:
        out.write(_cli_csv(decided.assign(**provenance)))
    os.replace(target + ".tmp", target)
    target = os.path.join(folder, f"rejected-{number:05}.jsonl")
    with open(target + ".tmp", "w", encoding="utf-8") as out:
        for r in rejected.itertuples(index=False):
            out.write(json.dumps({"record": int(r.record), "key": r.key, "column": r.column, "reason": r.reason},
                                 ensure_ascii=False) + "\n")
    os.replace(target + ".tmp", target)
    summary = {"partition": [number], "decided": [len(decided)], "rejected": [len(rejected)]}
    for o in rs.outputs:
        if o["values"] and not o["type"].startswith("set<"):
            counts = decided[o["name"]].value_counts(sort=False)
            for value in o["values"]:
                summary[f"{o['name']}={value}"] = [int(counts.get(value, 0))]
    return pd.DataFrame(summary)


def write_csv(ddf, rules, folder, as_of=None, threads: int = 1) -> pd.DataFrame:
    """Decides every row of `ddf` and writes, in one pass and partition by
    partition, `decided-NNNNN.csv` (as `stratum eval --format csv` writes
    them, provenance columns @ruleset, @version, @hash and @as_of included) and `rejected-NNNNN.jsonl` (record within the partition, key,
    column, reason) into `folder`, each file written whole or not at all.
    Returns one row per partition: its number, the decided and rejected
    counts, and the count of each value of every enum decision."""
    if isinstance(rules, RuleSet):
        rs = rules if as_of is None else from_bundle(rules.bundle(), as_of=as_of)
    else:
        rs = load(rules, as_of=as_of)
    _batch._input_columns(rs, ddf._meta)
    os.makedirs(folder, exist_ok=True)
    columns = {"partition": "int64", "decided": "int64", "rejected": "int64"}
    for o in rs.outputs:
        if o["values"] and not o["type"].startswith("set<"):
            for value in o["values"]:
                columns[f"{o['name']}={value}"] = "int64"
    meta = pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    return ddf.map_partitions(_write_partition, Shipped(rs), threads, os.path.abspath(folder), meta=meta,
                              align_dataframes=False).compute()
