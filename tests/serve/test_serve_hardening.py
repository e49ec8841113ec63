"""`stratum serve` under hostile or unusual input: body framing, methods,
ports, moved rule files, the drain. Each test asserts the whole answer."""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

from conftest import STRATUM, Service

SME = '{"id":"C0001","industry":"工业","employees":128,"revenue":1605682364.71,"total_assets":3303010.21}'
JSON = {'Content-Type': 'application/json'}


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + ' '):
            return float(line.split(' ')[1])
    return None


def read_answer(sock):
    """One HTTP/1.1 answer from a raw socket: (status line, headers dict, body bytes)."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError('connection closed before an answer: %r' % data)
        data += chunk
    head, rest = data.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    headers = {}
    for h in lines[1:]:
        k, v = h.split(':', 1)
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get('content-length', '0'))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines[0], headers, rest[:length]


def chunked(body, size=1000):
    out = b''
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b'%x\r\n' % len(part) + part + b'\r\n'
    return out + b'0\r\n\r\n'


def test_a_chunked_body_over_the_limit_answers_413_and_the_connection_goes_on(rules_dir):
    s = Service(rules_dir, '--max-body-bytes', '2000')
    try:
        body = ('[' + ','.join([SME] * 100) + ']').encode()  # about 11 kB, in chunks of 1000 bytes
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Transfer-Encoding: chunked\r\n\r\n' + chunked(body))
        status, _, text = read_answer(c)
        assert (status, json.loads(text)) == ('HTTP/1.1 413 Payload Too Large', {
            'error': 'the body is larger than 2000 bytes (the limit, --max-body-bytes)', 'limit': 2000})
        # The rest of the body was read and dropped: the same connection answers the next request.
        one = SME.encode()
        c.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Transfer-Encoding: chunked\r\n\r\n' + chunked(one, 40))
        status, _, text = read_answer(c)
        assert status == 'HTTP/1.1 200 OK' and json.loads(text)['decision'] == {'id': 'C0001', '规模': '小型'}
        c.close()
        _, _, metrics = s.request('GET', '/metrics')
        assert metric(metrics, 'stratum_limit_refusals_total{limit="body"}') == 1
        assert s.wait_for(lambda: [e for e in s.events('request') if e['status'] == 413])  # logged once written
        line = [e for e in s.events('request') if e['status'] == 413][0]
        assert line['bytes_in'] == len(body)
    finally:
        assert s.stop() == 0


def test_a_body_to_a_route_without_one_is_refused_and_bounded(rules_dir):
    s = Service(rules_dir, '--max-body-bytes', '2000')
    try:
        assert s.json('POST', '/healthz', '{}') == (405, {'error': 'POST /healthz is not served: use GET'})
        assert s.json('PUT', '/v1/rulesets/sme_size', '{}') == (405, {'error': 'PUT /v1/rulesets/sme_size is not served: use GET'})
        assert s.json('DELETE', '/v1/rulesets/sme_size/decide') == (
            405, {'error': 'DELETE /v1/rulesets/sme_size/decide is not served: use POST'})
        assert s.json('PATCH', '/nowhere', '{}') == (404, {
            'error': 'no such resource: PATCH /nowhere',
            'routes': ['POST /v1/rulesets/{name}/decide', 'GET /v1/rulesets', 'GET /v1/rulesets/{name}',
                       'GET /healthz', 'GET /readyz', 'GET /metrics']})
        # Over the limit, whatever the route: 413, before routing.
        assert s.json('POST', '/nowhere', 'x' * 3000)[0] == 413
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' + chunked(b'y' * 5000))
        status, _, text = read_answer(c)
        assert status == 'HTTP/1.1 413 Payload Too Large'
        c.close()
    finally:
        assert s.stop() == 0


def test_a_form_encoded_body_of_any_size_is_read_as_json(rules_dir):
    # curl -d sends application/x-www-form-urlencoded; a batch is well over 8 KiB.
    s = Service(rules_dir)
    try:
        body = '[' + ','.join([SME] * 200) + ']'
        assert len(body.encode()) > 8192
        status, answer = s.json('POST', '/v1/rulesets/sme_size/decide', body, {'Content-Type': 'application/x-www-form-urlencoded'})
        assert (status, answer['records'], answer['decided']) == (200, 200, 200)
    finally:
        assert s.stop() == 0


def test_metric_labels_name_only_known_methods(rules_dir):
    s = Service(rules_dir)
    try:
        for method in ('PRI', 'OPTIONS', 'TRACE', 'CONNECT'):
            c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
            c.sendall(method.encode() + b' /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
            status, headers, text = read_answer(c)
            c.close()
            if method == 'OPTIONS':
                assert status == 'HTTP/1.1 404 Not Found'
            else:
                assert (status, headers['allow'], json.loads(text)) == (
                    'HTTP/1.1 405 Method Not Allowed', 'GET, HEAD, POST', {'error': 'the method %s is not served' % method})
        # A method the library does not know at all is not HTTP to it.
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'\xff\xfe\xfd /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        status, _, text = read_answer(c)
        c.close()
        assert (status, text) == ('HTTP/1.1 400 Bad Request', b'{"error":"the request is not well-formed HTTP"}\n')
        assert s.wait_for(lambda: len(s.events('request')) == 5)  # each counted once its answer is written
        _, _, metrics = s.request('GET', '/metrics')
        methods = sorted({line.split('method="')[1].split('"')[0] for line in metrics.splitlines()
                          if line.startswith('stratum_http_requests_total{')})
        assert methods == ['OPTIONS', 'other']  # this GET is counted once answered
        metrics.encode('utf-8')  # well-formed UTF-8 throughout
        assert '\ufffd' not in metrics
    finally:
        assert s.stop() == 0


def test_a_second_service_on_the_same_port_is_refused(rules_dir):
    s = Service(rules_dir)
    try:
        r = subprocess.run([STRATUM, 'serve', str(rules_dir), '--listen', '127.0.0.1:%d' % s.port],
                           capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stderr.splitlines()[-1]) == (
            2, 'stratum serve: cannot listen on 127.0.0.1:%d: Address already in use' % s.port)
    finally:
        assert s.stop() == 0


def listing(s):
    status, body = s.json('GET', '/v1/rulesets')
    assert status == 200
    return body


def test_a_moved_rules_folder_keeps_the_loaded_versions_serving(rules_dir, tmp_path):
    s = Service(rules_dir, '--watch-interval', '0.05')
    try:
        hashes = {r['name']: r['hash'] for r in listing(s)['rulesets']}
        moved = tmp_path / 'moved'
        rules_dir.rename(moved)
        assert s.wait_for(lambda: listing(s)['rules_dir_error'] is not None)
        time.sleep(0.3)  # several more looks at the missing folder
        body = listing(s)
        assert body['rules_dir_error'] == 'cannot read the rules directory %s: No such file or directory' % rules_dir
        assert {r['name']: r['hash'] for r in body['rulesets']} == hashes
        assert s.json('GET', '/readyz') == (200, {'status': 'ready', 'rulesets': 2})
        status, answer = s.json('POST', '/v1/rulesets/sme_size/decide', SME, JSON)
        assert (status, answer['hash']) == (200, hashes['sme_size'])
        assert [e['message'] for e in s.events('rules_dir_unreadable')] == [
            'cannot read the rules directory %s: No such file or directory (every rule set loaded keeps serving)' % rules_dir]
        moved.rename(rules_dir)
        assert s.wait_for(lambda: listing(s)['rules_dir_error'] is None)
        assert {r['name']: r['hash'] for r in listing(s)['rulesets']} == hashes
    finally:
        assert s.stop() == 0


def test_a_rule_file_replaced_by_a_folder_or_a_dangling_link_is_refused_not_dropped(rules_dir, tmp_path):
    s = Service(rules_dir, '--watch-interval', '0.05')
    try:
        before = [r for r in listing(s)['rulesets'] if r['name'] == 'sme_size'][0]['hash']
        path = rules_dir / 'sme_size.strat'
        original = path.read_bytes()
        for replace in ('folder', 'link'):
            path.unlink()
            if replace == 'folder':
                path.mkdir()
            else:
                os.symlink(tmp_path / 'nowhere.strat', path)
            expected = ('%s is no longer a rule file (*.strat) or a folder of rule files: the version loaded before keeps serving'
                        % path)
            def refused():
                r = [r for r in listing(s)['rulesets'] if r['name'] == 'sme_size']
                return r and r[0]['last_reload_error'] and r[0]['last_reload_error']['diagnostics'] == expected
            assert s.wait_for(refused)
            time.sleep(0.3)
            r = [r for r in listing(s)['rulesets'] if r['name'] == 'sme_size'][0]
            assert (r['serving'], r['hash'], r['last_reload_error']['diagnostics']) == (True, before, expected)
            assert s.json('POST', '/v1/rulesets/sme_size/decide', SME, JSON)[0] == 200
            if replace == 'folder':
                path.rmdir()
            else:
                path.unlink()
            path.write_bytes(original)
            assert s.wait_for(lambda: [r for r in listing(s)['rulesets'] if r['name'] == 'sme_size'][0]['last_reload_error'] is None)
    finally:
        assert s.stop() == 0


def test_readiness_fails_when_no_rule_set_is_left(tmp_path):
    d = tmp_path / 'rules'
    d.mkdir()
    (d / 'tiny.strat').write_text('ruleset "tiny" version "1"\ninput c { id : text key  n : int }\ndecide big : bool { when n > 10 -> true else -> false }\n',
                                  encoding='utf-8')
    s = Service(d, '--watch-interval', '0.05')
    try:
        assert s.json('GET', '/readyz') == (200, {'status': 'ready', 'rulesets': 1})
        (d / 'tiny.strat').unlink()
        assert s.wait_for(lambda: s.json('GET', '/readyz')[0] == 503)
        assert s.json('GET', '/readyz') == (503, {'status': 'no rule set is being served', 'rulesets': 0})
        assert s.json('GET', '/healthz') == (200, {'status': 'ok'})
    finally:
        assert s.stop() == 0


def test_sigterm_answers_the_connections_still_waiting_for_a_thread(rules_dir):
    # One request thread, held by an idle kept-alive connection; a second
    # connection waits with its request. SIGTERM: the waiting one is still
    # answered (the idle one is closed after --idle-timeout), then exit 0.
    s = Service(rules_dir, '--threads', '1', '--idle-timeout', '1')
    held = socket.create_connection(('127.0.0.1', s.port), timeout=20)
    held.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    assert read_answer(held)[0] == 'HTTP/1.1 200 OK'
    waiting = socket.create_connection(('127.0.0.1', s.port), timeout=20)
    waiting.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                    b'Content-Length: %d\r\n\r\n' % len(SME.encode()) + SME.encode())
    time.sleep(0.2)
    s.proc.send_signal(signal.SIGTERM)
    status, _, text = read_answer(waiting)
    assert status == 'HTTP/1.1 200 OK' and json.loads(text)['decision'] == {'id': 'C0001', '规模': '小型'}
    assert s.stop() == 0
    held.close()
    waiting.close()
    assert [e['event'] for e in s.log if e['event'] in ('draining', 'drain_timeout', 'stopped')] == ['draining', 'stopped']


def test_a_token_file_that_is_not_a_regular_file_is_refused_at_once(rules_dir, tmp_path):
    fifo = tmp_path / 'tokens'
    os.mkfifo(fifo)
    for path, message in ((fifo, 'not a regular file'), ('/dev/zero', 'not a regular file'), (tmp_path, 'not a regular file')):
        r = subprocess.run([STRATUM, 'serve', str(rules_dir), '--listen', '127.0.0.1:0', '--token-file', str(path)],
                           capture_output=True, text=True, timeout=30)
        assert (r.returncode, r.stderr) == (2, 'stratum serve: --token-file %s: %s\n' % (path, message))


def read_to_close(sock):
    data = b''
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_a_body_length_given_two_ways_is_refused_and_the_connection_closed(rules_dir):
    s = Service(rules_dir)
    try:
        one = SME.encode()
        # What follows the first length would otherwise be read as a next request.
        smuggled = b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'
        for framing in (b'Content-Length: %d\r\nContent-Length: 5\r\n' % len(one),
                        b'Content-Length: %d\r\nTransfer-Encoding: chunked\r\n' % len(one)):
            c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
            c.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' + framing +
                      b'\r\n' + one + smuggled)
            data = read_to_close(c)
            c.close()
            head, body = data.split(b'\r\n\r\n', 1)
            assert head.startswith(b'HTTP/1.1 400 Bad Request\r\n') and b'\r\nConnection: close\r\n' in head + b'\r\n'
            assert body == (b'{"error":"the body\'s length is given in more than one way (Content-Length twice, or with '
                            b'Transfer-Encoding): send one"}\n')
        # The same length twice is one length.
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Content-Length: %d\r\nContent-Length: %d\r\n\r\n' % (len(one), len(one)) + one)
        assert read_answer(c)[0] == 'HTTP/1.1 200 OK'
        c.close()
        assert s.wait_for(lambda: len(s.events('request')) == 3)
        lines = [e for e in s.events('request') if e['status'] == 400]
        assert len(lines) == 2 and [e['path'] for e in s.log if e.get('event') == 'request'].count('/metrics') == 0
    finally:
        assert s.stop() == 0


def test_a_refusal_before_the_body_closes_the_connection(rules_dir, tmp_path):
    tokens = tmp_path / 'tokens'
    tokens.write_text('a-token-of-twenty-chars\n')
    os.chmod(tokens, 0o600)
    s = Service(rules_dir, '--token-file', str(tokens))
    try:
        one = SME.encode()
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Content-Length: %d\r\n\r\n' % len(one) + one)
        data = read_to_close(c)  # closed after the answer: the body unread is never taken for a request
        c.close()
        head, body = data.split(b'\r\n\r\n', 1)
        assert head.startswith(b'HTTP/1.1 401 Unauthorized\r\n')
        assert body == b'{"error":"this service needs a bearer token: send Authorization: Bearer TOKEN"}\n'
        assert s.wait_for(lambda: s.events('request'))  # logged once the answer is written
        line = s.events('request')[-1]
        assert (line['status'], line['bytes_out'], line['error']) == (
            401, len(body), 'this service needs a bearer token: send Authorization: Bearer TOKEN')
    finally:
        assert s.stop() == 0
