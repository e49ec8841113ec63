"""The Python module decides exactly as the CLI: the same rules, the same
diagnostics, the same decisions and rejections, the same explanations."""
import copy
import datetime
import decimal
import hashlib
import json
import pickle
import threading

import numpy as np
import pandas as pd
import pytest

import stratum
from conftest import EXAMPLES, RULES, ROOT, cli_eval_csv, frame_as_cli_rows, run_cli

D = decimal.Decimal

# An inline scheme with one threshold at 0.3 and one at 300万, to see exactly
# which side of a threshold a value lands on.
EDGE_RULES = """\
enum 档 { 高, 低 }
input 客户 { id : text key  rate : decimal  balance : money >= 0元  opened : date?  vip : bool? }
decide 利率档 : 档 {
  when rate >= 0.3 -> 高
  else -> 低
}
decide 余额档 : 档 {
  when balance >= 300万 -> 高
  else -> 低
}
test "0.3 exactly is 高" {
  given { id: "A", rate: 0.3, balance: 300万 }
  expect { 利率档: 高, 余额档: 高 }
}
"""


@pytest.fixture(scope="module")
def sme():
    return stratum.load(RULES / "sme_size.strat")


@pytest.fixture(scope="module")
def corporate():
    return stratum.load(RULES / "corporate_segments.strat")


@pytest.fixture()
def edge(tmp_path):
    path = tmp_path / "edge.strat"
    path.write_text(EDGE_RULES, encoding="utf-8")
    return stratum.load(path)


def read_str_csv(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# ------------------------------------------------------------------ loading


def test_hash_is_sha256_of_every_file_in_path_order(corporate):
    main, files = corporate.bundle()
    assert main == str(RULES / "corporate_segments.strat")
    assert [p for p, _ in files] == ["corporate_segments.strat", "data/strategic_groups.csv", "sme_size.strat"]
    for path, text in files:
        assert (RULES / path).read_bytes() == text
    h = hashlib.sha256()
    for path, text in sorted(files):
        h.update(path.encode() + b"\0" + str(len(text)).encode() + b"\0" + text)
    assert corporate.hash == h.hexdigest()


def test_from_bundle_compiles_the_same_rules_without_the_disk(corporate, tmp_path):
    again = stratum.from_bundle(corporate.bundle(), expected_hash=corporate.hash)
    assert again.hash == corporate.hash
    assert again.path == corporate.path
    changed = list(corporate.bundle()[1])
    changed[2] = (changed[2][0], changed[2][1].replace("中型".encode(), "中型".encode()) + b"\n")
    with pytest.raises(ValueError, match="the rule files do not match"):
        stratum.from_bundle((corporate.bundle()[0], changed), expected_hash=corporate.hash)


def test_pickles_as_its_files(sme):
    data = pickle.dumps(sme)
    assert b"_stratum" not in data
    back = pickle.loads(data)
    assert back.hash == sme.hash
    assert back.decide({"id": "A", "industry": "工业", "employees": 1000, "revenue": 4 * 10**8, "total_assets": 1}) == {
        "id": "A",
        "规模": "大型",
    }


def test_a_folder_with_several_rule_files_needs_a_name():
    with pytest.raises(OSError, match=r"has \d+ rule files .* and no main.strat: name the rule file to load"):
        stratum.load(RULES)


def test_a_missing_file():
    with pytest.raises(FileNotFoundError):
        stratum.load(ROOT / "no-such.strat")


VERSIONS = ROOT / "tests" / "golden" / "time" / "versions"


@pytest.mark.parametrize(
    "as_of, version, effective",
    [("2026-01-01", "2026.1", "2026-01-01"), ("2026-12-31", "2026.1", "2026-01-01"),
     ("2027-01-01", "2027.1", "2027-01-01"), (datetime.date(2030, 6, 30), "2027.1", "2027-01-01")],
)
def test_a_versions_folder_gives_the_version_in_force(as_of, version, effective):
    rs = stratum.load(VERSIONS, as_of=as_of)
    assert (rs.ruleset, rs.version, rs.effective) == ("存款分层", version, effective)
    assert rs.path == str(VERSIONS / f"deposit_tiers_{version[:4]}.strat")
    assert rs.hash == stratum.load(rs.path).hash
    # 79.99万 is 金卡 from 50万 (2026.1), 普通 below 80万 (2027.1).
    tier = rs.decide({"id": "D03", "日均存款": "79.99", "理财占比": 5, "产品": ["存款"]})["层级"]
    assert tier == ("金卡" if version == "2026.1" else "普通")


def test_a_versions_folder_needs_as_of():
    with pytest.raises(OSError) as caught:
        stratum.load(VERSIONS)
    assert str(caught.value) == (
        f'the folder {VERSIONS} holds 2 versions of "存款分层" (2026.1 (2026-01-01, deposit_tiers_2026.strat); '
        "2027.1 (2027-01-01, deposit_tiers_2027.strat)): give the evaluation date with as_of= "
        "to choose the one in force"
    )
    with pytest.raises(OSError, match=r'no version of "存款分层" .* is in force on 2025-12-31: the earliest takes effect on 2026-01-01'):
        stratum.load(VERSIONS, as_of="2025-12-31")


def test_ruleset_chooses_among_several(tmp_path):
    for f in VERSIONS.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "wealth.strat").write_bytes((VERSIONS.parent / "wealth.strat").read_bytes())
    with pytest.raises(OSError, match=r'holds versions of 2 rule sets \("存款分层", "理财分层"\): choose one with ruleset='):
        stratum.load(tmp_path, as_of="2026-07-01")
    rs = stratum.load(tmp_path, as_of="2026-07-01", ruleset="理财分层")
    assert (rs.ruleset, rs.version, rs.effective) == ("理财分层", "1", "2026-06-01")
    with pytest.raises(OSError, match='has no version of a rule set named "无此"'):
        stratum.load(tmp_path, as_of="2026-07-01", ruleset="无此")


def test_a_file_before_its_effective_date():
    with pytest.raises(OSError, match="takes effect after the evaluation date 2026-12-31: not in force yet"):
        stratum.load(VERSIONS / "deposit_tiers_2027.strat", as_of="2026-12-31")
    assert stratum.load(RULES / "sme_size.strat").effective is None


@pytest.mark.parametrize("name", ["error-analysis-json", "error-analysis-gap", "error-analysis-overlap"])
def test_rules_error_carries_the_diagnostics_of_check(name):
    path = ROOT / "tests" / "golden" / "check" / f"{name}.strat"
    cli = run_cli("check", path, "--diagnostics", "json")
    assert cli.returncode == 1
    expected = [json.loads(line) for line in cli.stdout.splitlines() if line.startswith("{")]
    with pytest.raises(stratum.RulesError) as caught:
        stratum.load(path)
    assert caught.value.diagnostics == expected
    text = run_cli("check", path).stderr
    assert text.endswith("\n") and text.splitlines()[-1].startswith("checked 1 file: ")
    assert caught.value.text == text[: text.rstrip("\n").rfind("\n") + 1]
    assert any("counterexample" in d for d in caught.value.diagnostics)


def test_today_needs_as_of(tmp_path):
    path = tmp_path / "t.strat"
    path.write_text(
        "enum 段 { 新, 老 }\ninput 客户 { id : text key  opened : date }\n"
        "decide 客龄 : 段 {\n  when opened + 1 years > today -> 新\n  else -> 老\n}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="the rules use `today`: give the evaluation date with as_of="):
        stratum.load(path)
    with pytest.raises(ValueError, match="as_of 2026-13-01: expected a date YYYY-MM-DD"):
        stratum.load(path, as_of="2026-13-01")
    rs = stratum.load(path, as_of=datetime.date(2026, 6, 30))
    assert rs.decide({"id": "A", "opened": "2025-07-01"})["客龄"] == "新"
    assert rs.decide({"id": "A", "opened": datetime.date(2025, 6, 30)})["客龄"] == "老"


# ------------------------------------------------------------------ exact values


def test_money_in_every_form_is_exact(edge):
    for balance in [3000000, "3000000", " 3000000.000 ", D("3000000.00"), D("3E+6"), 3000000.0, 3e6, np.int64(3000000),
                    np.uint32(3000000), np.float32(3000000), np.float64(3e6)]:
        got = edge.decide({"id": "A", "rate": "0.1", "balance": balance})
        assert got["余额档"] == "高", balance
    for balance in [2999999.99, D("2999999.999999999999"), "2999999.99", np.float32(2999999.75)]:
        assert edge.decide({"id": "A", "rate": "0.1", "balance": balance})["余额档"] == "低", balance


def test_a_float_is_read_through_its_shortest_repr(edge):
    # 0.3 is the float nearest 0.3 and its repr is "0.3": exactly 0.3 here.
    assert edge.decide({"id": "A", "rate": 0.3, "balance": 0})["利率档"] == "高"
    # 0.29999999999999998 has the repr 0.3: the same float as 0.3.
    assert edge.decide({"id": "A", "rate": 0.29999999999999998, "balance": 0})["利率档"] == "高"
    assert edge.decide({"id": "A", "rate": 0.299999999999, "balance": 0})["利率档"] == "低"
    # 0.1 + 0.2 is 0.30000000000000004 by its repr: 17 places, more than a
    # decimal holds (12). It is refused, never rounded to 0.3.
    with pytest.raises(stratum.Rejected) as caught:
        edge.decide({"id": "A", "rate": 0.1 + 0.2, "balance": 0})
    assert (caught.value.column, caught.value.reason) == ("rate", '"0.30000000000000004": more than 12 decimal places')


def test_decimal_out(corporate):
    record = __import__("yaml").safe_load((EXAMPLES / "customer-C000529.yaml").read_text(encoding="utf-8"))
    got = corporate.decide(record)
    assert isinstance(got["利率浮动"], D)
    assert list(got) == corporate.output_columns


def test_rejections_are_values(edge):
    with pytest.raises(stratum.Rejected) as caught:
        edge.decide({"id": "A", "rate": "abc", "balance": 1})
    e = caught.value
    assert (e.key, e.column, e.reason) == ("A", "rate", '"abc" is not a number (write plain digits, e.g. 12345.67)')
    with pytest.raises(stratum.Rejected) as caught:
        edge.decide({"id": "B", "rate": 0.1})
    assert (caught.value.column, caught.value.reason) == ("balance", "the required field is absent")
    with pytest.raises(stratum.Rejected) as caught:
        edge.decide({"id": "C", "rate": float("inf"), "balance": 1})
    assert (caught.value.column, caught.value.reason) == ("rate", "infinity is not a number a record holds")
    with pytest.raises(stratum.Rejected) as caught:
        edge.decide({"id": "D", "rate": 1, "balance": 1, "opened": object()})
    assert (caught.value.column, caught.value.reason) == (
        "opened",
        "a Python object is not a value a record holds (give str, int, decimal.Decimal, float, bool, "
        "datetime.date, a list of these, or None)",
    )
    with pytest.raises(stratum.Rejected) as caught:
        edge.decide({"id": "E", "rate": 1, "balance": -1})
    assert (caught.value.column, caught.value.reason) == ("balance", "-1 is outside the field's range `>= 0元`")
    with pytest.raises(stratum.Rejected) as caught:
        edge.decide({"id": "F", "rate": 1, "balance": 1, "opened": datetime.datetime(2026, 1, 1, 9, 30)})
    assert (caught.value.column, caught.value.reason) == ("opened", '"2026-01-01T09:30:00" is not a date (write YYYY-MM-DD)')


def test_missing_values(edge):
    for missing in [None, float("nan"), D("NaN")]:
        assert edge.decide({"id": "A", "rate": 1, "balance": 1, "opened": missing, "vip": missing})["利率档"] == "高"


# ------------------------------------------------------------------ explanations


def test_explain_is_what_the_cli_prints(corporate):
    record = __import__("yaml").safe_load((EXAMPLES / "customer-C000529.yaml").read_text(encoding="utf-8"))
    cli = run_cli("explain", corporate.path, "--record", EXAMPLES / "customer-C000529.yaml")
    assert cli.returncode == 0
    e = corporate.explain(record)
    assert e["text"] == cli.stdout
    assert e["decided"] is True and e["rejected"] is None
    assert e["decisions"] == corporate.decide(record)
    assert e["key"] == "C000529"
    assert e["plan"] and e["trace"]


def test_explain_a_rejection(edge):
    e = edge.explain({"id": "A", "rate": "x", "balance": 1})
    assert e["decided"] is False
    assert e["rejected"] == {"stage": "fields", "column": "rate",
                             "reason": '"x" is not a number (write plain digits, e.g. 12345.67)'}
    assert e["text"] == (
        f"customer A  ({edge.path})\nrules (unnamed rule set), hash {edge.hash}\n\nrejected: column rate: \"x\" is not a number (write plain digits, e.g. 12345.67)\n"
    )


def test_explain_nearest_gives_the_counterfactuals_as_data(corporate):
    path = ROOT / "tests" / "golden" / "explain" / "nearest-corporate.record.yaml"
    record = __import__("yaml").safe_load(path.read_text(encoding="utf-8"))
    cli = run_cli("explain", corporate.path, "--record", path, "--nearest")
    assert cli.returncode == 0
    e = corporate.explain(record, nearest=True)
    assert e["text"] == cli.stdout
    n = e["nearest"]
    assert n["fixed"] == []
    large = [c for c in n["counterfactuals"] if c["field"] == "revenue"]
    assert large == [{
        "output": "segment", "target": "对公客户/有贷户/公司类客户/传统公司客户/大型客户", "field": "revenue",
        "now": "274336857.11元", "required": "3亿", "data": "300000000元", "condition": "revenue ≥ 3亿",
        "rejected": None, "text": "would be 大型客户 if revenue ≥ 3亿 (now 274336857.11元)",
    }]
    assert n["out_of_reach"]["segment"] == ["机构类无贷户", "规模以下客户"]
    # Each counterfactual, made to the record, decides as promised.
    for c in n["counterfactuals"]:
        if c["rejected"] is None and c["output"] == "segment":
            moved = dict(record, **{c["field"]: c["data"]})
            if c["field"] == "业务标签":
                moved[c["field"]] = c["data"].split(";") if c["data"] else []
            assert corporate.decide(moved)["segment"] == c["target"]
    # Fixed fields are never moved; an unknown one is an error.
    fixed = corporate.explain(record, nearest=True, fixed=["industry", "所属市场"])["nearest"]
    assert fixed["fixed"] == ["所属市场", "industry"]
    assert all(c["field"] not in ("industry", "所属市场") for c in fixed["counterfactuals"])
    with pytest.raises(ValueError, match="`行业` is not an input field"):
        corporate.explain(record, nearest=True, fixed=["行业"])
    # Without nearest, no such key.
    assert "nearest" not in corporate.explain(record)


# ------------------------------------------------------------------ batches


@pytest.mark.parametrize(
    "rules,portfolio",
    [("sme_size.strat", "portfolio.csv"), ("corporate_segments.strat", "corporate_portfolio.csv")],
)
def test_batch_equals_cli_on_the_example_portfolios(rules, portfolio):
    rs = stratum.load(RULES / rules)
    header, rows, rejections = cli_eval_csv(RULES / rules, EXAMPLES / portfolio)
    df = read_str_csv(EXAMPLES / portfolio)
    decided, rejected = rs.decide_batch(df)
    assert list(decided.columns) == header
    assert frame_as_cli_rows(decided) == rows
    assert len(decided) + len(rejected) == len(df)
    assert rejections == []
    # the same from the DataFrame pandas makes of it (numbers as int64 and
    # float64); an empty cell stays "" (pandas would make it NaN, a missing
    # value, where the CLI reads an empty set)
    native = pd.read_csv(EXAMPLES / portfolio, keep_default_na=False)
    assert "float64" in set(map(str, native.dtypes))
    decided2, _ = rs.decide_batch(native)
    assert frame_as_cli_rows(decided2.drop(columns=[rs.key_name])) == [r[1:] for r in rows]


def test_batch_rejections_equal_the_cli(edge, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "id,rate,balance,opened,vip\n"
        "A,0.3,300万,2020-01-01,true\n"
        "B,x,1,,\n"
        "C,0.1,-5,,\n"
        "D,0.1,1,2020-02-30,\n"
        ",0.1,1,,是\n"
        "F,0.1,,,\n"
        "G,0.29,2999999.99,,maybe\n"
        "H,1e3,1,,\n",
        encoding="utf-8",
    )
    header, rows, rejections = cli_eval_csv(edge.path, csv)
    df = read_str_csv(csv)
    decided, rejected = edge.decide_batch(df)
    assert frame_as_cli_rows(decided) == rows
    assert [
        {"record": int(r.record), "line": int(r.record) + 1, "key": r.key, "column": r.column, "reason": r.reason}
        for r in rejected.itertuples()
    ] == rejections
    assert list(rejected.index) == [i for i in df.index if df.id[i] not in {row[0] for row in rows}]
    assert len(decided) + len(rejected) == len(df) == 8


def test_batch_column_types(edge):
    df = pd.DataFrame(
        {
            "id": pd.array(["A", "B", "C", "D", "E", "F"], dtype="string"),
            "rate": np.array([0.3, 0.30000000001, 0.299999999999, 1, 0, np.nan], dtype=np.float64),
            "balance": pd.array([3000000, 2999999, 0, None, 1, 1], dtype="Int64"),
            "opened": pd.to_datetime(["2020-01-01", None, "2020-01-02", "2020-01-03", "2020-01-03 10:00", None]),
            "vip": pd.array([True, None, False, True, False, None], dtype="boolean"),
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    decided, rejected = edge.decide_batch(df)
    assert frame_as_cli_rows(decided) == [["A", "高", "高"], ["B", "高", "低"], ["C", "低", "低"]]
    assert list(decided.index) == [10, 11, 12]
    assert rejected.to_dict("list") == {
        "record": [4, 5, 6],
        "key": ["D", "E", "F"],
        "column": ["balance", "opened", "rate"],
        "reason": [
            "the required field is empty",
            '"2020-01-03T10:00:00" is not a date (write YYYY-MM-DD)',
            "the required field is empty",
        ],
    }
    assert list(rejected.index) == [13, 14, 15]
    assert decided["利率档"].dtype == pd.CategoricalDtype(["高", "低"])


def test_batch_float32_categorical_and_objects(edge):
    df = pd.DataFrame(
        {
            "id": pd.Categorical(["A", "B", "C"]),
            "rate": np.array([0.3, 0.1, 0.5], dtype=np.float32),
            "balance": np.array([D("3000000"), "3000000", 2999999.995], dtype=object),
        }
    )
    decided, rejected = edge.decide_batch(df)
    assert frame_as_cli_rows(decided) == [["A", "高", "高"], ["B", "低", "高"], ["C", "高", "低"]]
    assert len(rejected) == 0


def test_batch_missing_column_and_bad_arguments(edge):
    with pytest.raises(stratum.InputError, match=r"the input has no column `balance` \(its columns are: id, rate\)"):
        edge.decide_batch(pd.DataFrame({"id": ["A"], "rate": [1]}))
    with pytest.raises(TypeError, match="decide_batch takes a pandas DataFrame, not a dict"):
        edge.decide_batch({"id": ["A"]})
    with pytest.raises(ValueError, match="threads is a whole number from 1"):
        edge.decide_batch(pd.DataFrame({"id": ["A"], "rate": [1], "balance": [1]}), threads=0)


def test_batch_is_the_same_on_any_number_of_threads(sme):
    df = read_str_csv(EXAMPLES / "portfolio.csv")
    big = pd.concat([df] * 500, ignore_index=True)
    one, r1 = sme.decide_batch(big, threads=1)
    many, r4 = sme.decide_batch(big, threads=7)
    pd.testing.assert_frame_equal(one, many)
    pd.testing.assert_frame_equal(r1, r4)


def test_batches_on_python_threads_at_once(sme):
    df = pd.concat([read_str_csv(EXAMPLES / "portfolio.csv")] * 200, ignore_index=True)
    expected, _ = sme.decide_batch(df, threads=1)
    results = [None] * 4

    def run(i):
        results[i] = sme.decide_batch(df, threads=2)[0]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results:
        pd.testing.assert_frame_equal(got, expected)


def test_empty_frame(sme):
    df = read_str_csv(EXAMPLES / "portfolio.csv").iloc[:0]
    decided, rejected = sme.decide_batch(df)
    assert list(decided.columns) == ["id", "规模"] and len(decided) == 0
    assert list(rejected.columns) == ["record", "key", "column", "reason"] and len(rejected) == 0


# ------------------------------------------------------------------ unusual input

BIG_RULES = """\
input 客户 { id : text key  m : money  s : set<text>? }
decide big : bool {
  when m >= 100000000000000000000000元 -> true
  else -> false
}
decide echo : money {
  else -> m
}
"""


@pytest.fixture()
def big(tmp_path):
    path = tmp_path / "big.strat"
    path.write_text(BIG_RULES, encoding="utf-8")
    return stratum.load(path)


def test_floats_are_read_through_repr_at_every_magnitude(big):
    cases = [
        (1e23, D("100000000000000000000000"), True),
        (np.float32(1e20), D("100000000000000000000"), False),
        (1.2345678901234566e17, D("123456789012345660"), False),
        (np.float16(0.1), D("0.1"), False),
        (2999999.99, D("2999999.99"), False),
    ]
    for value, exact, is_big in cases:
        got = big.decide({"id": "A", "m": value})
        assert (got["echo"], got["big"]) == (exact, is_big), value
    df = pd.DataFrame({"id": ["A", "B"], "m": [1e23, 1.2345678901234566e17]})
    decided, _ = big.decide_batch(df)
    assert list(decided["echo"]) == [D("100000000000000000000000"), D("123456789012345660")]
    half = pd.DataFrame({"id": ["A", "B"], "m": np.array([0.1, np.nan], dtype=np.float16)})
    decided, rejected = big.decide_batch(half)
    assert list(decided["echo"]) == [D("0.1")]
    assert rejected.reason.tolist() == ["the required field is empty"]


def test_huge_numbers_are_out_of_range_without_writing_them_out(big):
    out_of_range = "number out of range (the exact range is below 10^24 in absolute value)"
    for value in [10**5000, -10**5000, D("1E+999999999"), D("-1E+999999999999999999")]:
        with pytest.raises(stratum.Rejected) as caught:
            big.decide({"id": "A", "m": value})
        assert caught.value.reason.endswith(out_of_range) or caught.value.reason.endswith("number out of range"), value
    with pytest.raises(stratum.Rejected) as caught:
        big.decide({"id": "A", "m": D("1E-999999999")})
    assert caught.value.reason == '"1E-999999999": number out of range'


def test_arrays_are_set_items_and_only_one_dimensional(big):
    assert big.decide({"id": "A", "m": 1, "s": np.array(["红", "绿"])})["big"] is False
    with pytest.raises(stratum.Rejected) as caught:
        big.decide({"id": "A", "m": np.array([5])})
    assert caught.value.reason == "expected one value, found a list"
    with pytest.raises(stratum.Rejected) as caught:
        big.decide({"id": "A", "m": 1, "s": np.array([["a"]])})
    assert caught.value.reason.startswith("a Python numpy.ndarray is not a value a record holds")


def test_rejections_and_rule_errors_pickle():
    e = pickle.loads(pickle.dumps(stratum.Rejected("k", "c", "r")))
    assert (type(e), e.key, e.column, e.reason, str(e)) == (stratum.Rejected, "k", "c", "r", "record k rejected: column c: r")
    with pytest.raises(stratum.RulesError) as caught:
        stratum.load(ROOT / "tests" / "golden" / "check" / "error-analysis-gap.strat")
    back = pickle.loads(pickle.dumps(caught.value))
    assert (back.diagnostics, back.text, str(back)) == (caught.value.diagnostics, caught.value.text, str(caught.value))


def test_threads_argument(sme):
    df = read_str_csv(EXAMPLES / "portfolio.csv")
    expected, _ = sme.decide_batch(df)
    for threads in [np.int64(2), 2**40, 1]:
        pd.testing.assert_frame_equal(sme.decide_batch(df, threads=threads)[0], expected)
    with pytest.raises(TypeError, match="threads is a whole number from 1, not a bool"):
        sme.decide_batch(df, threads=True)
    with pytest.raises(ValueError, match="threads is a whole number from 1, not 0"):
        sme.decide_batch(df, threads=0)
    with pytest.raises(TypeError, match="threads is a whole number from 1, not a float"):
        sme.decide_batch(df, threads=2.0)


def test_bad_bundles_and_records(sme):
    for bad in ["abc", (1, 2, 3), {"a": 1}, (5, []), ("a.strat", [("a.strat", "text, not bytes")])]:
        with pytest.raises(TypeError, match=r"a bundle is \(main path, \[\(path, bytes\), \.\.\.\]\)"):
            stratum.from_bundle(bad)
    with pytest.raises(ValueError, match="the bundle has no file `x.strat` for its main rule file `../x.strat`"):
        stratum.from_bundle(("../x.strat", [("../x.strat", b"")]))

    class OnlyGet:
        def get(self, k):
            return None

    with pytest.raises(TypeError, match="a record is a dict of column → value, not a OnlyGet"):
        sme.decide(OnlyGet())


def test_keys_and_record_numbers_as_the_cli_writes_them(tmp_path):
    int_key = tmp_path / "intkey.strat"
    int_key.write_text("input c { n : int key  v : int }\ndecide o : int { else -> v }\n", encoding="utf-8")
    no_key = tmp_path / "nokey.strat"
    no_key.write_text("input c { v : int }\ndecide o : int { else -> v }\n", encoding="utf-8")
    csv = tmp_path / "k.csv"
    csv.write_text("n,v\n0005,1\n-0,2\n+7,3\n", encoding="utf-8")
    for rules in (int_key, no_key):
        header, rows, _ = cli_eval_csv(rules, csv)
        rs = stratum.load(rules)
        decided, _ = rs.decide_batch(read_str_csv(csv))
        assert list(decided.columns) == header
        assert frame_as_cli_rows(decided) == rows
    assert stratum.load(int_key).decide({"n": "0005", "v": 1}) == {"n": 5, "o": D("1")}
    assert stratum.load(no_key).decide({"v": 1}) == {"o": D("1")}


def test_bytes_kept_as_surrogates_are_refused_as_the_cli_refuses_them(tmp_path):
    path = tmp_path / "t.strat"
    path.write_text("input c { id : text key  t : text }\ndecide o : text { else -> t }\n", encoding="utf-8")
    csv = tmp_path / "bad.csv"
    csv.write_bytes(b"id,t\nA,ok\nC\xff12,x\nD,y\xfez\n")
    _, rows, rejections = cli_eval_csv(path, csv)
    df = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8", encoding_errors="surrogateescape")
    decided, rejected = stratum.load(path).decide_batch(df)
    assert frame_as_cli_rows(decided) == rows
    assert [(r.key, r.column, r.reason) for r in rejected.itertuples()] == [
        (r["key"], r["column"], r["reason"]) for r in rejections
    ]


def test_more_threads_than_the_system_starts_decide_on_fewer():
    # As an unprivileged user allowed one process, no thread can start: the
    # batch is decided on the calling thread, never aborted.
    import os
    import subprocess
    import sys
    import tempfile

    if os.getuid() != 0:
        pytest.skip("needs root to run the batch as another user")
    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o755)
    script = os.path.join(folder, "limited.py")
    rules = os.path.join(folder, "nokey.strat")
    with open(rules, "w", encoding="utf-8") as f:
        f.write("input c { v : int }\ndecide o : int { else -> v }\n")
    with open(script, "w", encoding="utf-8") as f:
        f.write(
            "import os, resource, sys, numpy as np, pandas as pd, stratum\n"
            "rs = stratum.load(sys.argv[1])\n"
            "df = pd.DataFrame({'v': np.arange(256 * 4096)})\n"
            "resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))\n"
            "decided, rejected = rs.decide_batch(df, threads=64)\n"
            "print(len(decided), len(rejected), int(decided['o'].iloc[-1]))\n"
        )
    for p in (script, rules):
        os.chmod(p, 0o644)

    def drop():
        os.setgid(65534)
        os.setuid(65534)

    package = os.path.dirname(os.path.dirname(os.path.abspath(stratum.__file__)))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", HOME=folder, PYTHONPATH=package)
    try:
        r = subprocess.run([sys.executable, script, rules], capture_output=True, text=True, env=env, preexec_fn=drop,
                           cwd=folder)
    finally:
        for p in (script, rules):
            os.unlink(p)
        os.rmdir(folder)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1048576", "0", "1048575"]


def test_report_gives_the_data_and_the_page_stratum_report_gives(corporate, tmp_path):
    page = tmp_path / "report.html"
    data = corporate.report(EXAMPLES / "corporate_portfolio.csv", output=page, threads=2)
    r = run_cli("report", RULES / "corporate_segments.strat", "--input", EXAMPLES / "corporate_portfolio.csv",
                "--output", tmp_path / "cli.html", "--data", tmp_path / "cli.json")
    assert r.returncode == 0, r.stderr
    assert data == json.loads((tmp_path / "cli.json").read_text(encoding="utf-8"))
    assert page.read_text(encoding="utf-8") == (tmp_path / "cli.html").read_text(encoding="utf-8")
    assert (data["header"]["read"], data["header"]["decided"], data["header"]["rejected"]) == (10000, 10000, 0)
    with pytest.raises(stratum.InputError, match=r"^cannot open .*none\.csv: No such file or directory$"):
        corporate.report(tmp_path / "none.csv", output=tmp_path / "never.html")
    assert not (tmp_path / "never.html").exists()
