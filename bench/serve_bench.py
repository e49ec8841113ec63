"""Drives bench/serve.sh: starts `stratum serve` on the shipped rules, runs wrk
against it, prints a table (median and min–max of several runs)."""
import argparse
import csv
import json
import os
import pathlib
import re
import signal
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
NUMBER = re.compile(r'^-?\d+(\.\d+)?$')

LUA = r'''
local f = io.open(os.getenv("STRATUM_BODY"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
'''


def corporate_records(count):
    rows = []
    with open(ROOT / 'examples' / 'corporate_portfolio.csv', encoding='utf-8') as f:
        for row in csv.DictReader(f):
            parts = []
            for k, v in row.items():
                if k == '业务标签':
                    val = json.dumps([t for t in v.split(';') if t], ensure_ascii=False)
                elif v == '':
                    continue
                elif NUMBER.match(v) and k != 'id':
                    val = v
                else:
                    val = json.dumps(v, ensure_ascii=False)
                parts.append(json.dumps(k, ensure_ascii=False) + ':' + val)
            rows.append('{' + ','.join(parts) + '}')
            if len(rows) == count:
                break
    while len(rows) < count:
        rows += rows[:count - len(rows)]
    return rows


def sme_records(count):
    rows = list(csv.DictReader(open(ROOT / 'examples' / 'portfolio.csv', encoding='utf-8')))
    out = []
    for i in range(count):
        r = rows[i % len(rows)]
        out.append('{"id":%s,"industry":%s,"employees":%s,"revenue":%s,"total_assets":%s}' % (
            json.dumps('%s-%d' % (r['id'], i)), json.dumps(r['industry'], ensure_ascii=False), r['employees'],
            r['revenue'], r['total_assets']))
    return out


def start(stratum, rules):
    proc = subprocess.Popen([stratum, 'serve', str(rules), '--listen', '127.0.0.1:0', '--no-access-log',
                             '--as-of', '2026-06-30', '--watch-interval', '0'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for raw in proc.stderr:
        event = json.loads(raw)
        if event.get('event') == 'listening':
            return proc, event['port']
    raise SystemExit('the service did not start')


def wrk(port, path, body_file, connections, seconds):
    threads = 1 if connections == 1 else 2
    env = dict(os.environ, STRATUM_BODY=str(body_file))
    out = subprocess.run(['wrk', '-t%d' % threads, '-c%d' % connections, '-d%ds' % seconds, '--timeout', '10s',
                          '-s', str(body_file.parent / 'post.lua'), 'http://127.0.0.1:%d%s' % (port, path)],
                         capture_output=True, text=True, env=env, check=True).stdout
    m = re.search(r'RESULT requests=(\d+) duration_us=(\d+) errors=(\d+) p50_us=(\d+) p99_us=(\d+)', out)
    requests, duration, errors, p50, p99 = map(int, m.groups())
    if errors:
        raise SystemExit('wrk saw %d errors:\n%s' % (errors, out))
    return requests / (duration / 1e6), p50 / 1000, p99 / 1000


def spread(values, fmt):
    return '%s (%s–%s)' % (fmt % statistics.median(values), fmt % min(values), fmt % max(values))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--stratum', required=True)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--seconds', type=int, default=10)
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix='stratum-serve-bench-'))
    (work / 'post.lua').write_text(LUA)
    records = corporate_records(10000)
    (work / 'one.json').write_text(records[1], encoding='utf-8')
    (work / 'sme.json').write_text('{"id":"C0001","industry":"工业","employees":128,"revenue":1605682364.71,'
                                   '"total_assets":3303010.21}', encoding='utf-8')
    (work / 'batch.json').write_text('[' + ','.join(records) + ']', encoding='utf-8')
    (work / 'sme-batch.json').write_text('[' + ','.join(sme_records(10000)) + ']', encoding='utf-8')
    proc, port = start(args.stratum, ROOT / 'rules')
    try:
        print('stratum serve rules/ on 127.0.0.1:%d; wrk, %d runs of %d s each; median (min–max)' % (port, args.reps, args.seconds))
        print('%-44s %22s %20s %20s' % ('load', 'requests/s', 'p50 ms', 'p99 ms'))
        cases = [('corporate_segments, 1 record, %d conn', '/v1/rulesets/corporate_segments/decide', 'one.json', c) for c in (1, 16, 64)]
        cases += [('sme_size, 1 record, %d conn', '/v1/rulesets/sme_size/decide', 'sme.json', c) for c in (1, 16, 64)]
        for label, path, body, c in cases:
            runs = [wrk(port, path, work / body, c, args.seconds) for _ in range(args.reps)]
            print('%-44s %22s %20s %20s' % (label % c, spread([r[0] for r in runs], '%.0f'),
                                           spread([r[1] for r in runs], '%.3f'), spread([r[2] for r in runs], '%.3f')))
            sys.stdout.flush()
        batches = [('sme_size', 'sme-batch.json', c) for c in (1, 2)] + [('corporate_segments', 'batch.json', c) for c in (1, 2)]
        for ruleset, body, c in batches:
            runs = [wrk(port, '/v1/rulesets/%s/decide' % ruleset, work / body, c, args.seconds) for _ in range(args.reps)]
            print('%-44s %22s %20s %20s   decisions/s: %s' % ('%s, 10,000-record batch, %d conn' % (ruleset, c),
                                                             spread([r[0] for r in runs], '%.1f'),
                                                             spread([r[1] for r in runs], '%.1f'), spread([r[2] for r in runs], '%.1f'),
                                                             spread([r[0] * 10000 for r in runs], '%.0f')))
            sys.stdout.flush()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


if __name__ == '__main__':
    main()
