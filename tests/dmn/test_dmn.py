"""stratum import-dmn and export-dmn.

- Conformance: every DMN TCK decision-table case under tests/dmn/tck (kept
  unmodified, and ../shared/tck beside the repository when it is there) is
  imported with its test file and `stratum test` runs the result: every
  test case must pass. The imported rule file of each case is a golden
  (tests/dmn/golden/CASE.strat), and docs/conformance.md's table must be the
  table these results make.
- Round trips: import(export(x)) decides as x does, on the example
  portfolio (sme_size) and on every TCK case (its tests run on the
  re-imported rules).
- What cannot be imported is reported at its XML line, and nothing is
  written (goldens of the whole standard error under tests/dmn/bad).

STRATUM_UPDATE_GOLDEN=1 rewrites the goldens and the table in
docs/conformance.md instead of comparing.
"""
import csv
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "dmn"
GOLDEN = HERE / "golden"
BAD = HERE / "bad"
STRATUM = os.environ.get("STRATUM_BIN", str(ROOT / "build" / "stratum"))
UPDATE = os.environ.get("STRATUM_UPDATE_GOLDEN") == "1"
CONFORMANCE = ROOT / "docs" / "conformance.md"


def tck_cases():
    """(name, model, test file) of every case folder: ours, then any other beside the repository."""
    roots = [HERE / "tck", HERE / "tck-more"]
    shared = ROOT.parent / "shared" / "tck"
    if shared.is_dir():
        roots.append(shared)
    seen = {}
    for root in roots:
        for model in sorted(root.glob("*/*/*.dmn")):
            tests = sorted(model.parent.glob(model.stem + "-test-*.xml"))
            seen.setdefault(model.stem, (model.stem, model, tests))
    return [seen[k] for k in sorted(seen)]


CASES = tck_cases()


def run(*args, cwd=None):
    return subprocess.run([STRATUM, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


def golden(path, text):
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing (STRATUM_UPDATE_GOLDEN=1 writes it)"
    assert text == path.read_text(encoding="utf-8"), f"differs from {path}"


def test_cases_found():
    names = [c[0] for c in CASES]
    assert len(names) >= 17, names
    for name, model, tests in CASES:
        assert tests, f"{model} has no test file"


def count_cases(test_files):
    return sum(len(re.findall(r"<testCase\b", t.read_text(encoding="utf-8"))) for t in test_files)


def conformance_row(name, tests, tmp):
    """Imports one case and runs its tests: (passed, total, reason, rule text)."""
    out = tmp / f"{name}.strat"
    args = ["import-dmn", tests[0].parent / f"{name}.dmn", "--output", out]
    for t in tests:
        args += ["--tests", t]
    imported = run(*args)
    total = count_cases(tests)
    if imported.returncode != 0 or imported.stderr:
        first = imported.stderr.strip().splitlines()[0] if imported.stderr.strip() else "import failed"
        return 0, total, first, None
    result = run("test", out)
    m = re.search(r"(\d+) passed, (\d+) failed", result.stdout)
    passed = int(m.group(1)) if m else 0
    reason = "" if result.returncode == 0 and passed == total else result.stdout.strip().splitlines()[0]
    return passed, total, reason, out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tck")
    return {name: conformance_row(name, tests, tmp) for name, model, tests in CASES}


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_tck_case_passes(results, name):
    passed, total, reason, text = results[name]
    assert reason == "" and passed == total, f"{name}: {passed}/{total} {reason}"
    golden(GOLDEN / f"{name}.strat", text)
    # The imported file is laid out as `stratum fmt` lays it out, and checks clean.
    assert run("fmt", "--check", GOLDEN / f"{name}.strat").returncode == 0
    checked = run("check", GOLDEN / f"{name}.strat")
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "checked 1 file: 0 errors, 0 warnings\n")


def conformance_table(results):
    lines = ["| case | hit policy | test cases | result |", "| --- | --- | --- | --- |"]
    for name, model, tests in CASES:
        passed, total, reason, _ = results[name]
        dmn = model.read_text(encoding="utf-8")
        policies = []
        for m in re.finditer(r"<(?:\w+:)?decisionTable\b[^>]*>", dmn):
            tag = m.group(0)
            hp = re.search(r'hitPolicy="([^"]+)"', tag)
            ag = re.search(r'aggregation="([^"]+)"', tag)
            policies.append((hp.group(1) if hp else "UNIQUE") + (" " + ag.group(1) if ag else ""))
        outputs = len(re.findall(r"<(?:\w+:)?output\b", dmn))
        policy = ", ".join(dict.fromkeys(policies)) + (f" ({outputs} outputs)" if outputs > 1 else "")
        result = "pass" if not reason and passed == total else f"fail: {reason}"
        lines.append(f"| {name} | {policy} | {passed}/{total} | {result} |")
    return "\n".join(lines) + "\n"


def test_conformance_doc_is_this_table(results):
    text = CONFORMANCE.read_text(encoding="utf-8")
    begin, end = "<!-- tck:begin -->\n", "<!-- tck:end -->"
    assert begin in text and end in text, "docs/conformance.md lacks the tck markers"
    table = conformance_table(results)
    current = text[text.index(begin) + len(begin):text.index(end)]
    if UPDATE:
        CONFORMANCE.write_text(text.replace(begin + current, begin + table), encoding="utf-8")
        current = table
    assert current == table


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_tck_round_trip(results, name, tmp_path):
    """export-dmn of an imported case, imported again: the case's tests pass on it too.

    DMN names (`Approval Status`) become rule names (`Approval_Status`) on
    the first import and stay so: the test blocks of the first import run
    on the rules of the second."""
    _, _, reason, text = results[name]
    assert text is not None, reason
    first = tmp_path / "first.strat"
    first.write_text(text, encoding="utf-8")
    exported = run("export-dmn", first, "--output", tmp_path / "model.dmn")
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == "stratum export-dmn: note: the tests not exported: DMN test cases are separate files\n"
    again = run("import-dmn", tmp_path / "model.dmn", "--output", tmp_path / "again.strat")
    assert (again.returncode, again.stderr) == (0, "")
    rules = (tmp_path / "again.strat").read_text(encoding="utf-8")
    tests = text[text.index("\n# The test cases of"):]
    (tmp_path / "again.strat").write_text(rules + tests, encoding="utf-8")
    result = run("test", tmp_path / "again.strat")
    assert result.returncode == 0, result.stdout + result.stderr
    total = count_cases([t for n, m, ts in CASES if n == name for t in ts])
    assert re.search(r"(\d+) passed, 0 failed", result.stdout).group(1) == str(total)


def decided(rules, portfolio, out):
    r = run("eval", rules, "--input", portfolio, "--format", "csv", "--output", out)
    assert r.returncode == 0, r.stderr
    with open(out, encoding="utf-8", newline="") as f:
        # the provenance columns (@hash names the rule file's text) are not the decisions compared
        return [{k: v for k, v in row.items() if not k.startswith("@")} for row in csv.DictReader(f)]


def test_sme_size_round_trip(tmp_path):
    """export-dmn of the shipped SME table, then import-dmn: the same 规模 for every company of the example portfolio."""
    model = tmp_path / "sme_size.dmn"
    exported = run("export-dmn", ROOT / "rules" / "sme_size.strat", "--output", model)
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == ("stratum export-dmn: note: the tests not exported: DMN test cases are separate files\n"
                               "stratum export-dmn: note: the key field `id` not exported: DMN has no record key\n")
    golden(GOLDEN / "sme_size.dmn", model.read_text(encoding="utf-8"))
    back = tmp_path / "sme_size.strat"
    imported = run("import-dmn", model, "--output", back)
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr == ""
    golden(GOLDEN / "sme_size.roundtrip.strat", back.read_text(encoding="utf-8").replace(str(tmp_path) + "/", ""))
    portfolio = ROOT / "examples" / "portfolio.csv"
    original = decided(ROOT / "rules" / "sme_size.strat", portfolio, tmp_path / "a.csv")
    again = decided(back, portfolio, tmp_path / "b.csv")
    assert len(original) == len(again) == 48
    assert [r["规模"] for r in original] == [r["规模"] for r in again]


def test_export_notes_what_it_leaves_out(tmp_path):
    """A scheme with decision lists, a segment tree and plans: its tables go, and a note names each thing left out."""
    out = tmp_path / "corporate.dmn"
    r = run("export-dmn", "rules/corporate_segments.strat", "--output", out, cwd=ROOT)
    golden(GOLDEN / "corporate_segments.export.txt", f"exit {r.returncode}\n{r.stderr}")
    if r.returncode == 0:
        golden(GOLDEN / "corporate_segments.dmn", out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("model", sorted(p.name for p in BAD.glob("*.dmn")))
def test_unsupported_is_reported(model, tmp_path):
    """The whole standard error and the exit status; nothing written unless the rules were imported."""
    path = BAD / model
    args = ["import-dmn", f"tests/dmn/bad/{model}", "--output", tmp_path / "out.strat"]
    tests = sorted(BAD.glob(path.stem + "-test-*.xml"))
    for t in tests:
        args += ["--tests", f"tests/dmn/bad/{t.name}"]
    r = run(*args, cwd=ROOT)
    stderr = r.stderr.replace(str(tmp_path) + "/", "")
    golden(BAD / (path.stem + ".expected"), f"exit {r.returncode}\n{stderr}")
    written = (tmp_path / "out.strat").exists()
    assert written == (r.returncode == 0 or "the imported rules have" in r.stderr)


def test_usage(tmp_path):
    assert run("import-dmn").returncode == 2
    r = run("import-dmn", tmp_path / "none.dmn")
    assert (r.returncode, r.stderr) == (2, f"stratum import-dmn: cannot read {tmp_path}/none.dmn: no such file\n")
    model = HERE / "tck" / "compliance-level-2" / "0004-simpletable-U" / "0004-simpletable-U.dmn"
    r = run("import-dmn", model, "--output", model)
    assert r.returncode == 2 and "it would be replaced" in r.stderr
    assert run("import-dmn", "--help").returncode == 0
    assert run("export-dmn", "--help").returncode == 0
    r = run("export-dmn", ROOT / "rules" / "sme_size.strat", "--output", ROOT / "rules" / "sme_size.strat")
    assert r.returncode == 2 and "it would be replaced" in r.stderr


def test_features_beyond_the_tck(tmp_path):
    """Item definitions (allowed strings, a number range), dates and date
    ranges, not(…), lists, ]a..b], booleans, a decision reading a decision,
    annotations and descriptions as comments, default outputs, names with
    spaces, priority over two outputs, null inputs and `null` tests (a
    null matches only `-` and `null` cells): imported (golden), its tests pass."""
    out = tmp_path / "features.strat"
    here = HERE / "features"
    r = run("import-dmn", here / "features.dmn", "--tests", here / "features-test-01.xml", "--output", out)
    assert (r.returncode, r.stderr) == (0, "")
    golden(here / "features.strat", out.read_text(encoding="utf-8"))
    result = run("test", out)
    assert (result.returncode, result.stdout.strip().splitlines()[-1]) == (0, "5 passed, 0 failed")


def test_names_never_become_rules(tmp_path):
    """A DMN name holding a line end and rule text stays in its comment:
    the imported file has the one decision the model has."""
    model = tmp_path / "inject.dmn"
    model.write_text('''<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" name="inject" namespace="urn:t" id="d">
  <inputData name="x" id="i1"><variable name="x" typeRef="number"/></inputData>
  <decision name="A&#10;decide evil : text { else -&gt; &quot;pwn&quot; }&#10;#" id="d1">
    <decisionTable hitPolicy="FIRST">
      <input><inputExpression typeRef="number"><text>x</text></inputExpression></input>
      <output typeRef="string"/>
      <annotation name="note&#10;decide evil2 : text { else -&gt; &quot;pwn&quot; }"/>
      <rule><inputEntry><text>-</text></inputEntry><outputEntry><text>"ok"</text></outputEntry>
        <annotationEntry><text>fine</text></annotationEntry></rule>
    </decisionTable>
  </decision>
</definitions>
''', encoding="utf-8")
    out = tmp_path / "inject.strat"
    r = run("import-dmn", model, "--output", out)
    assert (r.returncode, r.stderr) == (0, "")
    data = tmp_path / "in.csv"
    data.write_text("x\n1\n", encoding="utf-8")
    rows = decided(out, data, tmp_path / "out.csv")
    assert rows == [{"record": "1", "A_decide_evil_text_else_pwn": "ok"}]


def test_every_piece_of_an_entry_is_read(tmp_path):
    """Text split by a comment or a CDATA section is one entry: `< 5<!-- -->0` is `< 50`."""
    model = tmp_path / "pieces.dmn"
    model.write_text('''<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" name="pieces" namespace="urn:t" id="d">
  <inputData name="x" id="i1"><variable name="x" typeRef="number"/></inputData>
  <decision name="A" id="d1">
    <decisionTable hitPolicy="FIRST">
      <input><inputExpression typeRef="number"><text>x</text></inputExpression></input>
      <output typeRef="string"/>
      <rule><inputEntry><text>&lt; 5<!-- c -->0</text></inputEntry><outputEntry><text>"<![CDATA[中]]>"</text></outputEntry></rule>
      <rule><inputEntry><text><![CDATA[>= 5]]>0</text></inputEntry><outputEntry><text>"big"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
''', encoding="utf-8")
    out = tmp_path / "pieces.strat"
    r = run("import-dmn", model, "--output", out)
    assert (r.returncode, r.stderr) == (0, "")
    data = tmp_path / "in.csv"
    data.write_text("x\n49\n50\n", encoding="utf-8")
    assert [row["A"] for row in decided(out, data, tmp_path / "out.csv")] == ["中", "big"]


def test_null_test_of_a_decision_that_always_has_a_value(tmp_path):
    """`Band` has a default output, so it is never null: the rule of `Label`
    testing it for `null` never applies (as in DMN). It is kept as a comment,
    the column is not `Band?`, and the file checks without a finding."""
    here = HERE / "features"
    out = tmp_path / "null-of-a-decision.strat"
    r = run("import-dmn", here / "null-of-a-decision.dmn", "--output", out)
    assert (r.returncode, r.stderr) == (0, "")
    golden(here / "null-of-a-decision.strat", out.read_text(encoding="utf-8"))
    checked = run("check", out)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "checked 1 file: 0 errors, 0 warnings\n")
    data = tmp_path / "in.jsonl"
    data.write_text('{"x": 49}\n{"x": 50}\n{"x": null}\n', encoding="utf-8")
    rows = decided(out, data, tmp_path / "out.csv")
    assert [(row["Band"], row["Label"]) for row in rows] == [("low", "L"), ("high", "H"), ("low", "L")]
