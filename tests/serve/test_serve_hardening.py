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


def test_a_chunked_body_over_the_limit_answers_413_and_closes_the_connection(rules_dir):
    s = Service(rules_dir, '--max-body-bytes', '2000')
    try:
        body = ('[' + ','.join([SME] * 100) + ']').encode()  # about 11 kB, in chunks of 1000 bytes
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Transfer-Encoding: chunked\r\n\r\n' + chunked(body))
        data = read_to_close(c)  # what is left of the body is never read as a request
        c.close()
        head, text = data.split(b'\r\n\r\n', 1)
        assert head.startswith(b'HTTP/1.1 413 Payload Too Large\r\n') and b'\r\nConnection: close' in head
        assert head.count(b'Content-Type:') == 1
        assert json.loads(text) == {'error': 'the body is larger than 2000 bytes (the limit, --max-body-bytes)', 'limit': 2000}
        # Within the limit, chunked is read as any body.
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Transfer-Encoding: chunked\r\n\r\n' + chunked(SME.encode(), 40))
        status, _, text = read_answer(c)
        assert status == 'HTTP/1.1 200 OK' and json.loads(text)['decision'] == {'id': 'C0001', '规模': '小型'}
        c.close()
        # A Content-Length over the limit is refused before a byte of the body is read.
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n')
        head, text = read_to_close(c).split(b'\r\n\r\n', 1)
        c.close()
        assert head.startswith(b'HTTP/1.1 413 Payload Too Large\r\n') and json.loads(text)['limit'] == 2000
        _, _, metrics = s.request('GET', '/metrics')
        assert metric(metrics, 'stratum_limit_refusals_total{limit="body"}') == 2
        assert s.wait_for(lambda: [e for e in s.events('request') if e['status'] == 413])  # logged once written
        line = [e for e in s.events('request') if e['status'] == 413][0]
        assert line['bytes_in'] > 2000
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


def test_a_body_the_service_would_not_read_is_refused_never_run_as_a_request(rules_dir):
    s = Service(rules_dir)
    try:
        smuggled = ('POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                    'Content-Length: %d\r\n\r\n' % len(SME.encode())).encode() + SME.encode()
        cases = [
            (b'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n' % len(smuggled) + smuggled,
             400, 'a GET request carries no body here'),
            (b'OPTIONS /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n' % len(smuggled) + smuggled,
             400, 'a OPTIONS request carries no body here'),
            (b'DELETE /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' + chunked(smuggled),
             400, 'a DELETE request carries no body here'),
            (b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 5abc\r\n\r\n' + smuggled,
             400, 'Content-Length `5abc` is not a number of bytes'),
            (b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n' + smuggled,
             400, 'Content-Length `+5` is not a number of bytes'),
            (b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc' + smuggled,
             400, "a header's name is not a token (a space before the colon, or a folded line)"),
            (b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n' + smuggled,
             400, 'Transfer-Encoding other than chunked is not accepted'),
            (b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc' + smuggled,
             415, 'Content-Encoding br is not accepted: send the body as it is, or gzip or deflate it'),
            (b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n'
             b'Content-Length: 3\r\n\r\nabc' + smuggled,
             415, 'a multipart form is not accepted: send application/json (one record or an array) or application/x-ndjson (JSON Lines)'),
        ]
        for raw, status, message in cases:
            c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
            c.sendall(raw)
            data = read_to_close(c)
            c.close()
            head, body = data.split(b'\r\n\r\n', 1)
            assert (int(head.split(b' ')[1]), json.loads(body)) == (status, {'error': message}), raw
            assert b'\r\nConnection: close' in head
        assert s.wait_for(lambda: len(s.events('request')) == len(cases))
        time.sleep(0.3)
        assert [e['path'] for e in s.events('request') if e['path'].endswith('/decide') and e['status'] == 200] == []
        assert len(s.events('request')) == len(cases)  # one answer each: the smuggled request never ran
    finally:
        assert s.stop() == 0


def test_a_target_too_long_is_answered_414_and_the_connection_closed(rules_dir):
    s = Service(rules_dir)
    try:
        c = socket.create_connection(('127.0.0.1', s.port), timeout=20)
        c.sendall(b'GET /' + b'a' * 9000 + b' HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
        data = read_to_close(c)
        c.close()
        assert data.count(b'HTTP/1.1 ') == 1 and data.startswith(b'HTTP/1.1 414 ')
        assert data.endswith(b'{"error":"the request\'s target is too long"}\n')
    finally:
        assert s.stop() == 0


def test_a_token_file_replaced_by_a_fifo_or_a_device_keeps_the_tokens_read_before(rules_dir, tmp_path):
    tokens = tmp_path / 'tokens'
    tokens.write_text('a-token-of-twenty-chars\n')
    os.chmod(tokens, 0o600)
    s = Service(rules_dir, '--token-file', str(tokens))
    try:
        auth = {'Authorization': 'Bearer a-token-of-twenty-chars'}
        assert s.request('GET', '/v1/rulesets', headers=auth)[0] == 200
        for replace, message in (('fifo', 'not a regular file'), ('zero', 'not a regular file'), ('big', 'larger than 1 MiB: not a token or PEM file')):
            tokens.unlink()
            if replace == 'fifo':
                os.mkfifo(tokens)
            elif replace == 'zero':
                os.symlink('/dev/zero', tokens)
            else:
                tokens.write_text('x' * (2 << 20))
            s.proc.send_signal(signal.SIGHUP)
            expected = '--token-file %s: %s (the tokens read before are kept)' % (tokens, message)
            assert s.wait_for(lambda: [e for e in s.events('tokens_refused') if e['message'] == expected])
            assert s.request('GET', '/v1/rulesets', headers=auth)[0] == 200
        assert s.proc.poll() is None
    finally:
        assert s.stop(timeout=30) == 0


def test_sigterm_while_the_rules_are_first_loaded_ends_the_service(tmp_path):
    # The whole rules/ folder takes a moment to load and prove.
    rules = tmp_path / 'rules'
    shutil.copytree(os.path.join(os.path.dirname(__file__), '..', '..', 'rules'), rules)
    proc = subprocess.Popen([STRATUM, 'serve', str(rules), '--listen', '127.0.0.1:0'], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    # Once the service holds its signals (it does before it reads a rule),
    # SIGTERM arrives while the rules are being loaded and proved.
    def holds_sigterm():
        with open('/proc/%d/status' % proc.pid) as f:
            blocked = [line for line in f if line.startswith('SigBlk:')]
        return bool(blocked) and int(blocked[0].split()[1], 16) & (1 << (signal.SIGTERM - 1))
    deadline = time.monotonic() + 60
    while not holds_sigterm() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    events = [json.loads(line)['event'] for line in proc.stderr.read().decode().splitlines() if line.startswith('{')]
    assert events[-2:] == ['draining', 'stopped']


def test_the_drain_answers_every_waiting_connection_and_closes_kept_alive_ones(rules_dir):
    s = Service(rules_dir, '--threads', '1', '--idle-timeout', '2')
    held = socket.create_connection(('127.0.0.1', s.port), timeout=30)
    held.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    assert read_answer(held)[0] == 'HTTP/1.1 200 OK'
    waiting = []
    for i in range(3):
        w = socket.create_connection(('127.0.0.1', s.port), timeout=30)
        w.sendall(b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Content-Length: %d\r\n\r\n' % len(SME.encode()) + SME.encode())
        waiting.append(w)
    time.sleep(0.2)
    s.proc.send_signal(signal.SIGTERM)
    assert s.wait_for(lambda: s.events('draining'))
    # The kept-alive client asks again during the drain: answered, then closed.
    held.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    data = read_to_close(held)
    assert data.startswith(b'HTTP/1.1 200 OK\r\n') and b'\r\nConnection: close' in data
    for w in waiting:
        data = read_to_close(w)
        head, body = data.split(b'\r\n\r\n', 1)
        assert head.startswith(b'HTTP/1.1 200 OK\r\n') and json.loads(body)['decision'] == {'id': 'C0001', '规模': '小型'}
        w.close()
    held.close()
    assert s.stop() == 0
    assert [e['event'] for e in s.log if e['event'] in ('draining', 'drain_timeout', 'stopped')] == ['draining', 'stopped']


def test_a_client_that_trickles_its_request_does_not_hold_the_drain_for_ever(rules_dir):
    s = Service(rules_dir, '--request-timeout', '2', '--idle-timeout', '1')
    slow = socket.create_connection(('127.0.0.1', s.port), timeout=60)
    stop = threading.Event()

    def trickle():
        request = b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nX-Pad: ' + b'a' * 200
        for byte in request:
            if stop.is_set():
                return
            try:
                slow.send(bytes([byte]))
            except OSError:
                return
            time.sleep(0.5)
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    time.sleep(1)
    started = time.time()
    s.proc.send_signal(signal.SIGTERM)
    try:
        assert s.proc.wait(40) == 0
    finally:
        stop.set()
        slow.close()
    assert time.time() - started < 2 + 1 + 5 + 5  # --request-timeout + --idle-timeout + 5 s, and a margin
    assert s.stop() == 0
    assert [(e['event'], e.get('message')) for e in s.log if e['event'] in ('draining', 'drain_timeout', 'stopped')] == [
        ('draining', None),
        ('drain_timeout', 'connections still waiting for their first answer are closed unanswered'),
        ('drain_timeout', 'connections still open 8 s after the drain began are cut'),
        ('stopped', None)]
