"""`stratum report`: the data behind the charts (goldens), the migration
matrix checked against a count made here, thread invariance, and the page
opened in headless Chromium (charts drawn, numbers shown, nothing fetched).

Goldens are rewritten with STRATUM_UPDATE_GOLDEN=1; review the diff.
"""
import csv
import html.parser
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
STRATUM = os.environ.get('STRATUM_BIN', str(ROOT / 'build' / 'stratum'))
BUILD = pathlib.Path(STRATUM).resolve().parent
GOLDEN = HERE / 'golden'
AS_OF = '2026-06-30'
UPDATE = os.environ.get('STRATUM_UPDATE_GOLDEN') == '1'

sys.path.insert(0, str(HERE))
import gen_government  # noqa: E402


def run(*args, ok=True):
    r = subprocess.run([STRATUM, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    if ok and r.returncode != 0:
        raise AssertionError('stratum %s: exit %d\n%s' % (' '.join(map(str, args)), r.returncode, r.stderr))
    return r


def normalised(data, tmp):
    """The data with this run's temporary paths made stable."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return json.loads(text.replace(str(tmp) + '/', '$TMP/').replace(str(ROOT) + '/', ''))


def golden_text(data):
    """The data as indented JSON, each grid's sampled point on one line."""
    marked = json.loads(json.dumps(data))
    for g in marked['grids']:
        g['sample'] = ['@@' + json.dumps(p) + '@@' for p in g['sample']]
    text = json.dumps(marked, ensure_ascii=False, indent=2)
    return re.sub(r'"@@(.*?)@@"', r'\1', text) + '\n'


def check_golden(name, data):
    path = GOLDEN / name
    text = golden_text(data)
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding='utf-8')
    assert path.exists(), 'no golden %s: run with STRATUM_UPDATE_GOLDEN=1 and review it' % path
    assert text == path.read_text(encoding='utf-8')


def previous_run(tmp):
    """A previous run of the corporate portfolio: this run's decisions with a
    few changed, as a bank's last month would differ — every 7th customer in
    another segment, every 50th gone, three customers it had that are not
    in this portfolio."""
    decided = tmp / 'decided.csv'
    run('eval', 'rules/corporate_segments.strat', '--input', 'examples/corporate_portfolio.csv', '--as-of', AS_OF,
        '--format', 'csv', '--output', decided)
    with open(decided, encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    segments = sorted({r['segment'] for r in rows})
    previous = tmp / 'previous.csv'
    with open(previous, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['id', 'segment'])
        for i, r in enumerate(rows):
            if i % 50 == 49:
                continue
            seg = r['segment']
            if i % 7 == 0:
                seg = segments[(segments.index(seg) + 1) % len(segments)]
            w.writerow([r['id'], seg])
        for k in range(3):
            w.writerow(['GONE%d' % k, segments[k]])
    return previous, rows


@pytest.fixture(scope='module')
def corporate(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('corporate')
    previous, current = previous_run(tmp)
    out = BUILD / 'report-corporate.html'
    r = run('report', 'rules/corporate_segments.strat', '--input', 'examples/corporate_portfolio.csv', '--as-of', AS_OF,
            '--previous', previous, '--output', out, '--data', tmp / 'data.json')
    assert r.stderr == 'read 10000, decided 10000, rejected 0\nreport written to %s\n' % out
    data = json.loads((tmp / 'data.json').read_text(encoding='utf-8'))
    return {'tmp': tmp, 'data': data, 'page': out, 'previous': previous, 'current': current}


@pytest.fixture(scope='module')
def government(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('government')
    portfolio = tmp / 'government.csv'
    gen_government.main(str(portfolio))
    out = BUILD / 'report-government.html'
    r = run('report', 'rules/government_clients.strat', '--input', portfolio, '--output', out, '--data', tmp / 'data.json')
    assert r.stderr == 'read 400, decided 381, rejected 19\nreport written to %s\n' % out
    data = json.loads((tmp / 'data.json').read_text(encoding='utf-8'))
    return {'tmp': tmp, 'data': data, 'page': out}


def test_corporate_report_data_golden(corporate):
    check_golden('corporate.json', normalised(corporate['data'], corporate['tmp']))


def test_government_report_data_golden(government):
    check_golden('government.json', normalised(government['data'], government['tmp']))


def test_the_migration_matrix_counts_every_customer_once(corporate):
    m = corporate['data']['migration']
    with open(corporate['previous'], encoding='utf-8') as f:
        before = {r['id']: r['segment'] for r in csv.DictReader(f)}
    after = {r['id']: r['segment'] for r in corporate['current']}
    expected = {}
    for key, seg in after.items():
        expected[(before.get(key, '(new)'), seg)] = expected.get((before.get(key, '(new)'), seg), 0) + 1
    for key, seg in before.items():
        if key not in after:
            expected[(seg, '(gone)')] = expected.get((seg, '(gone)'), 0) + 1
    got = {}
    for r, row in enumerate(m['counts']):
        for c, n in enumerate(row):
            if n:
                got[(m['from'][r], m['to'][c])] = n
    assert got == expected
    assert sum(map(sum, m['counts'])) == len(after) + sum(1 for k in before if k not in after)
    assert m['previous_records'] == len(before) and m['previous_duplicate_keys'] == 0


def test_the_data_is_the_same_on_any_number_of_threads(corporate, tmp_path):
    for threads in (1, 3):
        run('report', 'rules/corporate_segments.strat', '--input', 'examples/corporate_portfolio.csv', '--as-of', AS_OF,
            '--previous', corporate['previous'], '--output', tmp_path / 'r.html', '--data', tmp_path / 'd.json',
            '--threads', threads)
        assert json.loads((tmp_path / 'd.json').read_text(encoding='utf-8')) == corporate['data']


def test_the_counts_agree_with_eval(corporate):
    segment = [d for d in corporate['data']['decisions'] if d['segment']][0]
    counts = {}
    for r in corporate['current']:
        counts[r['segment']] = counts.get(r['segment'], 0) + 1
    assert {v['value']: v['count'] for v in segment['values'] if v['count']} == counts


def test_usage_and_input_errors(tmp_path):
    def err(*args):
        r = run('report', *args, ok=False)
        return r.returncode, r.stderr
    assert err() == (2, 'stratum report: name one rule file: stratum report RULES --input FILE --output report.html\n'
                        'Run `stratum report --help` for usage.\n')
    assert err('rules/sme_size.strat', '--output', tmp_path / 'r.html') == (
        2, 'stratum report: --input FILE is required (CSV, JSON Lines or YAML)\nRun `stratum report --help` for usage.\n')
    assert err('rules/sme_size.strat', '--input', 'examples/portfolio.csv') == (
        2, 'stratum report: --output FILE is required (the HTML page to write)\nRun `stratum report --help` for usage.\n')
    missing = tmp_path / 'none.csv'
    assert err('rules/sme_size.strat', '--input', missing, '--output', tmp_path / 'r.html') == (
        2, 'stratum report: cannot open %s: No such file or directory\n' % missing)
    assert not (tmp_path / 'r.html').exists()
    bad_previous = tmp_path / 'prev.csv'
    bad_previous.write_text('id,other\nC1,x\n', encoding='utf-8')
    code, text = err('rules/sme_size.strat', '--input', 'examples/portfolio.csv', '--previous', bad_previous, '--output', tmp_path / 'r.html')
    assert (code, text) == (1, 'stratum report: --previous %s: the input has no column `规模` (its columns are: id, other)\n' % bad_previous)
    assert not (tmp_path / 'r.html').exists()


# In the browser --------------------------------------------------------------

class Dom(html.parser.HTMLParser):
    """The rendered page, as Chromium dumped it: attributes of <body>, the
    figures (data-chart, data-rendered, their tables' cells) and the ids' texts."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.html = {}
        self.figures = []
        self.ids = {}
        self._id = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'html':
            self.html = a
        if tag == 'body':
            self.body = a
        if tag == 'figure':
            self.figures.append({'chart': a.get('data-chart'), 'rendered': a.get('data-rendered'), 'canvas': 0, 'cells': []})
        if tag == 'canvas' and self.figures:
            self.figures[-1]['canvas'] += 1
        if tag == 'td' and self.figures:
            self._cell = ''
        if 'id' in a:
            self._id = a['id']
            self.ids[self._id] = ''

    def handle_endtag(self, tag):
        if tag == 'td' and self._cell is not None and self.figures:
            self.figures[-1]['cells'].append(self._cell)
            self._cell = None
        self._id = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._id is not None:
            self.ids[self._id] += data


def chromium():
    for name in ('chromium', 'chromium-browser'):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail('chromium is not installed (make installs it: apt-get install chromium fonts-noto-cjk)')


def render(page, screenshot):
    base = [chromium(), '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
            '--host-resolver-rules=MAP * ~NOTFOUND', '--user-data-dir=%s' % (page.parent / ('.chromium-' + page.stem))]
    dom = subprocess.run(base + ['--dump-dom', page.as_uri()],
                         capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr
    shot = subprocess.run(base + ['--window-size=1400,7600', '--screenshot=%s' % screenshot, page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr
    d = Dom()
    d.feed(dom.stdout)
    return d


def figures_expected(data):
    names = ['decision:' + d['name'] for d in data['decisions']] + ['plan:' + p['name'] for p in data['plan'] if 'distinct' not in p]
    if data['capacity']:
        names.append('capacity')
    names += ['grid:' + g['name'] for g in data['grids']]
    for s in data['scorecards']:
        names += ['scorecard:' + s['name'], 'reasons:' + s['name']]
    if data['migration']:
        names.append('migration')
    names.append('coverage')
    if data['rejections']:
        names.append('rejections')
    return names


def check_page(page, data, screenshot):
    d = render(page, screenshot)
    names = figures_expected(data)
    assert [f['chart'] for f in d.figures] == names
    assert all(f['rendered'] == '1' and f['canvas'] == 1 for f in d.figures)
    assert d.body.get('data-charts') == str(len(names)) and d.body.get('data-chart-instances') == str(len(names))
    assert d.body.get('data-resources') == '0'          # nothing fetched
    assert 'data-csp-violations' not in d.html          # nothing even tried
    h = data['header']
    assert (d.ids['read'], d.ids['decided'], d.ids['rejected']) == (str(h['read']), str(h['decided']), str(h['rejected']))
    assert d.ids['hash'] == h['hash']
    # One known count per chart, in its numbers table.
    by_name = {f['chart']: f['cells'] for f in d.figures}
    fmt = lambda n: '{:,}'.format(n)
    for dec in data['decisions']:
        v = max(dec['values'], key=lambda v: v['count'])
        cells = by_name['decision:' + dec['name']]
        assert cells[cells.index(v['value']) + 1] == fmt(v['count'])
    for p in data['plan']:
        if 'distinct' in p:
            continue
        cells = by_name['plan:' + p['name']]
        assert cells[cells.index(p['values'][0]['value']) + 1] == fmt(p['values'][0]['count'])
    for g in data['grids']:
        cells = by_name['grid:' + g['name']]
        assert cells[5] == fmt(g['cells'][0]['count']) and cells[0] == g['cells'][0]['label']
    for s in data['scorecards']:
        assert by_name['reasons:' + s['name']][2] == fmt(s['reasons'][0]['count'])
        assert by_name['scorecard:' + s['name']][1] == s['cutoffs'][0]['grade']
    if data['migration']:
        m = data['migration']
        assert by_name['migration'][1] == fmt(m['counts'][0][0])
    if data['capacity']:
        c = data['capacity'][0]
        assert by_name['capacity'] == [c['capacity'], fmt(c['places']), fmt(c['used']), fmt(c['beyond']), c['overflow']]
    if data['rejections']:
        assert by_name['rejections'][1] == fmt(data['rejections'][0]['count'])
    return d


def test_the_corporate_page_renders_in_chromium(corporate):
    check_page(corporate['page'], corporate['data'], BUILD / 'report-corporate.png')


def test_the_government_page_renders_in_chromium(government):
    check_page(government['page'], government['data'], BUILD / 'report-government.png')


def test_capacity_places_are_in_the_data_and_on_the_page(tmp_path):
    """The eastern branch's 30 places on the 总行专属团队: the report counts
    what eval's summary counts, and draws them."""
    out = tmp_path / 'east.html'
    r = run('report', 'rules/corporate_segments_east.strat', '--input', 'examples/corporate_portfolio.csv',
            '--output', out, '--data', tmp_path / 'data.json')
    assert r.stderr == 'read 10000, decided 10000, rejected 0\nreport written to %s\n' % out
    data = json.loads((tmp_path / 'data.json').read_text(encoding='utf-8'))
    assert data['capacity'] == [{'capacity': '战略性客户', 'per': None, 'group': None, 'places': 30, 'used': 30,
                                 'beyond': 224, 'overflow': 'the plan of 大型客户'}]
    summary = run('eval', 'rules/corporate_segments_east.strat', '--input', 'examples/corporate_portfolio.csv',
                  '--summary', '--output', tmp_path / 'east.jsonl').stderr
    assert '战略性客户          30          30         224  the plan of 大型客户\n' in summary
    check_page(out, data, tmp_path / 'east.png')
    r = run('report', 'rules/corporate_segments_east.strat', '--input', '-', '--input-format', 'csv',
            '--output', tmp_path / 'stdin.html', ok=False)
    assert r.returncode == 2 and 'capacity limits, which read the input twice' in r.stderr


def test_previous_rules_migrate_the_same_portfolio_from_old_to_new_decisions(tmp_path):
    # The earlier rules graded the 工业 companies of the 中型 row 小型.
    old = tmp_path / 'sme_size_old.strat'
    text = (ROOT / 'rules' / 'sme_size.strat').read_text(encoding='utf-8')
    changed = text.replace('  工业                 | >= 300    | >= 2000万   | -            || 中型',
                           '  工业                 | >= 300    | >= 2000万   | -            || 小型')
    assert changed != text
    old.write_text(changed, encoding='utf-8')
    run('report', 'rules/sme_size.strat', '--input', 'examples/portfolio.csv', '--previous-rules', old,
        '--output', tmp_path / 'r.html', '--data', tmp_path / 'd.json')
    m = json.loads((tmp_path / 'd.json').read_text(encoding='utf-8'))['migration']

    def decided(rules):
        out = tmp_path / 'out.csv'
        r = run('eval', rules, '--input', 'examples/portfolio.csv', '--format', 'csv', '--output', out, '--errors',
                tmp_path / 'errors.jsonl', ok=False)
        assert r.returncode in (0, 1), r.stderr
        with open(out, encoding='utf-8') as f:
            rows = {row['id']: row['规模'] for row in csv.DictReader(f)}
        for line in (tmp_path / 'errors.jsonl').read_text(encoding='utf-8').splitlines():
            rows[json.loads(line)['key']] = '(rejected)'
        return rows
    before, after = decided(old), decided('rules/sme_size.strat')
    expected = {}
    for key, value in after.items():
        expected[(before[key], value)] = expected.get((before[key], value), 0) + 1
    got = {(m['from'][r], m['to'][c]): n for r, row in enumerate(m['counts']) for c, n in enumerate(row) if n}
    assert got == expected
    assert any(a != b for a, b in expected)  # the change moved someone
    assert (m['decision'], m['against']) == ('规模', 'rules')
    assert m['from'][:4] == ['大型', '中型', '小型', '微型'] and m['to'] == ['大型', '中型', '小型', '微型', '(none)', '(rejected)', '(gone)']
    r = run('report', 'rules/sme_size.strat', '--input', 'examples/portfolio.csv', '--previous-rules', old, '--previous',
            tmp_path / 'out.csv', '--output', tmp_path / 'r2.html', ok=False)
    assert (r.returncode, r.stderr) == (2, 'stratum report: --previous and --previous-rules compare with different things: '
                                           'give one\nRun `stratum report --help` for usage.\n')


def test_reason_codes_count_the_scored_customers_only(government):
    s = government['data']['scorecards'][0]
    scored = sum(b['count'] for b in s['histogram'])
    by_factor = {}
    for r in s['reasons']:
        by_factor[r['factor']] = by_factor.get(r['factor'], 0) + r['count']
    assert by_factor == {'计分历史销售额': scored, '预计销售额得分': scored}


def test_text_of_the_data_cannot_break_or_script_the_page(tmp_path):
    portfolio = tmp_path / 'p.csv'
    keys = ['</script><script>document.title="x"</script>', '<!--<script>', '<img src=x onerror="document.title=1">', "'\"&\u2028"]
    with open(portfolio, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['id', 'industry', 'employees', 'revenue', 'total_assets'])
        for i, k in enumerate(keys):
            w.writerow([k, '工业', 10 + i, 'x' if i % 2 else 1000000, 0])  # every other one rejected: its key shown
    page = tmp_path / 'r.html'
    run('report', 'rules/sme_size.strat', '--input', portfolio, '--output', page, '--data', tmp_path / 'd.json')
    data = json.loads((tmp_path / 'd.json').read_text(encoding='utf-8'))
    assert data['rejections'][0]['samples'] == [keys[1], keys[3]]
    d = check_page(page, data, tmp_path / 'r.png')
    assert d.ids['read'] == '4'
    text = page.read_text(encoding='utf-8')
    assert '<!--' not in text.split('id="stratum-data">')[1].split('</script>')[0]
