"""Deciding one partition of a portfolio, the same way on any engine.

A partition task carries a `Shipped`: the rule set's files, their hash and the
evaluation date, never a native object. `rules_for` compiles them once per
process (cached by hash, the hash checked), and `decide_partition` decides a
pandas DataFrame with RuleSet.decide_batch and returns one frame holding the
decided rows (`DECIDED` true, the decisions' columns) and the rejected ones
(`DECIDED` false, the `REJECTED` columns). Dask (stratum.dask) maps it over
partitions; Spark's mapInPandas and a warehouse batch call the same function
(docs/scale-out.md).
"""

from __future__ import annotations

import threading

import pandas as pd

from . import RuleSet, _batch, from_bundle

__all__ = ["Shipped", "rules_for", "decide_partition", "partition_meta", "DECIDED", "REJECTED"]

# Rule sets compiled in this process, by (hash, as_of).
_compiled: dict = {}
_lock = threading.Lock()

# Marks, in the frame each partition gives, which rows were decided.
DECIDED = "__stratum_decided__"
REJECTED = {c: "__stratum_rejected_" + c for c in _batch.REJECTED_COLUMNS}


class Shipped:
    """What a task carries: the rules' files, their hash and the evaluation date."""

    def __init__(self, rs: RuleSet):
        self.bundle = rs.bundle()
        self.hash = rs.hash
        self.as_of = rs.as_of

    def __repr__(self):
        return f"<stratum rules {self.bundle[0]} {self.hash[:12]}>"

    def __dask_tokenize__(self):
        return ("stratum-rules", self.hash, self.as_of)


def rules_for(shipped: Shipped) -> RuleSet:
    """The rule set a task names, compiled once per process."""
    key = (shipped.hash, shipped.as_of)
    rs = _compiled.get(key)
    if rs is None:
        with _lock:
            rs = _compiled.get(key)
            if rs is None:
                rs = from_bundle(shipped.bundle, as_of=shipped.as_of, expected_hash=shipped.hash)
                _compiled[key] = rs
    return rs


def partition_meta(rs: RuleSet, index) -> pd.DataFrame:
    columns = {name: pd.Series(dtype=dtype) for name, dtype in _batch.result_dtypes(rs).items()}
    columns[DECIDED] = pd.Series(dtype=bool)
    columns[REJECTED["record"]] = pd.Series(dtype="Int64")
    for c in ("key", "column", "reason"):
        columns[REJECTED[c]] = pd.Series(dtype=object)
    return pd.DataFrame(columns, index=index[:0])


def decide_partition(part: pd.DataFrame, shipped: Shipped, threads: int) -> pd.DataFrame:
    rs = rules_for(shipped)
    decided, rejected = rs.decide_batch(part, threads=threads)
    meta = partition_meta(rs, part.index)
    decided = decided.copy()
    decided[DECIDED] = True
    others = pd.DataFrame(index=rejected.index)
    for name in rs.output_columns:
        others[name] = pd.Series([None] * len(rejected), index=rejected.index, dtype=meta[name].dtype)
    others[DECIDED] = False
    for c in _batch.REJECTED_COLUMNS:
        others[REJECTED[c]] = rejected[c]
    both = pd.concat([decided, others]) if len(others) else decided
    for c in meta.columns:
        if c not in both.columns:
            both[c] = None
    return both[list(meta.columns)].astype(meta.dtypes.to_dict())


