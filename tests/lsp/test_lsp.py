"""The language server, driven as an editor drives it: JSON-RPC over the
stdio of `stratum lsp` (Python's standard library only).

A shipped rule file is opened, an error introduced, and the answers checked
whole: the diagnostics, hover, definition, references, completion, symbols,
formatting and the quick fix; then the error is fixed and the diagnostics
clear. STRATUM_BIN names the binary.
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get('STRATUM_BIN', str(ROOT / 'build' / 'stratum'))


class Client:
    def __init__(self):
        self.proc = subprocess.Popen([BIN, 'lsp'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.next_id = 0
        self.notifications = []

    def send(self, message):
        body = json.dumps(message, ensure_ascii=False).encode('utf-8')
        self.proc.stdin.write(b'Content-Length: %d\r\n\r\n' % len(body) + body)
        self.proc.stdin.flush()

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError('the server closed its output')
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b':')
            if name.lower() == b'content-length':
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({'jsonrpc': '2.0', 'id': self.next_id, 'method': method, 'params': params})
        while True:
            message = self.read()
            if message.get('id') == self.next_id and 'method' not in message:
                return message
            self.notifications.append(message)

    def notify(self, method, params):
        self.send({'jsonrpc': '2.0', 'method': method, 'params': params})

    def diagnostics(self, uri, version):
        """The next diagnostics published for `uri` at `version` (reading until they come).

        The server publishes what the checker says at once, and when the text
        checks clean, what the checker and the analysis say (gaps, overlaps)
        once the analysis is done: the next call returns those. Other
        versions' are passed over."""
        while True:
            for i, n in enumerate(self.notifications):
                if n.get('method') == 'textDocument/publishDiagnostics' and n['params']['uri'] == uri:
                    del self.notifications[i]
                    if n['params'].get('version') == version:
                        return n['params']['diagnostics']
                    break
            else:
                self.notifications.append(self.read())

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


def uri_of(path):
    from urllib.parse import quote
    return 'file://' + quote(str(path))


class LanguageServer(unittest.TestCase):
    def setUp(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix='stratum-lsp-'))
        self.client = Client()
        init = self.client.request('initialize', {'processId': None, 'rootUri': uri_of(self.dir), 'capabilities': {}})
        self.caps = init['result']['capabilities']
        self.client.notify('initialized', {})

    def tearDown(self):
        self.client.close()
        shutil.rmtree(self.dir)

    def open(self, name, text):
        path = self.dir / name
        path.write_text(text, encoding='utf-8')
        uri = uri_of(path)
        self.client.notify('textDocument/didOpen', {'textDocument': {'uri': uri, 'languageId': 'stratum', 'version': 1, 'text': text}})
        return uri

    def change(self, uri, text, version):
        self.client.notify('textDocument/didChange', {'textDocument': {'uri': uri, 'version': version},
                                                      'contentChanges': [{'text': text}]})

    @staticmethod
    def position(text, needle, nth=0, offset=0):
        """The LSP position (line, UTF-16 unit) of the nth occurrence of needle, plus offset characters."""
        at = -1
        for _ in range(nth + 1):
            at = text.index(needle, at + 1)
        at += offset
        line = text.count('\n', 0, at)
        start = text.rfind('\n', 0, at) + 1
        return {'line': line, 'character': len(text[start:at].encode('utf-16-le')) // 2}

    def test_capabilities(self):
        self.assertEqual(self.caps, {
            'textDocumentSync': {'openClose': True, 'change': 1, 'save': False},
            'hoverProvider': True, 'definitionProvider': True, 'referencesProvider': True,
            'completionProvider': {'triggerCharacters': ['.']},
            'documentSymbolProvider': True, 'documentFormattingProvider': True,
            'codeActionProvider': {'codeActionKinds': ['quickfix']}})

    def test_shipped_file_error_then_fixed(self):
        shipped = (ROOT / 'rules' / 'sme_size.strat').read_text(encoding='utf-8')
        uri = self.open('sme_size.strat', shipped)
        self.assertEqual(self.client.diagnostics(uri, 1), [])   # checked
        self.assertEqual(self.client.diagnostics(uri, 1), [])  # and analysed
        # an error as an author makes it: a misspelt field in the table's columns
        broken = shipped.replace('| employees |', '| employes  |', 1)
        self.assertTrue(broken != shipped, 'the shipped file no longer has the column this test misspells')
        self.change(uri, broken, 2)
        diags = self.client.diagnostics(uri, 2)
        where = self.position(broken, 'employes')
        self.assertEqual([(d['range']['start'], d['severity'], d['code'], d['message'].split('\n')[0]) for d in diags],
                         [(where, 1, 'unknown-name', 'unknown name `employes`')])
        self.assertIn('did you mean `employees`?', diags[0]['message'])
        # the quick fix puts the suggestion in
        actions = self.client.request('textDocument/codeAction', {
            'textDocument': {'uri': uri}, 'range': diags[0]['range'], 'context': {'diagnostics': diags}})['result']
        self.assertEqual([(a['title'], a['kind'], a['edit']['changes'][uri][0]['newText']) for a in actions],
                         [('Replace with `employees`', 'quickfix', 'employees')])
        self.change(uri, shipped, 3)
        self.assertEqual(self.client.diagnostics(uri, 3), [])

    def test_hover_definition_references(self):
        text = ('enum 档 { 高, 低 }\n'
                'input c { id : text key  存款 : money? in 万  # 日均存款\n'
                '          利用率 : decimal }\n'
                '# 门槛: 分行可调\n'
                'let 门槛 = 50万\n'
                'decide 级别 : 档 { when 存款 is present and 存款 >= 门槛 -> 高  else -> 低 }\n'
                'segments 客户 { when 级别 == 高 -> 重点  else -> 一般 }\n'
                'plan 重点 { 服务 = "专属" }\n'
                'test "高" { given { 存款: 60万, 利用率: 0.5 } expect { 级别: 高, segment: 重点, plan.服务: "专属" } }\n')
        uri = self.open('hover.strat', text)
        self.assertEqual(self.client.diagnostics(uri, 1), [])

        def hover(needle, nth=0):
            r = self.client.request('textDocument/hover', {'textDocument': {'uri': uri}, 'position': self.position(text, needle, nth, 1)})
            return r['result']['contents']['value'] if r['result'] else None

        self.assertEqual(hover('存款', 2), '**field** `存款` : money? in 万\n\n 日均存款')
        self.assertEqual(hover('门槛', 2), '**let** `门槛` : money\n```strat\nlet 门槛 = 50万\n```\n\n 门槛: 分行可调')
        self.assertEqual(hover('级别', 1), '**decision** `级别` : 档\n\ncomputed by a decide')
        self.assertEqual(hover('高', 2), '**value** `高` : value of enum 档')
        self.assertEqual(hover('重点', 1), '**segment** `重点` : leaf\n\n客户/重点')
        self.assertEqual(hover('服务'), '**plan item** `服务` : text\n\na service plan item')
        self.assertIsNone(hover('when'))

        definition = self.client.request('textDocument/definition', {'textDocument': {'uri': uri}, 'position': self.position(text, '门槛', 2, 1)})
        self.assertEqual(definition['result'], {'uri': uri, 'range': {'start': self.position(text, '门槛', 1), 'end': self.position(text, '门槛', 1, 2)}})
        refs = self.client.request('textDocument/references', {'textDocument': {'uri': uri}, 'position': self.position(text, '存款', 2),
                                                                'context': {'includeDeclaration': True}})
        self.assertEqual([r['range']['start'] for r in refs['result']],
                         [self.position(text, '存款', n) for n in (0, 2, 3, 4)])  # not the comment's 日均存款

    def test_completion_and_symbols(self):
        text = ('enum 档 { 高, 低 }\n'
                'input c { 存款 : money }\n'
                'let 门槛 = 50万\n'
                'decide 级别 : 档 { when 存款 >= 门槛 -> 高  else -> 低 }\n'
                'segments 客户 { when 级别 == 高 -> 重点  else -> 一般 }\n'
                'plan 重点 { 服务 = "专属" }\n'
                'test "t" { given { 存款: 1元 } expect { 级别: 低 } }\n')
        uri = self.open('complete.strat', text)
        self.assertEqual(self.client.diagnostics(uri, 1), [])
        # after `档.`: the enum's values only
        typed = text + 'let x = 档.'
        self.change(uri, typed, 2)
        self.client.diagnostics(uri, 2)
        items = self.client.request('textDocument/completion', {'textDocument': {'uri': uri}, 'position': self.position(typed, '档.', 0, 2)})['result']['items']
        self.assertEqual([(i['label'], i['kind']) for i in items], [('高', 20), ('低', 20)])
        items = self.client.request('textDocument/completion', {'textDocument': {'uri': uri}, 'position': self.position(typed, 'let x', 0, 0)})['result']['items']
        labels = [i['label'] for i in items]
        for expected in ('存款', '门槛', '级别', '档', '高', '重点', '服务', 'when', 'money'):
            self.assertIn(expected, labels)
        self.change(uri, text, 3)
        self.client.diagnostics(uri, 3)
        symbols = self.client.request('textDocument/documentSymbol', {'textDocument': {'uri': uri}})['result']

        def outline(s):
            return (s['name'], s['kind'], [outline(c) for c in s['children']])
        self.assertEqual([outline(s) for s in symbols], [
            ('档', 10, [('高', 22, []), ('低', 22, [])]),
            ('c', 23, [('存款', 8, [])]),
            ('门槛', 14, []),
            ('级别', 12, []),
            ('服务', 7, []),
            ('t', 24, []),
            ('客户', 5, [('重点', 5, []), ('一般', 5, [])]),
        ])

    def test_formatting_and_gaps(self):
        text = ('enum 档 { 高, 低 }\n'
                'input c { 存款 : money }\n'
                'table 级别 : 档 first {\n'
                '  存款 || 级别\n'
                '  >= 50万 || 高\n'
                '  < 10万 || 低\n'
                '}\n')
        uri = self.open('gap.strat', text)
        self.assertEqual(self.client.diagnostics(uri, 1), [])  # the checker finds nothing
        diags = self.client.diagnostics(uri, 1)             # the analysis finds the gap
        self.assertEqual([(d['code'], d['severity'], d['message']) for d in diags],
                         [('gap', 1, 'no row of table `级别` applies to some customers, and there is no `else` or catch-all row\n'
                                     'for example: { 存款: 100000元 }')])
        edits = self.client.request('textDocument/formatting', {'textDocument': {'uri': uri}, 'options': {'tabSize': 2, 'insertSpaces': True}})['result']
        self.assertEqual(len(edits), 1)
        self.assertEqual(edits[0]['newText'], text.replace('  存款 || 级别\n  >= 50万 || 高\n  < 10万 || 低\n',
                                                           '  存款    || 级别\n  >= 50万 || 高\n  < 10万  || 低\n'))

    def test_hover_on_a_table_row_names_the_rows_that_shadow_it(self):
        text = ('enum 档 { 高, 中, 低 }\n'
                'input c { 存款 : money  利用率 : decimal }\n'
                'table 档位 : 档 first {\n'
                '  存款     | 利用率 || 档位\n'
                '  >= 100万 | -      || 高\n'
                '  >= 50万  | >= 50% || 中\n'
                '  < 50万   | -      || 低\n'
                '  -        | -      || 低\n'
                '}\n')
        uri = self.open('rows.strat', text)
        self.client.diagnostics(uri, 1)

        def hover(needle):
            r = self.client.request('textDocument/hover', {'textDocument': {'uri': uri}, 'position': self.position(text, needle, 0, 1)})
            return r['result']['contents']['value']
        tail = '\n\n(Judged column by column; `stratum check` proves what can never apply.)'
        self.assertEqual(hover('>= 100万'), '**row** of `档位`, line 5\n\nNo row before it can take any of its customers.' + tail)
        self.assertEqual(hover('>= 50万'), '**row** of `档位`, line 6\n\nShadowed in part: the row at line 5 comes first and can take some of its customers.' + tail)
        self.assertEqual(hover('< 50万'), '**row** of `档位`, line 7\n\nNo row before it can take any of its customers.' + tail)
        self.assertEqual(hover('-        |'), '**row** of `档位`, line 8\n\nShadowed in part: the rows at lines 5, 6, 7 come first and can take some of its customers.' + tail)

    def test_every_open_file_gets_its_analysis(self):
        gap = ('input c { a : int }\n'
               'table t : int unique {\n'
               '  a     || t\n'
               '  >= 10 || 1\n'
               '  < 5   || 2\n'
               '}\n')
        uris = [self.open(f'gap{i}.strat', gap) for i in range(3)]
        for uri in uris:
            self.assertEqual(self.client.diagnostics(uri, 1), [])  # the checker's
        for uri in uris:
            self.assertEqual([d['code'] for d in self.client.diagnostics(uri, 1)], ['gap'])  # the analysis's, each

    def test_imports_are_followed(self):
        (self.dir / 'common.strat').write_text('enum 档 { 高, 低 }\nlet 门槛 = 50万\n', encoding='utf-8')
        text = 'import "common.strat"\ninput c { 存款 : money }\ndecide 级别 : 档 { when 存款 >= 门槛 -> 高  else -> 低 }\n'
        uri = self.open('main.strat', text)
        self.assertEqual(self.client.diagnostics(uri, 1), [])
        definition = self.client.request('textDocument/definition', {'textDocument': {'uri': uri}, 'position': self.position(text, '门槛', 0, 1)})
        self.assertEqual(definition['result']['uri'], uri_of(self.dir / 'common.strat'))
        self.assertEqual(definition['result']['range']['start'], {'line': 1, 'character': 4})

    def test_bad_messages_and_shutdown(self):
        self.client.send_raw(b'Content-Length: 5\r\n\r\n{oops')
        self.assertEqual(self.client.read(), {'jsonrpc': '2.0', 'id': None, 'error': {'code': -32700, 'message': 'not JSON'}})
        r = self.client.request('textDocument/unknown', {})
        self.assertEqual(r['error']['code'], -32601)
        r = self.client.request('textDocument/hover', {'textDocument': {}})
        self.assertEqual(r['error']['code'], -32602)
        r = self.client.request('textDocument/hover', {'textDocument': {'uri': 'file:///nowhere.strat'}, 'position': {'line': 0, 'character': 0}})
        self.assertEqual(r['result'], None)
        self.assertEqual(self.client.request('shutdown', None)['result'], None)
        self.client.notify('exit', None)
        self.assertEqual(self.client.proc.wait(timeout=10), 0)

    def test_exit_without_shutdown(self):
        self.client.notify('exit', None)
        self.assertEqual(self.client.proc.wait(timeout=10), 1)


if __name__ == '__main__':
    unittest.main()
