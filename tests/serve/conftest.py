"""Starting and stopping `stratum serve` for the tests, on a free loopback port.

The service is started with `--listen 127.0.0.1:0`; the port it picked is
read from its first log line (`"event":"listening"`). Every line it logs is
kept (Service.log) so a test can look at the access log and reload events.
Stopping sends SIGTERM and expects exit status 0 (the drain).
"""
import csv
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import ssl
import subprocess
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
STRATUM = os.environ.get('STRATUM_BIN', str(ROOT / 'build' / 'stratum'))
AS_OF = '2026-06-30'
HERE = pathlib.Path(__file__).resolve().parent
# A self-signed certificate for localhost and 127.0.0.1, for these tests only.
TLS_CERT = HERE / 'test-cert.pem'
TLS_KEY = HERE / 'test-key.pem'


class Service:
    def __init__(self, rules, *args, tls=False, expect_start=True):
        self.rules = pathlib.Path(rules)
        self.tls = tls
        cmd = [STRATUM, 'serve', str(rules), '--listen', '127.0.0.1:0', '--as-of', AS_OF, *args]
        if tls:
            cmd += ['--tls-cert', str(TLS_CERT), '--tls-key', str(TLS_KEY)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.log = []
        self.raw_log = []
        self.port = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if expect_start:
            if not self._ready.wait(60):
                self.proc.kill()
                raise AssertionError('the service did not start:\n' + '\n'.join(self.raw_log))
            if self.port is None:
                raise AssertionError('the service ended at the start:\n' + '\n'.join(self.raw_log))

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            self.raw_log.append(line)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.log.append(event)
            if event.get('event') == 'listening':
                self.port = event['port']
                self._ready.set()
        self._ready.set()

    def connection(self, timeout=30):
        if self.tls:
            ctx = ssl.create_default_context(cafile=str(TLS_CERT))
            return http.client.HTTPSConnection('127.0.0.1', self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """(status, headers, body text) of one request, on a new connection unless given one."""
        own = conn is None
        conn = conn or self.connection()
        if isinstance(body, str):
            body = body.encode('utf-8')
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        text = res.read().decode('utf-8')
        if own:
            conn.close()
        return res.status, dict(res.getheaders()), text

    def json(self, method, path, body=None, headers=None):
        status, _, text = self.request(method, path, body, headers)
        return status, json.loads(text)

    def events(self, name):
        return [e for e in list(self.log) if e.get('event') == name]

    def wait_for(self, predicate, seconds=20):
        end = time.time() + seconds
        while time.time() < end:
            if predicate():
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError('the service did not stop on SIGTERM')
        self._reader.join(10)
        return status

    def finish(self, timeout=60):
        """Waits for a service that ends by itself; (status, stderr text)."""
        status = self.proc.wait(timeout)
        self._reader.join(10)
        return status, '\n'.join(self.raw_log) + ('\n' if self.raw_log else '')


@pytest.fixture
def rules_dir(tmp_path):
    """A rules folder: the SME standard and the corporate scheme (which imports it and loads data/)."""
    d = tmp_path / 'rules'
    d.mkdir()
    for name in ('sme_size.strat', 'corporate_segments.strat'):
        shutil.copy(ROOT / 'rules' / name, d / name)
    shutil.copytree(ROOT / 'rules' / 'data', d / 'data')
    return d


@pytest.fixture
def service(rules_dir):
    s = Service(rules_dir, '--watch-interval', '0.05')
    yield s
    assert s.stop() == 0


NUMBER = re.compile(r'^-?\d+(\.\d+)?$')


def corporate_records(count):
    """The first `count` customers of the example corporate portfolio, as JSON object texts (numbers exact)."""
    out = []
    with open(ROOT / 'examples' / 'corporate_portfolio.csv', encoding='utf-8') as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i == count:
                break
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
            out.append('{' + ','.join(parts) + '}')
    return out


def eval_lines(rules, records, *args, tmp):
    """`stratum eval` of the records (JSON Lines): (decided lines, rejection lines), as text."""
    src = tmp / 'records.jsonl'
    src.write_text('\n'.join(records) + '\n', encoding='utf-8')
    errors = tmp / 'errors.jsonl'
    subprocess.run([STRATUM, 'eval', str(rules), '--input', str(src), '--as-of', AS_OF, '--errors', str(errors), *args],
                   stdout=open(tmp / 'decided.jsonl', 'wb'), stderr=subprocess.DEVNULL, check=False)
    # eval ends each record with its provenance (@ruleset … @as_of); the service says it once, in the answer's head
    decided = [re.sub(r',"@ruleset":.*,"@as_of":(null|"[0-9-]+")(?=[,}])', '', line)
               for line in (tmp / 'decided.jsonl').read_text(encoding='utf-8').splitlines()]
    rejected = errors.read_text(encoding='utf-8').splitlines()
    return decided, rejected
