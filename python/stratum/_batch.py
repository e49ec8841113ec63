"""Deciding a pandas DataFrame in bulk: columns in, columns out.

Each column the rules read is handed to the engine as one NumPy array:
numbers, booleans and timestamps as their machine values, text and other
Python values as the objects the DataFrame already holds. The engine decides
on every core without the GIL and hands back the enum and bool decisions as
code arrays (categoricals here) and the rest as one Python object per
distinct value.
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from . import _stratum

# The column kinds the engine reads (python/src/module.cpp, ColumnKind).
ABSENT, OBJECTS, INT64, FLOAT64, BOOLEAN, DATETIME_NS, FLOAT32 = range(7)


def _column(series: pd.Series):
    dt = series.dtype
    if isinstance(dt, np.dtype):
        kind = dt.kind
        if kind == "i" or (kind == "u" and dt.itemsize < 8):
            return INT64, np.ascontiguousarray(series.to_numpy(dtype=np.int64))
        if kind == "f" and dt.itemsize == 8:
            return FLOAT64, series.to_numpy()
        if kind == "f" and dt.itemsize == 4:
            return FLOAT32, series.to_numpy()
        if kind == "f" and dt.itemsize == 2:
            # A half through NumPy's own shortest digits ("0.1"), not widened.
            values = series.to_numpy()
            texts = values.astype(str).astype(object)
            texts[np.isnan(values)] = None
            return OBJECTS, texts
        if kind == "b":
            return BOOLEAN, series.to_numpy()
        if kind == "M" and dt == np.dtype("datetime64[ns]"):
            return DATETIME_NS, series.to_numpy().view(np.int64)
        if kind == "O":
            return OBJECTS, series.to_numpy()
    # Categoricals, pandas' nullable types, uint64, other widths: the values
    # as Python objects, a missing value as None.
    return OBJECTS, series.to_numpy(dtype=object, na_value=None)


def _input_columns(rs, df: pd.DataFrame) -> list:
    from . import InputError

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"decide_batch takes a pandas DataFrame, not a {type(df).__name__}")
    names = list(df.columns)
    missing = [f["column"] for f in rs.fields if not f["optional"] and f["column"] not in names]
    if missing:
        shown = ", ".join(f"`{c}`" for c in missing)
        found = ", ".join(str(c) for c in names[:40]) + (", …" if len(names) > 40 else "")
        raise InputError(f"the input has no column {shown} (its columns are: {found})")
    columns = []
    for f in rs.fields:
        c = f["column"]
        if c not in names:
            columns.append((ABSENT, None))
            continue
        if names.count(c) > 1:
            raise InputError(f"the input names column `{c}` twice")
        columns.append(_column(df[c]))
    return columns


def result_dtypes(rs) -> dict:
    """The dtype of each column of a decided frame (for Dask's meta)."""
    dtypes = {}
    if rs.key_name:
        dtypes[rs.key_name] = object
    else:
        dtypes["record"] = np.int64
    for o in rs.outputs:
        if o["values"] and not o["type"].startswith("set<"):
            dtypes[o["name"]] = pd.CategoricalDtype(o["values"])
        elif o["type"] == "bool":
            dtypes[o["name"]] = pd.BooleanDtype()
        else:
            dtypes[o["name"]] = object
    return dtypes


REJECTED_COLUMNS = ["record", "key", "column", "reason"]


MAX_THREADS = 256


def checked_threads(threads) -> int:
    """None: every core; else a whole number from 1, at most MAX_THREADS."""
    if threads is None:
        return min(_stratum.hardware_threads(), MAX_THREADS)
    if isinstance(threads, bool):
        raise TypeError("threads is a whole number from 1, not a bool")
    try:
        n = operator.index(threads)
    except TypeError:
        raise TypeError(f"threads is a whole number from 1, not a {type(threads).__name__}") from None
    if n < 1:
        raise ValueError(f"threads is a whole number from 1, not {n}")
    return min(n, MAX_THREADS)


def decide_batch(rs, df: pd.DataFrame, threads: int | None = None):
    columns = _input_columns(rs, df)
    threads = checked_threads(threads)
    mask, outputs, (rows, keys, reasons_columns, reasons) = rs._native.decide_columns(
        columns, len(df), rs.as_of, threads
    )
    mask = mask.astype(bool)
    data = {}
    if rs.key_name:
        # The key as `stratum eval` writes it (the engine gives it last).
        data[rs.key_name] = outputs[-1]
        outputs = outputs[:-1]
    else:
        # Without a key, the CLI numbers the records.
        data["record"] = np.flatnonzero(mask).astype(np.int64) + 1
    for o, values in zip(rs.outputs, outputs):
        if o["values"] and not o["type"].startswith("set<"):
            data[o["name"]] = pd.Categorical.from_codes(values, categories=o["values"])
        elif o["type"] == "bool":
            data[o["name"]] = pd.arrays.BooleanArray(values == 1, values < 0)
        else:
            data[o["name"]] = values
    decided = pd.DataFrame(data, index=df.index[mask], columns=rs.output_columns)
    positions = np.asarray(rows, dtype=np.int64)
    rejected = pd.DataFrame(
        {
            "record": positions + 1,
            "key": pd.array([k or None for k in keys], dtype=object),
            "column": pd.array(reasons_columns, dtype=object),
            "reason": pd.array(reasons, dtype=object),
        },
        index=df.index[positions],
        columns=REJECTED_COLUMNS,
    )
    return decided, rejected
