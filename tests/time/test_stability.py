"""Tier stability over time: twelve monthly runs of a portfolio through
`stratum eval --previous <last month's output>`, checked against an
independent re-implementation of the stability rule, and the goldens of
stratum check and eval for stability rules and --previous.

The simulation (test_twelve_months_*) runs tests/golden/time/stability/
tiers.strat — seed 004's 高净值/中高端/大众 layers, re-graded every month,
moving up at once, down after 3 months below the line and out of
高净值客户 after 6 — and the same file without its stability block, on
about 500 generated customers (fixed seed): some steady near a line, some
declining, some rising, some joining in a later month, some leaving, some
leaving and coming back. Outputs alternate between CSV and JSON Lines, so
each reads the other's as --previous.

The goldens compare a run's whole standard output, standard error and exit
status with tests/golden/time/stability/NAME.expected; this run's temporary
folder is $TMP and the rules' hash <hash>. Rewrite them with
STRATUM_UPDATE_GOLDEN=1 and review the diff.
"""
import csv
import decimal
import io
import json
import os
import pathlib
import random
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
STRATUM = os.environ.get('STRATUM_BIN', str(ROOT / 'build' / 'stratum'))
FOLDER = 'tests/golden/time/stability'
GOLDEN = ROOT / FOLDER
TIERS = FOLDER + '/tiers.strat'
UPDATE = os.environ.get('STRATUM_UPDATE_GOLDEN') == '1'

NAME = '客户层次'
ORDER = ['大众客户', '中高端客户', '高净值客户']      # the lowest first, as in the rule
RANK = {v: i for i, v in enumerate(ORDER)}
DOWN = {'大众客户': 3, '中高端客户': 3, '高净值客户': 6}  # down after 3; down from 高净值客户 after 6
UP = {v: 1 for v in ORDER}                              # up after 1
MONTHS = 12


def run(*args):
    return subprocess.run([STRATUM, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=ROOT)


def decide(*args):
    """A run that must succeed; its standard error."""
    r = run(*args)
    assert r.returncode == 0, 'stratum %s: exit %d\n%s' % (' '.join(map(str, args)), r.returncode, r.stderr)
    return r.stderr


def read_decided(path):
    """id → the record, from eval's CSV or JSON Lines output; periods as int."""
    text = pathlib.Path(path).read_text(encoding='utf-8')
    if str(path).endswith('.csv'):
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    out = {}
    for row in rows:
        if NAME + '@periods' in row:
            row[NAME + '@periods'] = int(row[NAME + '@periods'])
        out[row['id']] = row
    return out


# ------------------------------------------------------------ the portfolio


def portfolio():
    """month (1..12) → {id: balance in yuan}, a fixed pseudo-random portfolio.
    Also returns the ids by kind, for the assertions that need them."""
    rng = random.Random(20270131)
    months = {m: {} for m in range(1, MONTHS + 1)}
    kinds = {}

    def put(cid, kind, balances):
        kinds.setdefault(kind, []).append(cid)
        for m, b in balances.items():
            months[m][cid] = max(decimal.Decimal(0), decimal.Decimal('%.2f' % b))

    def path(start, trend, noise, first=1, last=MONTHS):
        level, out = start, {}
        for m in range(first, last + 1):
            out[m] = level * (1 + rng.gauss(0, noise))
            level *= 1 + trend
        return out

    n = 0

    def cid():
        nonlocal n
        n += 1
        return 'C%04d' % n

    for _ in range(110):   # steady near 50万: the noise crosses the line
        put(cid(), 'steady-50万', path(500000 * rng.uniform(0.9, 1.1), 0, 0.07))
    for _ in range(80):    # steady near 600万
        put(cid(), 'steady-600万', path(6000000 * rng.uniform(0.92, 1.08), 0, 0.05))
    for _ in range(80):    # declining from 高净值 or 中高端
        put(cid(), 'declining', path(rng.uniform(700000, 9000000), -rng.uniform(0.04, 0.12), 0.04))
    for _ in range(80):    # rising
        put(cid(), 'rising', path(rng.uniform(100000, 800000), rng.uniform(0.06, 0.25), 0.04))
    for _ in range(40):    # steady, far from a line
        put(cid(), 'low', path(rng.uniform(10000, 300000), 0, 0.1))
    for _ in range(50):    # joining in a later month
        put(cid(), 'joiner', path(rng.uniform(50000, 9000000), rng.uniform(-0.05, 0.05), 0.05,
                                  first=rng.randint(2, MONTHS)))
    for _ in range(30):    # leaving for good
        put(cid(), 'leaver', path(rng.uniform(50000, 9000000), 0, 0.05, last=rng.randint(2, MONTHS - 1)))
    for _ in range(30):    # 高净值 until month a, away for 1-3 months, back far lower
        a = rng.randint(2, 8)
        back = a + rng.randint(2, 4)
        balances = path(rng.uniform(7000000, 9000000), 0, 0.02, last=a)
        balances.update(path(rng.uniform(60000, 2000000), 0, 0.02, first=back))
        put(cid(), 'returner', balances)
    return months, kinds


def write_input(path, balances):
    if str(path).endswith('.csv'):
        text = 'id,资产规模\n' + ''.join('%s,%s\n' % (k, v) for k, v in sorted(balances.items()))
    else:
        text = ''.join(json.dumps({'id': k, '资产规模': str(v)}) + '\n' for k, v in sorted(balances.items()))
    pathlib.Path(path).write_text(text, encoding='utf-8')


def output_format(month):
    """CSV in months 1, 2, 5, 6, 9, 10; JSON Lines in the others: each reads the other as --previous."""
    return 'csv' if (month - 1) % 4 < 2 else 'jsonl'


def without_stability(text):
    """The rule file with its stability block (and the comment above it) removed."""
    stripped, n = re.subn(r'\n(#[^\n]*\n)*stability %s \{.*?\n\}\n' % NAME, '\n', text, flags=re.S)
    assert n == 1
    return stripped


@pytest.fixture(scope='module')
def twelve_months(tmp_path_factory):
    """Both chains run: {'with': [month → decided], 'without': [...]}, plus the inputs."""
    tmp = tmp_path_factory.mktemp('months')
    months, kinds = portfolio()
    plain = tmp / 'tiers-without-stability.strat'
    plain.write_text(without_stability((ROOT / TIERS).read_text(encoding='utf-8')), encoding='utf-8')
    assert 'stability' not in decide('check', plain)
    chains = {'with': {}, 'without': {}}
    previous = None
    for m in range(1, MONTHS + 1):
        # The input is JSON Lines in month 7, CSV otherwise.
        source = tmp / ('input-%02d.%s' % (m, 'jsonl' if m == 7 else 'csv'))
        write_input(source, months[m])
        fmt = output_format(m)
        out = tmp / ('decided-%02d.%s' % (m, fmt))
        args = ['eval', TIERS, '--input', source, '--format', fmt, '--output', out]
        if previous is not None:
            args += ['--previous', previous]
        err = decide(*args)
        assert err.endswith('read %d, decided %d, rejected 0\n' % (len(months[m]), len(months[m]))), err
        chains['with'][m] = read_decided(out)
        previous = out
        out = tmp / ('plain-%02d.%s' % (m, fmt))
        decide('eval', plain, '--input', source, '--format', fmt, '--output', out)
        chains['without'][m] = read_decided(out)
    return months, kinds, chains


def changes(chain):
    """How many times a customer present in two months in a row changed tier."""
    return sum(1 for m in range(2, MONTHS + 1) for k, row in chain[m].items()
               if k in chain[m - 1] and chain[m - 1][k][NAME] != row[NAME])


def candidate(balance):
    """The rules' own value, re-implemented: 600万 and 50万, inclusive."""
    if balance >= 6000000:
        return '高净值客户'
    if balance >= 500000:
        return '中高端客户'
    return '大众客户'


def hold(c, previous):
    """The stability rule, re-implemented from its definition: (decided, candidate, periods).
    previous: last month's (decided, candidate, periods), or None for a new customer."""
    if previous is None or c == previous[0]:
        return c, c, 0
    p, prev_candidate, prev_periods = previous
    down = RANK[c] < RANK[p]
    n = (DOWN if down else UP)[p]
    same_side = prev_periods > 0 and prev_candidate != p and (RANK[prev_candidate] < RANK[p]) == down
    run_ = prev_periods + 1 if same_side else 1
    return (p, c, run_) if run_ < n else (c, c, 0)


# ------------------------------------------------------------ the simulation


def test_twelve_months_fewer_changes_with_stability(twelve_months):
    """(a) Stability lowers the number of tier changes over the year."""
    _, _, chains = twelve_months
    held, plain = changes(chains['with']), changes(chains['without'])
    print('tier changes over %d months: %d with stability, %d without' % (MONTHS, held, plain))
    assert 0 < held < plain


def test_twelve_months_matches_an_independent_implementation(twelve_months):
    """(d) Every decided value, candidate and periods of every month, from the balances alone."""
    months, _, chains = twelve_months
    state = {}
    counts = {'held': 0, 'moved down': 0, 'moved up': 0, 'new': 0}
    for m in range(1, MONTHS + 1):
        decided = chains['with'][m]
        assert set(decided) == set(months[m])
        now = {}
        for k, balance in months[m].items():
            c = candidate(balance)
            expected = hold(c, state.get(k))
            row = decided[k]
            assert (row[NAME], row[NAME + '@candidate'], row[NAME + '@periods']) == expected, \
                'month %d, %s (资产规模 %s, last month %s)' % (m, k, balance, state.get(k))
            # Without stability the value is the candidate.
            assert chains['without'][m][k][NAME] == c
            now[k] = expected
            if k not in state:
                counts['new'] += 1
            elif expected[0] != c:
                counts['held'] += 1
            elif expected[0] != state[k][0]:
                counts['moved down' if RANK[c] < RANK[state[k][0]] else 'moved up'] += 1
        state = now   # a customer absent this month is new when he returns
    print('customer-months: %s' % counts)
    assert all(counts.values())


def test_twelve_months_never_held_for_n_periods(twelve_months):
    """(b) From the outputs alone: no customer is held above his candidate for
    N months in a row, N being the rule's down-periods of the value he is held at."""
    _, _, chains = twelve_months
    longest = {v: 0 for v in ORDER}
    for k in {k for m in chains['with'] for k in chains['with'][m]}:
        run_, at = 0, None
        for m in range(1, MONTHS + 1):
            row = chains['with'][m].get(k)
            if row is not None and RANK[row[NAME + '@candidate']] < RANK[row[NAME]]:
                run_ = run_ + 1 if at == row[NAME] else 1
                at = row[NAME]
                longest[at] = max(longest[at], run_)
                assert run_ < DOWN[at], '%s held at %s for %d months' % (k, at, run_)
            else:
                run_, at = 0, None
    print('longest holds: %s' % longest)
    # The portfolio reaches the limits: held N-1 months at both levels.
    assert longest['高净值客户'] == DOWN['高净值客户'] - 1
    assert longest['中高端客户'] == DOWN['中高端客户'] - 1


def test_twelve_months_up_moves_are_immediate(twelve_months):
    """(c) A candidate above last month's decided value is decided at once."""
    _, _, chains = twelve_months
    ups = 0
    for m in range(2, MONTHS + 1):
        for k, row in chains['with'][m].items():
            last = chains['with'][m - 1].get(k)
            if last is not None and RANK[row[NAME + '@candidate']] > RANK[last[NAME]]:
                ups += 1
                assert row[NAME] == row[NAME + '@candidate'] and row[NAME + '@periods'] == 0, (m, k, row)
    print('up moves: %d' % ups)
    assert ups > 0


def test_twelve_months_new_and_returning_customers(twelve_months):
    """(e) A customer new in month k, or back after months away, gets his candidate."""
    months, kinds, chains = twelve_months
    firsts = returns = 0
    for m in range(2, MONTHS + 1):
        for k in months[m]:
            if k in months[m - 1]:
                continue
            row = chains['with'][m][k]
            assert (row[NAME], row[NAME + '@periods']) == (row[NAME + '@candidate'], 0), (m, k, row)
            if any(k in months[j] for j in range(1, m)):
                returns += 1
                # He left as 高净值客户 and is back far lower: a customer held would have stayed.
                assert row[NAME] != '高净值客户'
            else:
                firsts += 1
    print('new customers after month 1: %d; customers back after months away: %d' % (firsts, returns))
    assert firsts > 0 and returns == len(kinds['returner'])


# ------------------------------------------------------------ goldens


def check(name, r, args, tmp=None):
    text = '$ stratum %s\nexit %d\n--- stdout\n%s--- stderr\n%s' % (' '.join(map(str, args)), r.returncode, r.stdout, r.stderr)
    if tmp is not None:
        text = text.replace(str(tmp), '$TMP')
    text = re.sub(r'\b[0-9a-f]{64}\b', '<hash>', text)
    path = GOLDEN / (name + '.expected')
    if UPDATE:
        path.write_text(text, encoding='utf-8')
    assert path.exists(), 'no golden %s: run with STRATUM_UPDATE_GOLDEN=1 and review it' % path
    assert text == path.read_text(encoding='utf-8')


def case(name, *args, tmp=None, exit=None):
    r = run(*args)
    check(name, r, args, tmp)
    if exit is not None:
        assert r.returncode == exit, r.stderr
    return r


def test_check_notes_that_stability_needs_previous():
    case('check-tiers', 'check', TIERS, exit=0)


ERRORS = sorted(p.stem for p in GOLDEN.glob('error-stability-*.strat'))


@pytest.mark.parametrize('stem', ERRORS)
def test_check_refuses(stem):
    case('check-' + stem, 'check', '%s/%s.strat' % (FOLDER, stem), exit=1)


def test_check_warns_when_every_move_takes_one_period():
    case('check-warning-stability-one-period', 'check', FOLDER + '/warning-stability-one-period.strat', exit=0)


def test_check_segment_stability():
    case('check-segment', 'check', FOLDER + '/segment.strat', exit=0)


def test_three_months(tmp_path):
    """Hand-picked customers, months 1-3 after a hand-written month 0 (chain-0.csv):
    H 高净值 held (6 periods to leave), M held at 中高端 and moved down on the 3rd
    month below, U up at once, N new in month 2, G gone in month 2, R away in
    month 2 and back, new, in month 3."""
    previous = FOLDER + '/chain-0.csv'
    for m in (1, 2, 3):
        r = case('chain-%d' % m, 'eval', TIERS, '--input', '%s/chain-%d-input.csv' % (FOLDER, m),
                 '--previous', previous, '--format', 'csv', tmp=tmp_path, exit=0)
        previous = tmp_path / ('chain-%d.csv' % m)
        previous.write_text(r.stdout, encoding='utf-8')
    rows = {row['id']: row for row in csv.DictReader(io.StringIO(previous.read_text(encoding='utf-8')))}
    assert (rows['M'][NAME], rows['H'][NAME], rows['R'][NAME + '@periods']) == ('大众客户', '高净值客户', '0')


def test_explain_held_moved_and_new(tmp_path):
    previous = tmp_path / 'chain-1.csv'
    previous.write_text(run('eval', TIERS, '--input', FOLDER + '/chain-1-input.csv', '--previous',
                            FOLDER + '/chain-0.csv', '--format', 'csv').stdout, encoding='utf-8')
    case('explain-held', 'eval', TIERS, '--input', FOLDER + '/chain-2-input.csv', '--previous', previous,
         '--explain', tmp=tmp_path, exit=0)


def test_explain_without_previous():
    case('explain-no-previous', 'eval', TIERS, '--input', FOLDER + '/chain-1-input.csv', '--explain', exit=0)


def test_previous_without_the_value_column():
    case('previous-no-value-column', 'eval', TIERS, '--input', FOLDER + '/chain-1-input.csv',
         '--previous', FOLDER + '/previous-no-value-column.csv', '--format', 'csv', exit=1)


def test_previous_value_no_longer_in_the_enum():
    case('previous-unknown-value', 'eval', TIERS, '--input', FOLDER + '/chain-1-input.csv',
         '--previous', FOLDER + '/previous-unknown-value.jsonl', '--format', 'csv', exit=0)


def test_previous_on_rules_without_stability(tmp_path):
    rules = 'tests/golden/time/versions/deposit_tiers_2027.strat'
    previous = tmp_path / 'last-month.csv'
    decide('eval', rules, '--input', 'tests/golden/time/portfolio.csv', '--format', 'csv', '--output', previous)
    case('previous-no-stability', 'eval', rules, '--input', 'tests/golden/time/portfolio.csv',
         '--previous', previous, '--format', 'csv', tmp=tmp_path, exit=0)


@pytest.mark.parametrize('name, options, exit', [
    ('previous-format-unknown', ['--previous', FOLDER + '/chain-0.csv', '--previous-format', 'xml'], 2),
    ('previous-format-alone', ['--previous-format', 'csv'], 2),
    ('previous-format-untold', ['--previous', FOLDER + '/chain-0.txt'], 2),
    ('previous-format-told', ['--previous', FOLDER + '/chain-0.txt', '--previous-format', 'csv'], 0),
    ('previous-format-wrong-csv', ['--previous', FOLDER + '/previous-unknown-value.jsonl', '--previous-format', 'csv'], 1),
    ('previous-format-wrong-jsonl', ['--previous', FOLDER + '/chain-0.csv', '--previous-format', 'jsonl'], 1),
    ('previous-not-found', ['--previous', FOLDER + '/no-such-file.csv'], 2),
])
def test_previous_format(name, options, exit):
    case(name, 'eval', TIERS, '--input', FOLDER + '/chain-1-input.csv', '--format', 'csv', *options, exit=exit)


def test_a_branch_replaces_the_parents_stability(tmp_path):
    """branch.strat leaves 高净值客户 after 2 months: H, held by the parent, moves in the branch."""
    previous = FOLDER + '/chain-0.csv'
    case('branch-eval', 'eval', FOLDER + '/branch.strat', '--input', FOLDER + '/chain-1-input.csv',
         '--previous', previous, '--format', 'csv', exit=0)


def test_check_of_the_branch_says_its_stability_differs():
    """The branch's own stability rule: `check` says the held value and its periods
    can differ from the parent's, and that the candidate cannot (the rules are the parent's)."""
    case('branch-check', 'check', FOLDER + '/branch.strat', exit=0)


@pytest.mark.parametrize('fmt', ['csv', 'jsonl'])
def test_replay_of_months_decided_with_previous(fmt, tmp_path):
    """A month decided with --previous and --keep-input keeps what it read of the
    previous month (NAME@previous, …): replay decides it again alike, held
    customers included; a kept previous value edited by hand shows as a difference."""
    rules = tmp_path / 'rules'
    rules.mkdir()
    (rules / 'tiers.strat').write_bytes((ROOT / TIERS).read_bytes())
    previous = FOLDER + '/chain-0.csv'
    for m in (1, 2, 3):
        out = tmp_path / ('month-%d.%s' % (m, fmt))
        decide('eval', rules / 'tiers.strat', '--input', '%s/chain-%d-input.csv' % (FOLDER, m), '--previous', previous,
               '--keep-input', '--as-of', '2027-0%d-28' % m, '--format', fmt, '--output', out)
        case('replay-month-%d-%s' % (m, fmt), 'replay', out, '--rules', rules, tmp=tmp_path, exit=0)
        previous = out
    # H is held at 高净值客户 in month 3 by what it kept of month 2: change that, and it is moved instead.
    text = previous.read_text(encoding='utf-8')
    if fmt == 'csv':
        lines = text.splitlines()
        header = lines[0].split(',')
        at = header.index(NAME + '@previous_periods')
        lines = [','.join(f if i != at or not line.startswith('H,') else '5' for i, f in enumerate(line.split(',')))
                 for line in lines]
        previous.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    else:
        rows = [json.loads(line) for line in text.splitlines()]
        for row in rows:
            if row['id'] == 'H':
                row[NAME + '@previous_periods'] = 5
        previous.write_text(''.join(json.dumps(r, ensure_ascii=False, separators=(',', ':')) + '\n' for r in rows),
                            encoding='utf-8')
    case('replay-edited-previous-%s' % fmt, 'replay', previous, '--rules', rules, tmp=tmp_path, exit=1)
