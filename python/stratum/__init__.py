"""Stratum: bank customer segmentation rules, decided from Python.

    import stratum
    rs = stratum.load("rules/sme_size.strat")
    rs.decide({"id": "C1", "industry": "工业", "employees": 120, ...})
    decided, rejected = rs.decide_batch(df)

The rule files are checked when loaded: a rule set with errors raises
RulesError carrying the same diagnostics as `stratum check`. Every decision is
the one `stratum eval` makes for the same record, to the last decimal.

Values in: str, int, decimal.Decimal, bool, datetime.date, None (missing),
a list/tuple/set for set fields. A float is read through its shortest decimal
representation (repr(0.1) is "0.1", so 0.1 is exactly 0.1), never through its
binary expansion; NaN is a missing value, as pandas uses it. Money comes out
as decimal.Decimal, enums as str (categoricals in a DataFrame), dates as
datetime.date, durations and sets as the text `stratum eval` writes.
"""

from __future__ import annotations

import datetime as _datetime
import json as _json
import os as _os

from . import _stratum

__all__ = ["load", "from_bundle", "RuleSet", "RulesError", "Rejected", "InputError"]


class RulesError(Exception):
    """The rule files have errors; nothing can be decided with them.

    `diagnostics` is the list `stratum check --diagnostics json` prints (one
    dict per problem: file, line, column, code, severity, message, and where
    the analysis found one, a counter-example); str(error) is the text
    `stratum check` prints.
    """

    def __init__(self, path: str, diagnostics: list, text: str):
        errors = sum(1 for d in diagnostics if d.get("severity") == "error")
        super().__init__(f"{path} has {errors} error{'s' if errors != 1 else ''}; nothing can be decided\n{text}")
        self.path = path
        self.diagnostics = diagnostics
        self.text = text

    def __reduce__(self):
        return (RulesError, (self.path, self.diagnostics, self.text))


class Rejected(ValueError):
    """A record that cannot be decided: which column and why (as `stratum eval` rejects it)."""

    def __init__(self, key, column: str, reason: str):
        where = f"column {column}: " if column else ""
        super().__init__(f"record{' ' + key if key else ''} rejected: {where}{reason}")
        self.key = key
        self.column = column
        self.reason = reason

    def __reduce__(self):
        return (Rejected, (self.key, self.column, self.reason))


class InputError(ValueError):
    """The data cannot be read at all (a required column is absent)."""


def _checked_as_of(as_of) -> str | None:
    """`as_of` as 'YYYY-MM-DD' (None stays None); ValueError when it is no date."""
    text = _as_of_text(as_of)
    if text is not None:
        try:
            if len(text) != 10:
                raise ValueError
            _datetime.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"as_of {text}: expected a date YYYY-MM-DD") from None
    return text


def _as_of_text(as_of) -> str | None:
    if as_of is None:
        return None
    if isinstance(as_of, _datetime.datetime):
        as_of = as_of.date()
    if isinstance(as_of, _datetime.date):
        return as_of.isoformat()
    if isinstance(as_of, str):
        return as_of
    raise TypeError(f"as_of is a datetime.date or 'YYYY-MM-DD', not a {type(as_of).__name__}")


class RuleSet:
    """Rules loaded and checked once; immutable, shareable across threads.

    `hash` names the rule set by the content of every file it was compiled
    from; `bundle()` gives those files, from which `from_bundle` compiles the
    same rules in another process without reading any disk.
    """

    def __init__(self, native, as_of=None):
        self._native = native
        self.as_of = _checked_as_of(as_of)
        self.warnings = [d for d in self.diagnostics if d.get("severity") != "error"]
        fields = native.fields()
        self.fields = [
            {"name": n, "column": c, "type": t, "optional": o, "key": k} for (n, c, t, o, k) in fields
        ]
        self.outputs = [
            {"name": n, "type": t, "values": list(v), "plan": p} for (n, t, v, p) in native.outputs()
        ]
        key = native.key()
        self.key_name, self.key_column = key if key else (None, None)
        if native.uses_today and self.as_of is None:
            raise ValueError(f"{self.path}: the rules use `today`: give the evaluation date with as_of=")

    @property
    def path(self) -> str:
        return self._native.path

    @property
    def hash(self) -> str:
        """The SHA-256 of every file the rules were compiled from (as `@hash` in `stratum eval`'s output)."""
        return self._native.hash

    @property
    def ruleset(self) -> str:
        """The rule set's name (its `ruleset` line)."""
        return self._native.version_info[0]

    @property
    def version(self) -> str:
        return self._native.version_info[1]

    @property
    def effective(self) -> str | None:
        """The day this version takes effect ('YYYY-MM-DD'), or None."""
        return self._native.version_info[2]

    @property
    def diagnostics(self) -> list:
        return [_json.loads(line) for line in self._native.diagnostics_json().splitlines() if line]

    @property
    def columns(self) -> list:
        """The input columns the rules read, in order."""
        return [f["column"] for f in self.fields]

    @property
    def output_columns(self) -> list:
        """The columns of a decided batch, as `stratum eval --format csv`
        writes them: the key (or, for rules without one, `record`, the row's
        1-based position), then every decision."""
        return [self.key_name or "record"] + [o["name"] for o in self.outputs]

    def bundle(self) -> tuple:
        """(main path, [(path, bytes), ...]): every file the rules were compiled from."""
        return self._native.bundle()

    def decide(self, record: dict) -> dict:
        """Decides one customer: a dict of column → value. Returns the
        decided record (key, then every decision, as the CSV output's
        columns); raises Rejected when the record cannot be decided."""
        result = self._native.decide(record, self.as_of)
        if not result[0]:
            raise Rejected(result[1] or None, result[2], result[3])
        return result[1]

    def explain(self, record: dict, nearest: bool = False, fixed=()) -> dict:
        """Decides one customer and says why: `decided`, `decisions` (as
        decide() returns them), `rejected` (stage, column, reason) or None,
        `trace` and `plan` (lines), and `text`, what `stratum explain` prints.

        With `nearest=True`, also `nearest`: what one changed input field
        would move a decided customer to (`stratum explain --nearest`):
        `counterfactuals`, a list of dicts (output, target, field, now,
        required, data, condition, rejected, text), each evaluated before it
        is given; `out_of_reach`, per output the values no one field reaches;
        `notes`, what was not searched and why; `fixed`, the fields not moved
        (the rules' `fixed` ones and those of `fixed`, a list of field
        names). Raises ValueError for an unknown field in `fixed`, or rules
        with no segment tree and no enum or bool decision."""
        return self._native.explain(record, self.as_of, nearest, list(fixed))

    def decide_batch(self, df, threads: int | None = None):
        """Decides every row of a pandas DataFrame on `threads` threads
        (default: all cores). Returns (decided, rejected): `decided` has the
        columns `stratum eval --format csv` writes, one row per decided
        customer, in input order, with the input's index; `rejected` has
        record (1-based row position), key, column and reason. Every row is
        in exactly one of them."""
        from ._batch import decide_batch

        return decide_batch(self, df, threads)

    def report(self, input, output=None, previous=None, previous_rules=None, threads: int | None = None,
               sample: int = 2000, input_format: str | None = None) -> dict:
        """Decides the portfolio in the file `input` (CSV, JSON Lines or
        YAML) and sums it up as `stratum report` does: returns the data
        behind the charts (docs/report.md). With `output`, also writes the
        page there, replacing a file of that name whole. `previous`: a
        previous run's decisions (`stratum eval` output), for the migration;
        or `previous_rules`, earlier rules deciding the same portfolio.
        Raises InputError when a file cannot be read."""
        try:
            text = self._native.report(_os.fspath(input), input_format, _os.fspath(previous) if previous else "",
                                       _os.fspath(previous_rules) if previous_rules else "", self.as_of, threads or 0, sample)
        except RuntimeError as e:
            raise InputError(str(e)) from None
        if output is not None:
            page = _stratum.render_report(text)
            output = _os.fspath(output)
            temp = f"{output}.{_os.getpid()}.tmp"
            try:
                with open(temp, "w", encoding="utf-8") as f:
                    f.write(page)
                _os.replace(temp, output)
            except BaseException:
                if _os.path.exists(temp):
                    _os.unlink(temp)
                raise
        return _json.loads(text)

    def __repr__(self) -> str:
        return f"<stratum.RuleSet {self.path} {self.hash[:12]}>"

    def __reduce__(self):
        # Pickled as its files, never as a native object.
        return (from_bundle, (self.bundle(), self.as_of))


def _checked(native, as_of) -> RuleSet:
    if not native.ok:
        diags = [_json.loads(line) for line in native.diagnostics_json().splitlines() if line]
        raise RulesError(native.path, diags, native.diagnostics_text())
    return RuleSet(native, as_of)


def load(path_or_dir, as_of=None, ruleset: str | None = None) -> RuleSet:
    """Loads and checks a rule file. A folder stands for the version in force
    on `as_of` when its files declare `effective` dates (`ruleset` names the
    rule set when it holds versions of several), else for its one rule file
    (or main.strat). Raises RulesError when the rules have errors, OSError
    when the file cannot be read or no version is in force. `as_of` (date or
    'YYYY-MM-DD') is the evaluation date: the day `today` stands for, and
    which version is in force."""
    path = _os.fspath(path_or_dir)
    if not _os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    as_of = _checked_as_of(as_of)
    try:
        path = _stratum.RuleSet.choose(path, as_of, ruleset or "")
        native = _stratum.RuleSet.load(path)
    except ValueError as e:
        raise OSError(str(e)) from None
    return _checked(native, as_of)


def from_bundle(bundle: tuple, as_of=None, expected_hash: str | None = None) -> RuleSet:
    """Compiles rules from the files `RuleSet.bundle()` gave, reading no
    disk. With `expected_hash`, raises ValueError unless the files are those."""
    shape = "a bundle is (main path, [(path, bytes), ...]), as RuleSet.bundle() gives it"
    if not isinstance(bundle, (tuple, list)) or len(bundle) != 2:
        raise TypeError(shape)
    main, files = bundle
    if not isinstance(main, str) or not isinstance(files, (tuple, list)):
        raise TypeError(shape)
    checked = []
    for item in files:
        if not isinstance(item, (tuple, list)) or len(item) != 2 or not isinstance(item[0], str) \
                or not isinstance(item[1], (bytes, bytearray, memoryview)):
            raise TypeError(shape)
        checked.append((item[0], bytes(item[1])))
    native = _stratum.RuleSet.from_bundle(main, checked)
    if expected_hash is not None and native.hash != expected_hash:
        raise ValueError(f"the rule files do not match: hash {native.hash}, expected {expected_hash}")
    return _checked(native, as_of)
