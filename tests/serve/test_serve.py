"""The decision service, route by route: every answer compared whole."""
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import AS_OF, STRATUM, TLS_KEY, Service, corporate_records, eval_lines

SME = '{"id":"C0001","industry":"工业","employees":128,"revenue":1605682364.71,"total_assets":3303010.21}'
SME_DECISION = '{"id":"C0001","规模":"小型"}'
SME_TITLE = '"title":"中小企业划型标准","version":"2011"'
JSON = {'Content-Type': 'application/json'}


def listing(service, name):
    status, body = service.json('GET', '/v1/rulesets')
    assert status == 200
    return next(r for r in body['rulesets'] if r['name'] == name)


def head(service, name):
    """The members every decision answer starts with."""
    r = listing(service, name)
    return '{"ruleset":"%s","title":%s,"version":%s,"hash":"%s","as_of":"%s"' % (
        name, json.dumps(r['title'], ensure_ascii=False), json.dumps(r['version'], ensure_ascii=False), r['hash'], AS_OF)


def test_one_record_is_decided_as_eval_decides_it(service):
    status, headers, text = service.request('POST', '/v1/rulesets/sme_size/decide', SME, JSON)
    assert status == 200
    assert text == head(service, 'sme_size') + ',"decision":' + SME_DECISION + '}\n'
    assert headers['Content-Type'] == 'application/json; charset=utf-8'
    assert headers['Stratum-Ruleset-Hash'] == listing(service, 'sme_size')['hash']


def test_a_batch_array_and_json_lines_answer_in_order_as_eval(service, rules_dir, tmp_path):
    records = corporate_records(200)
    # Two records eval rejects: a value outside its enum, and a required field absent.
    records[3] = records[3].replace('"所属市场":"公司"', '"所属市场":"个人"').replace('"所属市场":"机构"', '"所属市场":"个人"')
    records[7] = re.sub(r'"信贷余额":[0-9.]+,', '', records[7])
    decided, rejected = eval_lines(rules_dir / 'corporate_segments.strat', records, tmp=tmp_path)
    assert len(decided) == 198 and len(rejected) == 2
    # The answer's results: eval's lines, in input order, rejections where they fall.
    by_record = {json.loads(r)['record']: r for r in rejected}
    items, d = [], iter(decided)
    for n in range(1, len(records) + 1):
        items.append('{"rejected":%s}' % by_record[n] if n in by_record else '{"decision":%s}' % next(d))
    expected = head(service, 'corporate_segments') + ',"records":200,"decided":198,"rejected":2,"results":[' + ','.join(items) + ']}\n'

    status, _, text = service.request('POST', '/v1/rulesets/corporate_segments/decide', '\n'.join(records) + '\n',
                                      {'Content-Type': 'application/x-ndjson'})
    assert status == 200
    assert text == expected
    # As an array (pretty-printed over several lines), the same answer.
    body = '[\n  ' + ',\n  '.join(records) + '\n]\n'
    status, _, text = service.request('POST', '/v1/rulesets/corporate_segments/decide', body, JSON)
    assert status == 200
    assert text == expected.replace('"line":4,', '"line":5,').replace('"line":8,', '"line":9,')


def test_explain_adds_the_explanation_eval_gives(service, rules_dir, tmp_path):
    records = corporate_records(3)
    decided, _ = eval_lines(rules_dir / 'corporate_segments.strat', records, '--explain', tmp=tmp_path)
    status, _, text = service.request('POST', '/v1/rulesets/corporate_segments/decide?explain=true', records[1], JSON)
    assert status == 200
    assert text == head(service, 'corporate_segments') + ',"decision":' + decided[1] + '}\n'
    assert '"explain":["' in text


def test_as_of_in_the_query_sets_the_evaluation_date(service):
    status, _, text = service.request('POST', '/v1/rulesets/sme_size/decide?as_of=2027-01-31', SME, JSON)
    assert status == 200
    assert text == head(service, 'sme_size').replace(AS_OF, '2027-01-31') + ',"decision":' + SME_DECISION + '}\n'


def test_a_rejected_record_answers_422_with_evals_reason(service, rules_dir, tmp_path):
    record = '{"id":"X1","industry":"制造","employees":1,"revenue":1,"total_assets":1}'
    _, rejected = eval_lines(rules_dir / 'sme_size.strat', [record], tmp=tmp_path)
    status, _, text = service.request('POST', '/v1/rulesets/sme_size/decide', record, JSON)
    assert status == 422
    assert text == head(service, 'sme_size') + ',"rejected":' + rejected[0] + '}\n'
    assert rejected[0] == ('{"record":1,"line":1,"key":"X1","column":"industry","reason":"\\"制造\\" is not a value of 行业 '
                           '(农林牧渔业, 工业, 建筑业, 批发业, 零售业, 交通运输业, 仓储业, 邮政业, 住宿业, 餐饮业, 信息传输业, '
                           '软件和信息技术服务业, 房地产开发经营, 物业管理, 租赁和商务服务业, 其他未列明行业)"}')


@pytest.mark.parametrize('body, record, message', [
    ('{"id":"C1",\n "industry":"工业", "employees":}', 1, 'invalid JSON at line 2, column 31: expected a value'),
    ('[{"id":"C1"}, 7]', 2, 'invalid JSON at line 1, column 15: expected a JSON object `{…}` in the array'),
    ('{"id":"C1"', 1, 'invalid JSON at line 1, column 11: expected \',\' or \'}\''),
    ('{"id":"C1"} x', 2, 'invalid JSON at line 1, column 13: expected a JSON object `{…}` or an array of them'),
    ('{"id":"C1","id":"C2"}', 1, 'invalid JSON at line 1, column 12: key "id" appears twice'),
    ('"text"', 1, 'invalid JSON at line 1, column 1: expected a JSON object `{…}` or an array of them'),
    ('{"id":"C1"}\n{"id":"C2", "employees":12', 2, 'invalid JSON at line 2, column 27: expected \',\' or \'}\''),
])
def test_malformed_json_answers_400_with_its_position(service, body, record, message):
    status, answer = service.json('POST', '/v1/rulesets/sme_size/decide', body, JSON)
    line = int(re.search(r'line (\d+)', message).group(1))
    assert (status, answer) == (400, {'error': 'malformed JSON', 'message': message, 'record': record, 'line': line})


def test_an_empty_body_and_an_empty_array(service):
    assert service.json('POST', '/v1/rulesets/sme_size/decide', '', JSON) == (
        400, {'error': 'the body holds no record: send one JSON object, an array of them, or JSON Lines'})
    status, _, text = service.request('POST', '/v1/rulesets/sme_size/decide', '[ ]', JSON)
    assert (status, text) == (200, head(service, 'sme_size') + ',"records":0,"decided":0,"rejected":0,"results":[]}\n')


def test_unknown_rule_set_404_and_unknown_route_404(service):
    assert service.json('POST', '/v1/rulesets/retail/decide', SME, JSON) == (
        404, {'error': 'no rule set named `retail`', 'rulesets': ['corporate_segments', 'sme_size']})
    assert service.json('GET', '/v2/things') == (404, {
        'error': 'no such resource: GET /v2/things',
        'routes': ['POST /v1/rulesets/{name}/decide', 'GET /v1/rulesets', 'GET /v1/rulesets/{name}',
                   'GET /healthz', 'GET /readyz', 'GET /metrics']})


def test_wrong_method_405_bad_parameters_400_wrong_type_415(service):
    status, headers, text = service.request('GET', '/v1/rulesets/sme_size/decide')
    assert (status, headers['Allow'], json.loads(text)) == (
        405, 'POST', {'error': 'GET /v1/rulesets/sme_size/decide is not served: use POST'})
    assert service.json('POST', '/healthz', '{}') == (405, {'error': 'POST /healthz is not served: use GET'})
    assert service.json('POST', '/v1/rulesets/sme_size/decide?explian=1', SME, JSON) == (
        400, {'error': 'unknown parameter `explian`: the parameters are explain and as_of'})
    assert service.json('POST', '/v1/rulesets/sme_size/decide?explain=yes', SME, JSON) == (
        400, {'error': 'explain=yes: expected true or false'})
    assert service.json('POST', '/v1/rulesets/sme_size/decide?as_of=2026-02-30', SME, JSON) == (
        400, {'error': 'as_of=2026-02-30: expected a date YYYY-MM-DD'})
    assert service.json('POST', '/v1/rulesets/sme_size/decide', 'id,industry\n', {'Content-Type': 'text/csv'}) == (
        415, {'error': 'Content-Type text/csv is not accepted: send application/json (one record or an array) '
                       'or application/x-ndjson (JSON Lines)'})


def test_the_listing_names_every_rule_set_with_version_hash_and_files(service, rules_dir):
    status, body = service.json('GET', '/v1/rulesets')
    assert status == 200
    for r in body['rulesets']:
        assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', r.pop('loaded_at'))
        assert re.fullmatch(r'[0-9a-f]{64}', r.pop('hash'))
    assert body == {'rulesets': [
        {'name': 'corporate_segments', 'file': 'corporate_segments.strat', 'title': '对公客户分层细分', 'version': '2',
         'files': ['corporate_segments.strat', 'data/strategic_groups.csv', 'sme_size.strat'], 'uses_today': False,
         'serving': True, 'last_reload_error': None},
        {'name': 'sme_size', 'file': 'sme_size.strat', 'title': '中小企业划型标准', 'version': '2011',
         'files': ['sme_size.strat'], 'uses_today': False, 'serving': True, 'last_reload_error': None}],
        'rules_dir_error': None}
    one = service.json('GET', '/v1/rulesets/sme_size')
    assert one == (200, listing(service, 'sme_size'))


def test_health_and_readiness(service):
    assert service.json('GET', '/healthz') == (200, {'status': 'ok'})
    assert service.json('GET', '/readyz') == (200, {'status': 'ready', 'rulesets': 2})


def metric(text, name):
    """The value of one series (name with its labels, as rendered), or None."""
    for line in text.splitlines():
        if line.startswith(name + ' '):
            return float(line.split(' ')[1])
    return None


def test_metrics_count_requests_segments_rejections(service):
    records = corporate_records(40)
    status, body = service.json('POST', '/v1/rulesets/corporate_segments/decide', '[' + ','.join(records) + ']', JSON)
    assert status == 200 and body['decided'] == 40
    segments = {}
    for r in body['results']:
        segments[r['decision']['segment']] = segments.get(r['decision']['segment'], 0) + 1
    service.request('POST', '/v1/rulesets/sme_size/decide', '{"id":"X","industry":"制造"}', JSON)
    service.request('POST', '/v1/rulesets/sme_size/decide', SME, JSON)
    # A request is counted once its answer is written: the client may have it a moment before.
    assert service.wait_for(lambda: len([e for e in service.events('request') if e['method'] == 'POST']) == 3)
    status, headers, text = service.request('GET', '/metrics')
    assert status == 200 and headers['Content-Type'] == 'text/plain; version=0.0.4; charset=utf-8'
    assert metric(text, 'stratum_http_requests_total{route="/v1/rulesets/{name}/decide",method="POST",status="200"}') == 2
    assert metric(text, 'stratum_http_requests_total{route="/v1/rulesets/{name}/decide",method="POST",status="422"}') == 1
    assert metric(text, 'stratum_records_decided_total{ruleset="corporate_segments"}') == 40
    assert metric(text, 'stratum_records_decided_total{ruleset="sme_size"}') == 1
    assert metric(text, 'stratum_records_rejected_total{ruleset="sme_size"}') == 1
    for segment, n in segments.items():
        assert metric(text, 'stratum_segment_decisions_total{ruleset="corporate_segments",segment="%s"}' % segment) == n
    assert sum(segments.values()) == 40
    route = 'route="/v1/rulesets/{name}/decide",status="200"'
    assert metric(text, 'stratum_http_request_duration_seconds_count{%s}' % route) == 2
    assert metric(text, 'stratum_http_request_duration_seconds_bucket{%s,le="+Inf"}' % route) == 2
    assert '# TYPE stratum_http_request_duration_seconds histogram' in text
    assert metric(text, 'stratum_reloads_total') is None


def test_the_access_log_is_one_json_line_per_request(service):
    service.request('POST', '/v1/rulesets/sme_size/decide', SME, JSON)
    assert service.wait_for(lambda: service.events('request'))
    line = service.events('request')[-1]
    assert set(line) == {'time', 'event', 'remote', 'method', 'path', 'status', 'bytes_in', 'bytes_out', 'ms',
                         'ruleset', 'hash', 'records', 'rejected'}
    assert (line['method'], line['path'], line['status'], line['ruleset'], line['records'], line['rejected']) == (
        'POST', '/v1/rulesets/sme_size/decide', 200, 'sme_size', 1, 0)
    assert line['bytes_in'] == len(SME.encode()) and line['remote'] == '127.0.0.1'


# Limits -------------------------------------------------------------------

def test_a_body_over_the_limit_answers_413(rules_dir):
    s = Service(rules_dir, '--max-body-bytes', '200')
    try:
        assert s.json('POST', '/v1/rulesets/sme_size/decide', '[' + ','.join([SME] * 3) + ']', JSON) == (
            413, {'error': 'the body is larger than 200 bytes (the limit, --max-body-bytes)', 'limit': 200})
        assert s.json('POST', '/v1/rulesets/sme_size/decide', SME, JSON)[0] == 200
        _, _, text = s.request('GET', '/metrics')
        assert metric(text, 'stratum_limit_refusals_total{limit="body"}') == 1
    finally:
        assert s.stop() == 0


def test_records_over_the_limit_answer_413(rules_dir):
    s = Service(rules_dir, '--max-records', '2')
    try:
        assert s.json('POST', '/v1/rulesets/sme_size/decide', '[' + ','.join([SME] * 3) + ']', JSON) == (
            413, {'error': 'the request holds more than 2 records (the limit, --max-records)', 'limit': 2})
        assert s.json('POST', '/v1/rulesets/sme_size/decide', '[' + ','.join([SME] * 2) + ']', JSON)[0] == 200
        _, _, text = s.request('GET', '/metrics')
        assert metric(text, 'stratum_limit_refusals_total{limit="records"}') == 1
    finally:
        assert s.stop() == 0


def test_headers_over_the_limit_answer_431(rules_dir):
    s = Service(rules_dir, '--max-header-bytes', '1024')
    try:
        status, headers, text = s.request('POST', '/v1/rulesets/sme_size/decide', SME, {**JSON, 'X-Padding': 'x' * 2000})
        assert status == 431
        assert json.loads(text) == {'error': re.search(r'"error":"([^"]+)"', text).group(1)}
        assert re.fullmatch(r"the request's headers take \d+ bytes, more than 1024 \(the limit, --max-header-bytes\)",
                            json.loads(text)['error'])
        _, _, text = s.request('GET', '/metrics')
        assert metric(text, 'stratum_limit_refusals_total{limit="header"}') == 1
    finally:
        assert s.stop() == 0


def test_connections_over_the_limit_answer_503(rules_dir):
    s = Service(rules_dir, '--threads', '1', '--max-connections', '1')
    held = socket.create_connection(('127.0.0.1', s.port))  # holds the one request thread
    statuses = []
    try:
        time.sleep(0.3)
        status, headers, text = s.request('GET', '/healthz')
        statuses.append(status)
        assert status == 503
        assert json.loads(text) == {'error': 'too many connections (the limit, --max-connections, is 1): try again'}
        assert headers['Retry-After'] == '1'
        held.close()
        # Once the held connection is gone, connections are served again (each refused one is counted).
        answers = []
        assert s.wait_for(lambda: answers.append(s.request('GET', '/metrics')) or answers[-1][0] == 200, 10)
        statuses += [a[0] for a in answers]
        assert set(statuses) == {503, 200}
        assert metric(answers[-1][2], 'stratum_limit_refusals_total{limit="connections"}') == statuses.count(503)
    finally:
        held.close()
        assert s.stop() == 0


def test_a_silent_connection_is_closed_after_the_timeouts(rules_dir):
    s = Service(rules_dir, '--request-timeout', '1', '--idle-timeout', '1')
    try:
        # Idle after an answer: closed after --idle-timeout.
        c = socket.create_connection(('127.0.0.1', s.port))
        c.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        c.settimeout(10)
        first = b''
        while not first.endswith(b'{"status":"ok"}\n'):
            first += c.recv(4096)
        assert first.startswith(b'HTTP/1.1 200 OK')
        start = time.time()
        assert c.recv(4096) == b''
        assert 0.5 < time.time() - start < 5
        c.close()
        # Half a request: answered 408 after --request-timeout, then closed.
        for partial in (b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"id":',
                        b'POST /v1/rulesets/sme_size/decide HTTP/1.1\r\nHost: x\r\nContent-Len'):
            c = socket.create_connection(('127.0.0.1', s.port))
            c.sendall(partial)
            c.settimeout(10)
            start = time.time()
            data = b''
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            assert time.time() - start < 5
            assert data.startswith(b'HTTP/1.1 408 Request Timeout\r\n')
            assert data.endswith(b'\r\n\r\n{"error":"the request did not arrive whole within 1 s (the limit, --request-timeout)"}\n')
            c.close()
        # Not HTTP at all: 400 at once.
        c = socket.create_connection(('127.0.0.1', s.port))
        c.sendall(b'GARBAGE\r\n\r\n')
        c.settimeout(10)
        data = b''
        while not data.endswith(b'}\n'):
            data += c.recv(4096)
        assert data.startswith(b'HTTP/1.1 400 Bad Request\r\n')
        assert data.endswith(b'\r\n\r\n{"error":"the request is not well-formed HTTP"}\n')
        c.close()
        _, _, text = s.request('GET', '/metrics')
        assert metric(text, 'stratum_limit_refusals_total{limit="timeout"}') == 2
        assert s.request('GET', '/healthz')[0] == 200
    finally:
        assert s.stop() == 0


# Safe by default ------------------------------------------------------------

def test_a_non_loopback_address_needs_tokens(rules_dir):
    s = Service(rules_dir, '--listen', '0.0.0.0:0', expect_start=False)
    status, err = s.finish()
    assert status == 2
    assert err == ('stratum serve: 0.0.0.0 is not a loopback address: anyone who can reach it could decide customers and '
                   'read the rules\' versions. Give --token-file FILE (bearer tokens) to serve it, and --tls-cert/--tls-key '
                   'to encrypt it; or listen on 127.0.0.1\n')


def test_bearer_tokens(rules_dir, tmp_path):
    tokens = tmp_path / 'tokens'
    tokens.write_text('# the CRM\nfirst-token-0123456789abcdef\n\n  second-token-0123456789abcdef  \n')
    tokens.chmod(0o600)
    s = Service(rules_dir, '--token-file', str(tokens))
    try:
        assert s.json('POST', '/v1/rulesets/sme_size/decide', SME, JSON) == (
            401, {'error': 'this service needs a bearer token: send Authorization: Bearer TOKEN'})
        status, headers, text = s.request('GET', '/v1/rulesets', headers={'Authorization': 'Bearer first-token-0123456789abcdeX'})
        assert (status, json.loads(text), headers['WWW-Authenticate']) == (
            401, {'error': 'the bearer token is not accepted'}, 'Bearer realm="stratum"')
        for token in ('first-token-0123456789abcdef', 'second-token-0123456789abcdef'):
            status, _, text = s.request('POST', '/v1/rulesets/sme_size/decide', SME, {**JSON, 'Authorization': 'Bearer ' + token})
            assert (status, text) == (200, head_with(s, token) + ',"decision":' + SME_DECISION + '}\n')
        assert s.json('GET', '/healthz') == (200, {'status': 'ok'})
        assert s.json('GET', '/readyz') == (200, {'status': 'ready', 'rulesets': 2})
        assert s.request('GET', '/metrics')[0] == 401
        assert s.request('GET', '/metrics', headers={'Authorization': 'bearer first-token-0123456789abcdef'})[0] == 200
    finally:
        assert s.stop() == 0


def head_with(service, token):
    status, body = service.json('GET', '/v1/rulesets', headers={'Authorization': 'Bearer ' + token})
    r = next(r for r in body['rulesets'] if r['name'] == 'sme_size')
    return '{"ruleset":"sme_size",%s,"hash":"%s","as_of":"%s"' % (SME_TITLE, r['hash'], AS_OF)


@pytest.mark.parametrize('content, message', [
    ('', '{tokens} holds no token (one per line; # starts a comment)'),
    ('short\n', '{tokens}: a token is shorter than 16 characters: use long random tokens'),
])
def test_an_unusable_token_file_is_refused(rules_dir, tmp_path, content, message):
    tokens = tmp_path / 'tokens'
    tokens.write_text(content)
    s = Service(rules_dir, '--token-file', str(tokens), expect_start=False)
    assert s.finish() == (2, 'stratum serve: ' + message.format(tokens=tokens) + '\n')


def test_tls(rules_dir):
    s = Service(rules_dir, tls=True)
    try:
        assert s.log[-1]['url'] == 'https://127.0.0.1:%d' % s.port
        status, _, text = s.request('POST', '/v1/rulesets/sme_size/decide', SME, JSON)
        assert (status, text) == (200, head(s, 'sme_size') + ',"decision":' + SME_DECISION + '}\n')
        # Plain HTTP to the TLS port is not answered as HTTP.
        plain = http.client.HTTPConnection('127.0.0.1', s.port, timeout=10)
        with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
            plain.request('GET', '/healthz')
            plain.getresponse().read()
    finally:
        assert s.stop() == 0


def test_a_missing_or_unusable_certificate_is_refused(rules_dir, tmp_path):
    s = Service(rules_dir, '--tls-cert', str(tmp_path / 'none.pem'), '--tls-key', str(tmp_path / 'none.key'), expect_start=False)
    assert s.finish() == (2, 'stratum serve: --tls-cert {0}/none.pem: No such file or directory\n'.format(tmp_path))
    (tmp_path / 'bad.pem').write_text('not a certificate\n')
    s = Service(rules_dir, '--tls-cert', str(tmp_path / 'bad.pem'), '--tls-key', str(TLS_KEY), expect_start=False)
    assert s.finish() == (2, 'stratum serve: cannot use the TLS certificate {0}/bad.pem with the key {1}: check that '
                             'both are readable PEM files and that the key matches the certificate\n'.format(tmp_path, TLS_KEY))


def diagnostics_of(path):
    """What `stratum check` says of a rule file, without its closing count."""
    r = subprocess.run([STRATUM, 'check', str(path)], capture_output=True, text=True)
    text = r.stdout + r.stderr
    assert text.splitlines()[-1].startswith('checked 1 file: ')
    return text[:text.rindex('checked 1 file: ')]


def test_rule_files_cannot_read_outside_the_rules_folder(tmp_path):
    d = tmp_path / 'rules'
    d.mkdir()
    (tmp_path / 'secret.csv').write_text('group_id\nG1\n')
    (d / 'leak.strat').write_text('input c { id : text key }\nlet s = load "../secret.csv" column group_id\n'
                                  'decide ok : bool { when id in s -> true else -> false }\n', encoding='utf-8')
    s = Service(d, expect_start=False)
    check = diagnostics_of(d / 'leak.strat')
    assert '[outside-root]' in check and '`../secret.csv` is outside the rules root' in check
    assert s.finish() == (1, 'stratum serve: rule set `leak` (%s/leak.strat) cannot be served:\n' % d + check +
                          'stratum serve: fix the rule sets above (stratum check shows the same), then start again\n')
    # A rule file that is a link to outside the folder is not served either.
    (d / 'leak.strat').unlink()
    outside = tmp_path / 'outside.strat'
    outside.write_text('input c { id : text key }\ndecide ok : bool { when id == "x" -> true else -> false }\n')
    (d / 'linked.strat').symlink_to(outside)
    s = Service(d, expect_start=False)
    assert s.finish() == (1, 'stratum serve: rule set `linked` ({0}/linked.strat) cannot be served:\n'
                             '{0}/linked.strat leads outside the rules directory {0}: it is not served\n'
                             'stratum serve: fix the rule sets above (stratum check shows the same), then start again\n'.format(d))


def test_a_rules_folder_with_an_error_does_not_start(tmp_path):
    d = tmp_path / 'rules'
    d.mkdir()
    (d / 'bad.strat').write_text('input c { id : text key }\ndecide ok : bool { when nope -> true else -> false }\n')
    s = Service(d, expect_start=False)
    check = diagnostics_of(d / 'bad.strat')
    assert s.finish() == (1, 'stratum serve: rule set `bad` (%s/bad.strat) cannot be served:\n' % d + check +
                          'stratum serve: fix the rule sets above (stratum check shows the same), then start again\n')


# Reloading ----------------------------------------------------------------

def test_sighup_reloads_and_a_version_with_errors_is_refused(service, rules_dir):
    before = listing(service, 'sme_size')['hash']
    path = rules_dir / 'sme_size.strat'
    original = path.read_text(encoding='utf-8')
    # A changed valid version: version "2011" becomes "2011b".
    path.write_text(original.replace('version "2011"', 'version "2011b"'), encoding='utf-8')
    service.proc.send_signal(signal.SIGHUP)
    assert service.wait_for(lambda: listing(service, 'sme_size')['version'] == '2011b')
    changed = listing(service, 'sme_size')['hash']
    assert changed != before
    # corporate_segments imports sme_size.strat: it is reloaded too.
    assert service.wait_for(lambda: any(e['ruleset'] == 'corporate_segments' for e in service.events('reloaded')))
    # A version with an error is refused; the last good one keeps serving.
    path.write_text(original.replace('version "2011"', 'version "2012"') + '\ndecide broken : bool { when nope -> true else -> false }\n',
                    encoding='utf-8')
    service.proc.send_signal(signal.SIGHUP)
    assert service.wait_for(lambda: listing(service, 'sme_size')['last_reload_error'] is not None)
    r = listing(service, 'sme_size')
    assert (r['version'], r['hash'], r['serving']) == ('2011b', changed, True)
    diagnostics = r['last_reload_error']['diagnostics']
    assert 'error: unknown name `nope`' in diagnostics and diagnostics.count(' error: ') == 1
    # The listing changes as soon as sme_size is refused; the events of a
    # reload are logged once every rule set of the folder is reloaded.
    assert service.wait_for(lambda: any(e['ruleset'] == 'sme_size' for e in service.events('reload_refused')))
    refusal = [e for e in service.events('reload_refused') if e['ruleset'] == 'sme_size'][-1]
    assert refusal['diagnostics'] == diagnostics and refusal['serving_hash'] == changed
    status, _, text = service.request('POST', '/v1/rulesets/sme_size/decide', SME, JSON)
    assert status == 200 and '"version":"2011b","hash":"%s"' % changed in text
    _, _, metrics = service.request('GET', '/metrics')
    assert metric(metrics, 'stratum_reload_failures_total{ruleset="sme_size"}') >= 1
    assert metric(metrics, 'stratum_reloads_total{ruleset="sme_size"}') == 1
    # Back to the original: served again, the error cleared.
    path.write_text(original, encoding='utf-8')
    service.proc.send_signal(signal.SIGHUP)
    assert service.wait_for(lambda: listing(service, 'sme_size')['hash'] == before)
    assert listing(service, 'sme_size')['last_reload_error'] is None


def test_a_changed_file_is_reloaded_without_a_signal(service, rules_dir):
    before = listing(service, 'sme_size')['hash']
    path = rules_dir / 'sme_size.strat'
    tmp = rules_dir / '.sme_size.strat.new'
    tmp.write_text(path.read_text(encoding='utf-8').replace('version "2011"', 'version "2011w"'), encoding='utf-8')
    os.replace(tmp, path)
    assert service.wait_for(lambda: listing(service, 'sme_size')['version'] == '2011w')
    assert listing(service, 'sme_size')['hash'] != before
    # A new rule file is served; a removed one is no longer.
    (rules_dir / 'tiny.strat').write_text('ruleset "tiny" version "1"\ninput c { id : text key  n : int }\n'
                                          'decide big : bool { when n > 10 -> true else -> false }\n')
    assert service.wait_for(lambda: service.json('POST', '/v1/rulesets/tiny/decide', '{"id":"a","n":11}')[0] == 200)
    assert service.json('POST', '/v1/rulesets/tiny/decide', '{"id":"a","n":11}')[1]['decision'] == {'id': 'a', 'big': True}
    (rules_dir / 'tiny.strat').unlink()
    assert service.wait_for(lambda: service.json('POST', '/v1/rulesets/tiny/decide', '{}')[0] == 404)


def test_sigterm_drains_the_requests_in_flight(rules_dir):
    # The drain waits for answers being written up to --request-timeout +
    # --idle-timeout + 5 s; a slow (sanitized, loaded) build needs more than
    # the default for 20,000 explained records.
    s = Service(rules_dir, '--request-timeout', '120')
    records = corporate_records(2000)
    body = ('[' + ','.join(records * 10) + ']').encode('utf-8')  # 20,000 records
    results = {}

    def send():
        conn = s.connection(timeout=120)
        conn.request('POST', '/v1/rulesets/corporate_segments/decide?explain=true', body=body, headers=JSON)
        res = conn.getresponse()
        results['status'] = res.status
        results['body'] = json.loads(res.read())

    t = threading.Thread(target=send)
    t.start()
    assert s.wait_for(lambda: False, 0.0) is False
    time.sleep(0.3)  # the request is being read or decided
    assert s.stop(timeout=120) == 0
    t.join(120)
    assert results['status'] == 200
    assert results['body']['records'] == 20000 and len(results['body']['results']) == 20000
    assert [e['event'] for e in s.log if e['event'] in ('draining', 'stopped')] == ['draining', 'stopped']


def test_usage_errors(tmp_path):
    def run(*args):
        r = subprocess.run([STRATUM, 'serve', *args], capture_output=True, text=True, timeout=30)
        return r.returncode, r.stderr.splitlines()[0] if r.stderr else ''
    assert run() == (2, 'stratum serve: name the folder of rule sets: stratum serve RULES_DIR')
    assert run(str(tmp_path / 'none')) == (2, 'stratum serve: %s is not a folder: name the folder that holds the rule sets to serve' % (tmp_path / 'none'))
    assert run(str(tmp_path), '--listen', '8080') == (2, 'stratum serve: --listen 8080: expected HOST:PORT, e.g. 127.0.0.1:8080')
    assert run(str(tmp_path), '--listen', '127.0.0.1:99999') == (2, 'stratum serve: --listen 127.0.0.1:99999: the port is a whole number from 0 to 65535')
    assert run(str(tmp_path), '--threads', '0') == (2, 'stratum serve: --threads takes a whole number from 1 to 4096')
    assert run(str(tmp_path), '--tls-cert', 'x.pem') == (2, 'stratum serve: --tls-cert and --tls-key go together: give both (PEM files) or neither')
    assert run(str(tmp_path)) == (1, 'stratum serve: %s holds no rule set (*.strat files, or folders of them)' % tmp_path)


def test_a_large_batch_decided_on_every_core_answers_as_one_thread_does(service, rules_dir, tmp_path):
    # 3,000 records, about 2 MB: located first and decided on every core, joined in order.
    base = corporate_records(1000)
    records = [r.replace('"id":"C', '"id":"R%d-C' % k) for k in range(3) for r in base]
    records[4] = records[4].replace('"信贷余额":', '"信贷余额":-', 1)
    records[2500] = re.sub(r'"信贷余额":[0-9.]+,', '', records[2500])
    decided, rejected = eval_lines(rules_dir / 'corporate_segments.strat', records, tmp=tmp_path)
    assert len(decided) + len(rejected) == 3000 and len(rejected) >= 2
    by_record = {json.loads(r)['record']: r for r in rejected}
    items, d = [], iter(decided)
    for n in range(1, 3001):
        items.append('{"rejected":%s}' % by_record[n] if n in by_record else '{"decision":%s}' % next(d))
    expected = head(service, 'corporate_segments') + ',"records":3000,"decided":%d,"rejected":%d,"results":[' % (
        len(decided), len(rejected)) + ','.join(items) + ']}\n'
    status, _, text = service.request('POST', '/v1/rulesets/corporate_segments/decide', '\n'.join(records) + '\n', JSON)
    assert status == 200
    assert text == expected
    # As an array, one record per line after the `[` line: lines shift by one.
    status, _, text = service.request('POST', '/v1/rulesets/corporate_segments/decide', '[\n' + ',\n'.join(records) + '\n]', JSON)
    assert status == 200
    assert text == re.sub(r'"line":(\d+)', lambda m: '"line":%d' % (int(m.group(1)) + 1), expected)


def test_a_large_batch_with_a_fault_deep_inside_is_refused_exactly(service):
    records = corporate_records(1000) * 3
    bad = list(records)
    bad[2700] = bad[2700].replace('{"id":', '{"id":"dup","id":', 1)
    assert service.json('POST', '/v1/rulesets/corporate_segments/decide', '\n'.join(bad), JSON) == (
        400, {'error': 'malformed JSON', 'message': 'invalid JSON at line 2701, column 13: key "id" appears twice',
              'record': 2701, 'line': 2701})
    bad = list(records)
    bad[2800] = bad[2800][:-1]  # the closing brace gone
    # The object runs on into the next line, where `,` or `}` is expected and `{` found.
    assert service.json('POST', '/v1/rulesets/corporate_segments/decide', '\n'.join(bad), JSON) == (
        400, {'error': 'malformed JSON', 'message': "invalid JSON at line 2802, column 1: expected ',' or '}'",
              'record': 2801, 'line': 2802})
