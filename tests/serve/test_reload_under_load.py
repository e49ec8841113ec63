"""Reload under load: clients decide without pause while the rule file is
replaced (atomically, write then rename) with a changed valid version, an
invalid one, and back, many times a second, and SIGHUP arrives now and then.
Not one request may fail, and every answer must be decided entirely by one
of the two valid versions (its hash, its version and its decisions agree);
the invalid version never serves."""
import hashlib
import http.client
import json
import os
import signal
import threading
import time

from conftest import Service

VERSIONS = {
    # version: (threshold, valid)
    'A': ('100万', True),
    'B': ('50万', True),
    'C': ('50万', False),
}
BALANCES = ['70万', '30万', '120万']  # A: false false true; B: true false true


def text_of(version):
    threshold, valid = VERSIONS[version]
    body = ('ruleset "tier" version "%s"\n'
            'input c { id : text key  balance : money }\n'
            'decide high : bool {\n  when balance >= %s -> true\n  else -> false\n}\n' % (version, threshold))
    if not valid:
        body += 'decide broken : bool { when no_such_field -> true else -> false }\n'
    return body


def bundle_hash(files):
    """The rule set's content hash: SHA-256 over (path, NUL, length, NUL, bytes) of each file, by path."""
    h = hashlib.sha256()
    for path in sorted(files):
        data = files[path].encode('utf-8')
        h.update(path.encode('utf-8') + b'\0' + str(len(data)).encode() + b'\0' + data)
    return h.hexdigest()


def amount(text):
    return int(text[:-1]) * 10000


def test_reload_under_load(tmp_path):
    rules = tmp_path / 'rules'
    rules.mkdir()
    target = rules / 'tier.strat'
    target.write_text(text_of('A'), encoding='utf-8')
    hashes = {v: bundle_hash({'tier.strat': text_of(v)}) for v in VERSIONS}
    s = Service(rules, '--watch-interval', '0.02', '--no-access-log')
    stop = threading.Event()
    seen = {'A': 0, 'B': 0}
    failures = []
    lock = threading.Lock()

    def client(batch):
        conn = s.connection(timeout=30)
        records = [{'id': 'c%d' % i, 'balance': amount(b)} for i, b in enumerate(BALANCES)]
        body = json.dumps(records if batch else records[0], ensure_ascii=False).encode('utf-8')
        while not stop.is_set():
            try:
                conn.request('POST', '/v1/rulesets/tier/decide', body=body, headers={'Content-Type': 'application/json'})
                res = conn.getresponse()
                answer = json.loads(res.read())
            except (OSError, http.client.HTTPException, ValueError) as e:
                failures.append('request failed: %r' % e)
                conn.close()
                conn = s.connection(timeout=30)
                continue
            version = answer.get('version')
            if res.status != 200 or version not in seen:
                failures.append('answer %d: %s' % (res.status, answer))
                continue
            if answer['hash'] != hashes[version]:
                failures.append('version %s with hash %s' % (version, answer['hash']))
            threshold = amount(VERSIONS[version][0])
            decisions = [r['decision'] for r in answer['results']] if batch else [answer['decision']]
            for record, decision in zip(records, decisions):
                if decision['high'] != (record['balance'] >= threshold):
                    failures.append('mixed answer: version %s decided %s' % (version, decision))
            with lock:
                seen[version] += 1
        conn.close()

    def writer():
        cycle = ['B', 'C', 'A', 'C', 'B', 'A']
        n = 0
        while not stop.is_set():
            version = cycle[n % len(cycle)]
            tmp = rules / '.tier.strat.tmp'
            tmp.write_text(text_of(version), encoding='utf-8')
            os.replace(tmp, target)
            if n % 7 == 3:
                s.proc.send_signal(signal.SIGHUP)
            n += 1
            time.sleep(0.03)
        # Back to A, as atomically as every other write (a file read half
        # written could be valid rules of a third hash).
        tmp = rules / '.tier.strat.tmp'
        tmp.write_text(text_of('A'), encoding='utf-8')
        os.replace(tmp, target)

    threads = [threading.Thread(target=client, args=(batch,)) for batch in (False, True, False, True)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    time.sleep(6)
    stop.set()
    for t in threads:
        t.join(60)
    try:
        print('answers by version', seen, 'reloads', len(s.events('reloaded')), 'refusals', len(s.events('reload_refused')))
        assert failures == []
        # Both versions served under load, many times each: the reloads really happened.
        assert seen['A'] > 50 and seen['B'] > 50, seen
        reloaded = [e for e in s.events('reloaded') if e['ruleset'] == 'tier']
        refused = [e for e in s.events('reload_refused') if e['ruleset'] == 'tier']
        assert len(reloaded) >= 4 and len(refused) >= 2
        assert {e['hash'] for e in reloaded} <= {hashes['A'], hashes['B']}
        assert {e['hash'] for e in refused} == {hashes['C']}
        assert all(e['serving_hash'] in (hashes['A'], hashes['B']) for e in refused)
    finally:
        assert s.stop() == 0
