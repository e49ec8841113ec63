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

from . import InputError, RuleSet, _batch, from_bundle, load
from .partitions import DECIDED, REJECTED, Shipped, decide_partition, partition_meta, rules_for

__all__ = ["decide", "rules_for", "InputError"]


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

