#!/usr/bin/env python3
"""stratum fmt on every .strat file of the tree, and the shipped rules after it.

1. Every .strat file under rules/, tests/, examples/ and editors/: formatted
   once, and formatting the result again changes nothing; a file fmt refuses
   is one with syntax errors (and says so).
2. The shipped rules, formatted as they are and also after their layout is
   wrecked (every line's indentation stripped, blank lines doubled, the
   spaces around `->` and `=` removed): `check` still finds nothing, every
   test block passes as before, and the example portfolios are decided to
   the same bytes as by the rules as written.

  fmt_roundtrip.py STRATUM_BINARY
Prints "N passed, N failed"; exit 1 on any failure.
"""
import csv
import io
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / 'build' / 'stratum')
passed = 0
failures = []


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)


def run(*args, cwd=None):
    return subprocess.run([BIN, *map(str, args)], cwd=cwd, capture_output=True, timeout=600)


def wreck(text):
    """The same rules, laid out badly: no indentation, doubled blank lines, no spaces around -> and =."""
    out = []
    for line in text.split('\n'):
        if '"' not in line and '#' not in line:
            line = re.sub(r'\s*->\s*', '->', line)
            line = re.sub(r'(?<![=!<>])\s*=\s*(?!=)', '=', line)
        out.append(line.lstrip(' \t'))
        if line.strip() == '':
            out.append('')
    return '\n'.join(out)


with tempfile.TemporaryDirectory(prefix='stratum-fmt-') as tmp:
    tmp = pathlib.Path(tmp)
    # 1. idempotence on every file of the tree
    files = sorted(p for d in ('rules', 'tests', 'examples', 'editors') for p in (ROOT / d).rglob('*.strat'))
    for f in files:
        rel = f.relative_to(ROOT)
        once = run('fmt', '--stdout', f)
        if once.returncode != 0:
            check(b'[syntax]' in once.stderr or b'error' in once.stderr, f'{rel}: refused without a syntax error: {once.stderr[:200]!r}')
            continue
        again_path = tmp / f.name
        again_path.write_bytes(once.stdout)
        twice = run('fmt', '--stdout', again_path)
        check(twice.returncode == 0 and twice.stdout == once.stdout, f'{rel}: formatting twice changes it')

    # 2. the shipped rules, formatted and wrecked then formatted, mean the same
    def results(rules):
        out = {}
        c = run('check', rules)
        out['check'] = (c.returncode, c.stdout.replace(str(rules).encode(), b'RULES'))
        t = run('test', rules)
        out['test'] = (t.returncode, t.stdout.splitlines()[-1:] if t.stdout else [])
        for name, portfolio in (('sme_size', 'portfolio.csv'), ('corporate_segments', 'corporate_portfolio.csv')):
            e = run('eval', rules / f'{name}.strat', '--input', ROOT / 'examples' / portfolio, '--format', 'csv', '--as-of', '2024-06-30')
            # the content hash (@hash) names the text, which fmt changes; every other column must not change
            rows = list(csv.reader(io.StringIO(e.stdout.decode('utf-8'))))
            at = rows[0].index('@hash') if rows else -1
            out[name] = (e.returncode, [r[:at] + r[at + 1:] for r in rows] if at >= 0 else rows)
        return out

    expected = results(ROOT / 'rules')
    check(expected['check'][0] == 0 and expected['test'][0] == 0, 'the shipped rules do not check and test clean')
    for variant in ('formatted', 'wrecked'):
        copy = tmp / variant
        shutil.copytree(ROOT / 'rules', copy)
        if variant == 'wrecked':
            for f in copy.rglob('*.strat'):
                f.write_text(wreck(f.read_text(encoding='utf-8')), encoding='utf-8')
        r = run('fmt', copy)
        check(r.returncode == 0, f'{variant}: fmt failed: {r.stderr[:300]!r}')
        got = results(copy)
        for key in expected:
            check(got[key] == expected[key], f'{variant}: {key} differs after fmt')
        if variant == 'formatted':
            for f in sorted(copy.rglob('*.strat')):
                rel = f.relative_to(copy)
                check(f.read_bytes() == (ROOT / 'rules' / rel).read_bytes(), f'rules/{rel} is not formatted (run stratum fmt rules/)')

for f in failures:
    print(f'FAILED {f}')
print(f'{passed} passed, {len(failures)} failed')
sys.exit(1 if failures else 0)
