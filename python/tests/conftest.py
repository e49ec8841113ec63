"""Shared fixtures: where the project, the CLI and the built module are.

ctest runs these with PYTHONPATH=<build>/python and STRATUM_BIN=<build>/stratum;
by hand: PYTHONPATH=build/python STRATUM_BIN=build/stratum /usr/bin/python3 -m pytest python/tests
"""
import csv
import io
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
EXAMPLES = ROOT / "examples"


def stratum_bin() -> str:
    path = os.environ.get("STRATUM_BIN", str(ROOT / "build" / "stratum"))
    if not os.path.exists(path):
        pytest.fail(f"the stratum CLI is not built at {path} (set STRATUM_BIN)")
    return path


def run_cli(*args, check=False):
    return subprocess.run([stratum_bin(), *map(str, args)], capture_output=True, text=True, check=check)


def cli_eval_csv(rules, input_path, *extra):
    """`stratum eval --format csv` on a file: (header, rows as lists of text, rejections as dicts)."""
    errors = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"stratum-errors-{os.getpid()}.jsonl"
    r = run_cli("eval", rules, "--input", input_path, "--format", "csv", "--errors", errors, *extra)
    assert r.returncode in (0, 1), r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    rejections = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    errors.unlink()
    # The module's batches carry the decisions; the rule set's provenance is the RuleSet's (hash, version).
    keep = [i for i, name in enumerate(rows[0]) if not name.startswith("@")]
    rows = [[row[i] for i in keep] for row in rows]
    return rows[0], rows[1:], rejections


def cli_text(value) -> str:
    """A decided value as `stratum eval --format csv` writes it."""
    import decimal

    if value is None:
        return ""
    try:
        import pandas as pd

        if value is pd.NA or (isinstance(value, float) and value != value):
            return ""
    except ImportError:
        pass
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def frame_as_cli_rows(df) -> list:
    """A decided DataFrame as the CLI's CSV rows (lists of text)."""
    cols = [df[c].astype(object).to_numpy() for c in df.columns]
    return [[cli_text(col[i]) for col in cols] for i in range(len(df))]
