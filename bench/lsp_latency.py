#!/usr/bin/env python3
"""How long `stratum lsp` takes from an edit to its first diagnostics, per shipped rule file.

The server publishes the checker's diagnostics at once and the analysis's
(gaps, overlaps) when the analysis is done, on another thread; this times
the first.

For each rules/*.strat: open it, then send N edits (a comment line appended
and removed, so the text changes and stays valid) and time each from the
didChange to the publishDiagnostics that answers it. Prints the median and
the spread per file, and the slowest file's median.

  bench/lsp_latency.py [STRATUM_BINARY] [N=9]
"""
import json
import pathlib
import statistics
import subprocess
import sys
import time
from urllib.parse import quote

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / 'build' / 'stratum')
N = int(sys.argv[2]) if len(sys.argv) > 2 else 9

proc = subprocess.Popen([BIN, 'lsp'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def send(msg):
    body = json.dumps(msg, ensure_ascii=False).encode()
    proc.stdin.write(b'Content-Length: %d\r\n\r\n' % len(body) + body)
    proc.stdin.flush()


def read():
    length = 0
    while True:
        line = proc.stdout.readline().strip()
        if not line:
            break
        if line.lower().startswith(b'content-length:'):
            length = int(line.split(b':')[1])
    return json.loads(proc.stdout.read(length))


def diagnostics_for(uri, version):
    """The first diagnostics published for this version: the checker's (the analysis's come after)."""
    while True:
        m = read()
        if m.get('method') == 'textDocument/publishDiagnostics' and m['params']['uri'] == uri and m['params'].get('version') == version:
            return m['params']['diagnostics']


send({'jsonrpc': '2.0', 'id': 1, 'method': 'initialize', 'params': {'capabilities': {}}})
read()
rows = []
for f in sorted((ROOT / 'rules').glob('*.strat')):
    uri = 'file://' + quote(str(f))
    text = f.read_text(encoding='utf-8')
    send({'jsonrpc': '2.0', 'method': 'textDocument/didOpen',
          'params': {'textDocument': {'uri': uri, 'languageId': 'stratum', 'version': 0, 'text': text}}})
    diagnostics_for(uri, 0)
    times = []
    for v in range(1, N + 1):
        edited = text + ('# edit\n' if v % 2 else '')
        start = time.perf_counter()
        send({'jsonrpc': '2.0', 'method': 'textDocument/didChange',
              'params': {'textDocument': {'uri': uri, 'version': v}, 'contentChanges': [{'text': edited}]}})
        diags = diagnostics_for(uri, v)
        times.append((time.perf_counter() - start) * 1000)
        assert not [d for d in diags if d['severity'] == 1], f'{f.name}: errors after an edit'
    rows.append((f.name, statistics.median(times), min(times), max(times)))
    send({'jsonrpc': '2.0', 'method': 'textDocument/didClose', 'params': {'textDocument': {'uri': uri}}})
send({'jsonrpc': '2.0', 'id': 2, 'method': 'shutdown', 'params': None})
read()
send({'jsonrpc': '2.0', 'method': 'exit', 'params': None})
proc.wait()
for name, med, lo, hi in sorted(rows, key=lambda r: -r[1]):
    print(f'{name:36} median {med:7.1f} ms   (min {lo:6.1f}, max {hi:6.1f}, {N} edits)')
print(f'slowest file median: {max(r[1] for r in rows):.1f} ms; all files: median of medians {statistics.median(r[1] for r in rows):.1f} ms')
