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

import threading

import numpy as np
import pandas as pd

from . import InputError, RuleSet, _batch, from_bundle, load

__all__ = ["decide", "rules_for", "InputError"]

# Rule sets compiled in this process, by (hash, as_of).
_compiled: dict = {}
_lock = threading.Lock()

# Marks, in the frame each partition gives, which rows were decided.
_DECIDED = "__stratum_decided__"
_REJECTED = {c: "__stratum_rejected_" + c for c in _batch.REJECTED_COLUMNS}


class _Shipped:
    """What a task carries: the rules' files, their hash and the evaluation date."""

    def __init__(self, rs: RuleSet):
        self.bundle = rs.bundle()
        self.hash = rs.hash
        self.as_of = rs.as_of

    def __repr__(self):
        return f"<stratum rules {self.bundle[0]} {self.hash[:12]}>"

    def __dask_tokenize__(self):
        return ("stratum-rules", self.hash, self.as_of)


def rules_for(shipped: _Shipped) -> RuleSet:
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


def _meta(rs: RuleSet, index) -> pd.DataFrame:
    columns = {name: pd.Series(dtype=dtype) for name, dtype in _batch.result_dtypes(rs).items()}
    columns[_DECIDED] = pd.Series(dtype=bool)
    columns[_REJECTED["record"]] = pd.Series(dtype="Int64")
    for c in ("key", "column", "reason"):
        columns[_REJECTED[c]] = pd.Series(dtype=object)
    return pd.DataFrame(columns, index=index[:0])


def _decide_partition(part: pd.DataFrame, shipped: _Shipped, threads: int) -> pd.DataFrame:
    rs = rules_for(shipped)
    decided, rejected = rs.decide_batch(part, threads=threads)
    meta = _meta(rs, part.index)
    decided = decided.copy()
    decided[_DECIDED] = True
    others = pd.DataFrame(index=rejected.index)
    for name in rs.output_columns:
        others[name] = pd.Series([None] * len(rejected), index=rejected.index, dtype=meta[name].dtype)
    others[_DECIDED] = False
    for c in _batch.REJECTED_COLUMNS:
        others[_REJECTED[c]] = rejected[c]
    both = pd.concat([decided, others]) if len(others) else decided
    for c in meta.columns:
        if c not in both.columns:
            both[c] = None
    return both[list(meta.columns)].astype(meta.dtypes.to_dict())


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
    meta = _meta(rs, ddf._meta.index)
    both = ddf.map_partitions(_decide_partition, _Shipped(rs), threads, meta=meta, align_dataframes=False)
    decided = both[both[_DECIDED]][rs.output_columns]
    rejected = both[~both[_DECIDED]][[_REJECTED[c] for c in _batch.REJECTED_COLUMNS]]
    rejected = rejected.rename(columns={v: k for k, v in _REJECTED.items()})
    return decided, rejected

