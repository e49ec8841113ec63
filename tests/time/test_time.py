"""Rules over time: versions with effective dates chosen by --as-of, the
provenance of every decided record (@ruleset, @version, @hash, @as_of),
eval --keep-input read back to the same decisions, and stratum replay, the
audit of an earlier run.

Each case's whole standard output, standard error and exit status are
compared with tests/golden/time/NAME.expected. Only this run's temporary
folder ($TMP) and the hashes of the shipped rule files (named after the
file, taken from stratum's own output) are replaced, so that an edit of
rules/ does not break the goldens. Goldens are rewritten with
STRATUM_UPDATE_GOLDEN=1; review the diff.
"""
import csv
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
STRATUM = os.environ.get('STRATUM_BIN', str(ROOT / 'build' / 'stratum'))
GOLDEN = ROOT / 'tests' / 'golden' / 'time'
VERSIONS = 'tests/golden/time/versions'
PORTFOLIO = 'tests/golden/time/portfolio.csv'
RECORD = 'tests/golden/time/D03.yaml'
UPDATE = os.environ.get('STRATUM_UPDATE_GOLDEN') == '1'


def run(*args):
    return subprocess.run([STRATUM, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=ROOT)


def decide(*args):
    """A run that must succeed; its standard output."""
    r = run(*args)
    assert r.returncode == 0, 'stratum %s: exit %d\n%s' % (' '.join(map(str, args)), r.returncode, r.stderr)
    return r.stdout


def hash_in(decided):
    """The @hash of the first record of a decided file (CSV or JSON Lines)."""
    text = pathlib.Path(decided).read_text(encoding='utf-8')
    if str(decided).endswith('.csv'):
        return next(csv.DictReader(io.StringIO(text)))['@hash']
    return json.loads(text.splitlines()[0])['@hash']


def check(name, r, args, tmp=None, hashes=()):
    """The whole result of one run against tests/golden/time/NAME.expected.
    hashes: (full hash, what to call it) pairs replaced, also by their first 12 digits."""
    text = '$ stratum %s\nexit %d\n--- stdout\n%s--- stderr\n%s' % (' '.join(map(str, args)), r.returncode, r.stdout, r.stderr)
    if tmp is not None:
        text = text.replace(str(tmp), '$TMP')
    for full, label in hashes:
        text = text.replace(full, '<hash of %s>' % label).replace(full[:12], '<hash of %s, first 12>' % label)
    path = GOLDEN / (name + '.expected')
    if UPDATE:
        path.write_text(text, encoding='utf-8')
    assert path.exists(), 'no golden %s: run with STRATUM_UPDATE_GOLDEN=1 and review it' % path
    assert text == path.read_text(encoding='utf-8')


def case(name, *args, tmp=None, hashes=(), exit=None):
    r = run(*args)
    if exit is not None:
        assert r.returncode == exit, r.stderr
    check(name, r, args, tmp, hashes)
    return r


def rule_hash(folder, names):
    """The content hash of rule files as the engine computes it: each file's
    path (from the main file's folder), length and bytes, in path order."""
    h = hashlib.sha256()
    for name in sorted(names):
        data = (ROOT / folder / name).read_bytes()
        h.update(name.encode() + b'\0' + str(len(data)).encode() + b'\0' + data)
    return h.hexdigest()


# ------------------------------------------------------------ versions in force


@pytest.mark.parametrize('as_of, version', [
    ('2026-01-01', '2026.1'),   # the first day of the first version
    ('2026-12-31', '2026.1'),   # the last day before the second
    ('2027-01-01', '2027.1'),   # the second's first day: the boundary
    ('2031-06-30', '2027.1'),   # long after: the latest stays in force
])
def test_eval_uses_the_version_in_force(as_of, version):
    r = case('eval-%s' % as_of, 'eval', VERSIONS, '--input', PORTFOLIO, '--as-of', as_of, '--format', 'csv', exit=0)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {row['@version'] for row in rows} == {version}
    assert {row['@as_of'] for row in rows} == {as_of}
    assert r.stderr.startswith('rules in force on %s: 存款分层 version %s' % (as_of, version))


def test_the_boundary_moves_the_customers_between_the_thresholds():
    """D03 (79.99万) and D04 (50万) are 金卡 the day before 2027.1 and 普通 on its first day."""
    def tiers(as_of):
        out = decide('eval', VERSIONS, '--input', PORTFOLIO, '--as-of', as_of, '--format', 'csv')
        return {row['id']: row['层级'] for row in csv.DictReader(io.StringIO(out))}
    before, after = tiers('2026-12-31'), tiers('2027-01-01')
    assert {k for k in before if before[k] != after[k]} == {'D03', 'D04'}
    assert (before['D03'], after['D03']) == ('金卡', '普通')


def test_before_the_first_version():
    case('eval-before-first', 'eval', VERSIONS, '--input', PORTFOLIO, '--as-of', '2025-12-31', exit=2)


def test_a_versions_folder_needs_as_of():
    case('eval-no-as-of', 'eval', VERSIONS, '--input', PORTFOLIO, exit=2)


def test_a_file_before_it_takes_effect():
    case('eval-file-not-in-force', 'eval', VERSIONS + '/deposit_tiers_2027.strat', '--input', PORTFOLIO,
         '--as-of', '2026-12-31', exit=2)
    # On its first day it is in force.
    decide('eval', VERSIONS + '/deposit_tiers_2027.strat', '--input', PORTFOLIO, '--as-of', '2027-01-01')


@pytest.fixture
def two_rule_sets(tmp_path):
    """A folder with both versions of 存款分层 and one of 理财分层."""
    folder = tmp_path / 'rules'
    shutil.copytree(ROOT / VERSIONS, folder)
    shutil.copy(GOLDEN / 'wealth.strat', folder)
    return folder


def test_several_rule_sets_need_ruleset(two_rule_sets, tmp_path):
    case('eval-several-rule-sets', 'eval', two_rule_sets, '--input', PORTFOLIO, '--as-of', '2026-07-01',
         tmp=tmp_path, exit=2)


def test_ruleset_chooses_among_several(two_rule_sets, tmp_path):
    case('eval-ruleset-wealth', 'eval', two_rule_sets, '--input', PORTFOLIO, '--as-of', '2026-07-01',
         '--ruleset', '理财分层', '--format', 'csv', tmp=tmp_path, exit=0)
    case('eval-ruleset-deposits', 'eval', two_rule_sets, '--input', PORTFOLIO, '--as-of', '2027-07-01',
         '--ruleset', '存款分层', '--format', 'csv', tmp=tmp_path, exit=0)


def test_an_unknown_ruleset(two_rule_sets, tmp_path):
    case('eval-unknown-ruleset', 'eval', two_rule_sets, '--input', PORTFOLIO, '--as-of', '2026-07-01',
         '--ruleset', '无此分层', tmp=tmp_path, exit=2)


def test_two_versions_on_one_day(tmp_path):
    folder = tmp_path / 'rules'
    shutil.copytree(ROOT / VERSIONS, folder)
    shutil.copy(folder / 'deposit_tiers_2027.strat', folder / 'deposit_tiers_2027_copy.strat')
    case('eval-same-effective-date', 'eval', folder, '--input', PORTFOLIO, '--as-of', '2027-07-01',
         tmp=tmp_path, exit=2)


@pytest.mark.parametrize('as_of', ['2026-12-31', '2027-01-01'])
def test_explain_names_the_version_in_force(as_of):
    case('explain-%s' % as_of, 'explain', VERSIONS, '--record', RECORD, '--as-of', as_of, exit=0)


def test_explain_errors_and_ruleset(two_rule_sets, tmp_path):
    case('explain-no-as-of', 'explain', VERSIONS, '--record', RECORD, exit=2)
    case('explain-several-rule-sets', 'explain', two_rule_sets, '--record', RECORD, '--as-of', '2026-07-01',
         tmp=tmp_path, exit=2)
    case('explain-ruleset', 'explain', two_rule_sets, '--record', RECORD, '--as-of', '2026-07-01',
         '--ruleset', '存款分层', tmp=tmp_path, exit=0)


# ------------------------------------------------------------ provenance


@pytest.mark.parametrize('fmt', ['csv', 'jsonl'])
def test_provenance_without_as_of(fmt):
    """A single file without --as-of: @as_of is null (JSON) or empty (CSV)."""
    r = case('provenance-no-as-of-%s' % fmt, 'eval', VERSIONS + '/deposit_tiers_2026.strat', '--input', PORTFOLIO,
             '--format', fmt, exit=0)
    if fmt == 'jsonl':
        records = [json.loads(line) for line in r.stdout.splitlines()]
        assert all(list(rec)[-4:] == ['@ruleset', '@version', '@hash', '@as_of'] for rec in records)
        assert {rec['@as_of'] for rec in records} == {None}
        assert {rec['@hash'] for rec in records} == {rule_hash(VERSIONS, ['deposit_tiers_2026.strat'])}


@pytest.mark.parametrize('fmt', ['csv', 'jsonl'])
def test_provenance_with_as_of(fmt):
    case('provenance-%s' % fmt, 'eval', VERSIONS, '--input', PORTFOLIO, '--as-of', '2027-03-31', '--format', fmt,
         exit=0)


# ------------------------------------------------------------ --keep-input


@pytest.mark.parametrize('fmt', ['csv', 'jsonl'])
def test_keep_input_reads_back_to_the_same_decisions(fmt, tmp_path):
    """The kept fields (日均存款 in 万 written in 元, 理财占比 in % written with %,
    产品 a set) read back as the values that were decided."""
    kept = tmp_path / ('kept.' + fmt)
    r = case('keep-input-%s' % fmt, 'eval', VERSIONS, '--input', PORTFOLIO, '--as-of', '2026-06-30', '--format', fmt,
             '--keep-input', exit=0)
    kept.write_text(r.stdout, encoding='utf-8')
    # Decided again from the kept file: the same decisions as from the portfolio …
    plain = decide('eval', VERSIONS, '--input', PORTFOLIO, '--as-of', '2026-06-30', '--format', fmt)
    assert decide('eval', VERSIONS, '--input', kept, '--as-of', '2026-06-30', '--format', fmt) == plain
    # … and kept again, the same bytes.
    assert decide('eval', VERSIONS, '--input', kept, '--as-of', '2026-06-30', '--format', fmt, '--keep-input') == r.stdout
    # The set is read back as a set: without the 理财占比 that alone makes D02
    # and D03 理财客户, their 产品 containing 理财 still does.
    rows = [json.loads(line) for line in r.stdout.splitlines()] if fmt == 'jsonl' else \
        list(csv.DictReader(io.StringIO(r.stdout)))
    zeroed = tmp_path / 'zeroed.csv'
    with open(zeroed, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['id', '日均存款', '理财占比', '产品'])
        for row in rows:
            products = row['产品']  # JSON Lines: an array; CSV: members joined by ';'
            w.writerow([row['id'], row['日均存款'], '0%', ';'.join(products) if isinstance(products, list) else products])
    out = decide('eval', VERSIONS, '--input', zeroed, '--as-of', '2026-06-30', '--format', 'csv')
    assert {row['id'] for row in csv.DictReader(io.StringIO(out)) if row['理财客户'] == 'true'} == {'D02', 'D03'}


def test_keep_input_keeps_a_set_member_with_a_semicolon(tmp_path):
    source = tmp_path / 'semicolon.jsonl'
    source.write_text('{"id":"X1","日均存款":1,"理财占比":0,"产品":["理财;存款"]}\n', encoding='utf-8')
    kept = tmp_path / 'kept.jsonl'
    decide('eval', VERSIONS, '--input', source, '--as-of', '2026-06-30', '--keep-input', '--output', kept)
    r = run('replay', kept, '--rules', VERSIONS)
    assert r.returncode == 0, r.stdout


# ------------------------------------------------------------ replay


@pytest.mark.parametrize('fmt', ['csv', 'jsonl'])
def test_replay_the_corporate_portfolio(fmt, tmp_path):
    decided = tmp_path / ('decided.' + fmt)
    decide('eval', 'rules/corporate_segments.strat', '--input', 'examples/corporate_portfolio.csv', '--keep-input',
           '--as-of', '2027-01-31', '--format', fmt, '--output', decided)
    case('replay-corporate-%s' % fmt, 'replay', decided, '--rules', 'rules', tmp=tmp_path,
         hashes=[(hash_in(decided), 'rules/corporate_segments.strat')], exit=0)


def test_replay_the_eastern_branch_with_its_capacity_limit(tmp_path):
    decided = tmp_path / 'east.csv'
    decide('eval', 'rules/corporate_segments_east.strat', '--input', 'examples/corporate_portfolio.csv',
           '--keep-input', '--as-of', '2027-01-31', '--format', 'csv', '--output', decided)
    rows = list(csv.DictReader(open(decided, encoding='utf-8')))
    assert sum(1 for row in rows if row['capacity']) > 0   # customers were moved beyond the limit
    case('replay-east', 'replay', decided, '--rules', 'rules', tmp=tmp_path,
         hashes=[(hash_in(decided), 'rules/corporate_segments_east.strat')], exit=0)


@pytest.fixture
def sme_decided(tmp_path):
    decided = tmp_path / 'sme.csv'
    decide('eval', 'rules/sme_size.strat', '--input', 'examples/portfolio.csv', '--keep-input', '--format', 'csv',
           '--output', decided)
    return decided


def test_replay_with_rules_edited_without_a_new_version(sme_decided, tmp_path):
    """零售业's 中型 revenue threshold raised from 500万 to 5000万, the version
    left at 2011: the hash is not found, the file declaring 2011 is named,
    and the records it decides otherwise are listed — exactly those that a
    second eval with the edited file decides otherwise."""
    edited = tmp_path / 'rules'
    shutil.copytree(ROOT / 'rules', edited)
    sme = edited / 'sme_size.strat'
    text = sme.read_text(encoding='utf-8')
    row = '  零售业               | >= 50     | >= 500万    | -            || 中型'
    assert text.count(row) == 1
    sme.write_text(text.replace(row, row.replace('>= 500万 ', '>= 5000万')), encoding='utf-8')

    again = tmp_path / 'again.csv'
    decide('eval', sme, '--input', 'examples/portfolio.csv', '--format', 'csv', '--keep-input', '--output', again)
    then = {r['id']: r['规模'] for r in csv.DictReader(open(sme_decided, encoding='utf-8'))}
    now = {r['id']: r['规模'] for r in csv.DictReader(open(again, encoding='utf-8'))}
    changed = sorted(k for k in then if then[k] != now[k])
    assert changed == ['C0005', 'C0021']

    r = case('replay-edited', 'replay', sme_decided, '--rules', edited, tmp=tmp_path,
             hashes=[(hash_in(sme_decided), 'rules/sme_size.strat'), (hash_in(again), 'the edited sme_size.strat')],
             exit=2)
    listed = [line.split('key ')[1].rstrip(':') for line in r.stdout.splitlines() if line.startswith('record ')]
    assert listed == changed


def test_replay_a_record_changed_by_hand(sme_decided, tmp_path):
    lines = sme_decided.read_text(encoding='utf-8').splitlines(keepends=True)
    assert lines[7].startswith('C0007,微型,')
    lines[7] = lines[7].replace('C0007,微型,', 'C0007,小型,')
    sme_decided.write_text(''.join(lines), encoding='utf-8')
    case('replay-changed-by-hand', 'replay', sme_decided, '--rules', 'rules', tmp=tmp_path,
         hashes=[(hash_in(sme_decided), 'rules/sme_size.strat')], exit=1)


def test_replay_needs_the_input_fields(tmp_path):
    decided = tmp_path / 'no-input.csv'
    decide('eval', 'rules/sme_size.strat', '--input', 'examples/portfolio.csv', '--format', 'csv', '--output', decided)
    case('replay-without-keep-input', 'replay', decided, '--rules', 'rules', tmp=tmp_path, exit=2)


def test_replay_needs_provenance():
    case('replay-without-provenance', 'replay', 'examples/portfolio.csv', '--rules', 'rules', exit=2)


def test_replay_usage():
    case('replay-no-rules', 'replay', 'examples/portfolio.csv', exit=2)
    case('replay-unknown-format', 'replay', 'README.md', '--rules', 'rules', exit=2)


@pytest.fixture
def three_runs(tmp_path):
    """One JSON Lines file holding three runs: 2026.1 on two dates, 2027.1 on one."""
    runs = tmp_path / 'runs.jsonl'
    text = ''
    for as_of in ['2026-06-30', '2026-12-31', '2027-02-01']:
        text += decide('eval', VERSIONS, '--input', PORTFOLIO, '--as-of', as_of, '--keep-input')
    runs.write_text(text, encoding='utf-8')
    return runs


def test_replay_each_run_of_a_file(three_runs, tmp_path):
    case('replay-three-runs', 'replay', three_runs, '--rules', VERSIONS, tmp=tmp_path, exit=0)


def test_replay_a_run_whose_rules_are_gone(three_runs, tmp_path):
    """Only 2026.1 is kept: its two runs are replayed (one record changed by
    hand is listed), the 2027.1 run cannot be (exit 2)."""
    kept = tmp_path / 'kept'
    kept.mkdir()
    shutil.copy(ROOT / VERSIONS / 'deposit_tiers_2026.strat', kept)
    lines = three_runs.read_text(encoding='utf-8').splitlines(keepends=True)
    assert '"id":"D02","层级":"金卡"' in lines[7] and '"@as_of":"2026-12-31"' in lines[7]
    lines[7] = lines[7].replace('"层级":"金卡"', '"层级":"钻石"')
    three_runs.write_text(''.join(lines), encoding='utf-8')
    case('replay-rules-gone', 'replay', three_runs, '--rules', kept, tmp=tmp_path, exit=2)


# ------------------------------------------------------------ what an audit must not let pass


def test_a_version_that_does_not_parse_stops_the_choice(tmp_path):
    """A broken 2027.1 must not let 2026.1 decide in its place."""
    folder = tmp_path / 'versions'
    shutil.copytree(ROOT / VERSIONS, folder)
    with open(folder / 'deposit_tiers_2027.strat', 'a', encoding='utf-8') as f:
        f.write('garbage {{{\n')
    case('version-does-not-parse', 'eval', folder, '--input', PORTFOLIO, '--as-of', '2027-06-01', tmp=tmp_path, exit=2)


def altered(decided, path, edit):
    lines = decided.read_text(encoding='utf-8').splitlines()
    path.write_text('\n'.join(edit(i, line) for i, line in enumerate(lines)) + '\n', encoding='utf-8')


def test_replay_finds_a_field_given_twice_and_a_date_before_the_version(tmp_path):
    decided = tmp_path / 'decided.jsonl'
    decide('eval', VERSIONS, '--input', PORTFOLIO, '--as-of', '2027-06-01', '--keep-input', '--output', decided)
    twice = tmp_path / 'twice.jsonl'
    altered(decided, twice, lambda i, line: line.replace('"层级":"钻石",', '"层级":"普通","层级":"钻石",') if i == 0 else line)
    case('replay-field-twice', 'replay', twice, '--rules', VERSIONS, tmp=tmp_path, exit=1)
    early = tmp_path / 'early.jsonl'
    altered(decided, early, lambda i, line: line.replace('"@as_of":"2027-06-01"', '"@as_of":"2026-06-01"') if i == 1 else line)
    case('replay-before-effective', 'replay', early, '--rules', VERSIONS, tmp=tmp_path, exit=1)
    extra = tmp_path / 'extra.jsonl'
    altered(decided, extra, lambda i, line: line.replace('{"id":"D03",', '{"id":"D03","VIP":"yes",'))
    case('replay-extra-field', 'replay', extra, '--rules', VERSIONS, tmp=tmp_path, exit=1)


def test_errors_may_not_replace_the_previous_period(tmp_path):
    previous = tmp_path / 'previous.csv'
    previous.write_text(decide('eval', 'tests/golden/time/stability/tiers.strat', '--input',
                               'tests/golden/time/stability/chain-1-input.csv', '--format', 'csv'), encoding='utf-8')
    before = previous.read_bytes()
    case('errors-is-previous', 'eval', 'tests/golden/time/stability/tiers.strat', '--input',
         'tests/golden/time/stability/chain-2-input.csv', '--previous', previous, '--errors', previous, tmp=tmp_path, exit=2)
    assert previous.read_bytes() == before
