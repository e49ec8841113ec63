// Renders docs/images/editor.png: a shipped rule file as the extension shows
// it — highlighted by editors/vscode's grammar (vscode-textmate, VS Code's
// Dark+ colours), with the diagnostic and the hover `stratum lsp` answers for
// a misspelt name. Not a VS Code window: the grammar's tokens and the
// server's answers, drawn as VS Code draws them. By hand, after `make`:
//   sh tests/editor/run.sh build/editor-test   (installs the npm packages once)
//   cp tests/editor/render_screenshot.mjs build/editor-test/ && node build/editor-test/render_screenshot.mjs build/stratum
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');
const root = process.env.STRATUM_ROOT || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.resolve(process.argv[2] || path.join(root, 'build', 'stratum'));

await oniguruma.loadWASM(fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer);
const grammarPath = path.join(root, 'editors', 'vscode', 'syntaxes', 'stratum.tmLanguage.json');
const registry = new vsctm.Registry({
  onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
  loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath),
});
const grammar = await registry.loadGrammar('source.stratum');

// The file: rules/corporate_segments.strat from its segment tree, with `所属市场` misspelt.
const shipped = fs.readFileSync(path.join(root, 'rules', 'corporate_segments.strat'), 'utf8');
const text = shipped.replace('when 所属市场 == 机构', 'when 所属巿场 == 机构');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stratum-shot-'));
for (const f of fs.readdirSync(path.join(root, 'rules'))) {
  const p = path.join(root, 'rules', f);
  if (fs.statSync(p).isFile()) fs.copyFileSync(p, path.join(dir, f));
}
fs.cpSync(path.join(root, 'rules', 'data'), path.join(dir, 'data'), { recursive: true });
const file = path.join(dir, 'corporate_segments.strat');
fs.writeFileSync(file, text);
const uri = 'file://' + file.split('/').map(encodeURIComponent).join('/');

// Ask the server, as the extension does.
const lsp = spawn(bin, ['lsp', '--stdio']);
let buffer = Buffer.alloc(0);
const waiting = [];
lsp.stdout.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.slice(0, end).toString())[1]);
    if (buffer.length < end + 4 + length) return;
    const msg = JSON.parse(buffer.slice(end + 4, end + 4 + length).toString());
    buffer = buffer.slice(end + 4 + length);
    const i = waiting.findIndex((w) => w.match(msg));
    if (i >= 0) waiting.splice(i, 1)[0].resolve(msg);
  }
});
const send = (m) => { const b = Buffer.from(JSON.stringify(m)); lsp.stdin.write(`Content-Length: ${b.length}\r\n\r\n`); lsp.stdin.write(b); };
const expect = (match) => new Promise((resolve) => waiting.push({ match, resolve }));
let id = 0;
const request = (method, params) => { const my = ++id; send({ jsonrpc: '2.0', id: my, method, params }); return expect((m) => m.id === my); };

await request('initialize', { capabilities: {} });
const published = expect((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri);
send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'stratum', version: 1, text } } });
const diagnostics = (await published).params.diagnostics;
const lines = text.split('\n');
const hoverLine = lines.findIndex((l) => l.includes('when 信贷余额 > 0元'));
const hover = (await request('textDocument/hover', { textDocument: { uri }, position: { line: hoverLine, character: lines[hoverLine].indexOf('信贷余额') + 1 } })).result;
send({ jsonrpc: '2.0', id: ++id, method: 'shutdown', params: null });
send({ jsonrpc: '2.0', method: 'exit', params: null });

// Draw it.
const colours = [
  ['comment', '#6A9955'], ['string', '#CE9178'], ['constant.numeric', '#B5CEA8'], ['constant.language', '#569CD6'],
  ['storage.type', '#569CD6'], ['keyword.operator.word', '#569CD6'], ['keyword.control', '#C586C0'], ['keyword.other', '#C586C0'],
  ['keyword.operator', '#D4D4D4'], ['support.function', '#DCDCAA'], ['variable', '#9CDCFE'],
];
const colour = (scopes) => { for (const [s, c] of colours) if (scopes.some((x) => x.startsWith(s))) return c; return '#D4D4D4'; };
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const first = Math.max(0, hoverLine - 2), last = Math.min(lines.length, first + 14);
const diag = diagnostics[0];
let state = vsctm.INITIAL, rows = '';
for (let i = 0; i < last; i++) {
  const r = grammar.tokenizeLine(lines[i], state);
  state = r.ruleStack;
  if (i < first) continue;
  let html = '';
  for (const t of r.tokens) {
    let piece = esc(lines[i].slice(t.startIndex, t.endIndex));
    const squiggle = diag && diag.range.start.line === i && t.startIndex < diag.range.end.character && t.endIndex > diag.range.start.character;
    html += `<span style="color:${colour(t.scopes)}"${squiggle ? ' class="squiggle"' : ''}>${piece}</span>`;
  }
  rows += `<div class="line"><span class="no">${i + 1}</span>${html || '&nbsp;'}</div>`;
  if (i === hoverLine && hover) {
    rows += `<div class="hover">${esc(hover.contents.value).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>').replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\n/g, '<br>')}</div>`;
  }
}
const problems = diagnostics.map((d) => `<div class="problem"><span class="err">⊗</span> ${esc(d.message.split('\n')[0])} <span class="dim">stratum(${esc(d.code)}) [Ln ${d.range.start.line + 1}, Col ${d.range.start.character + 1}]</span><br><span class="dim">${esc(d.message.split('\n').slice(1).join(' '))}</span></div>`).join('');
const page = `<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:#1e1e1e;font:14px/20px "Noto Sans Mono CJK SC","Noto Sans CJK SC",monospace;color:#d4d4d4;width:1100px}
.tab{background:#252526;color:#fff;padding:6px 14px;font-family:sans-serif;font-size:13px}
.line{white-space:pre;padding-left:8px}.no{display:inline-block;width:40px;color:#858585;text-align:right;margin-right:18px}
.squiggle{text-decoration:underline wavy #f14c4c;text-decoration-skip-ink:none}
.hover{margin:2px 0 6px 66px;background:#252526;border:1px solid #454545;padding:8px 12px;width:560px;font-family:sans-serif;font-size:13px}
.hover code{font-family:monospace;color:#9cdcfe}
.panel{border-top:1px solid #414141;margin-top:8px;padding:6px 14px;font-family:sans-serif;font-size:13px}
.problem{padding:3px 0}.err{color:#f14c4c}.dim{color:#8b8b8b}
</style><div class="tab">corporate_segments.strat — rendered from editors/vscode's grammar and stratum lsp's answers</div>${rows}
<div class="panel"><b>PROBLEMS</b>${problems}</div>`;
const htmlPath = path.join(dir, 'editor.html');
fs.writeFileSync(htmlPath, page);
const out = path.join(root, 'docs', 'images', 'editor.png');
fs.mkdirSync(path.dirname(out), { recursive: true });
execFileSync('chromium', ['--headless=new', '--no-sandbox', '--hide-scrollbars', `--screenshot=${out}`, '--window-size=1100,720', `file://${htmlPath}`], { stdio: 'ignore' });
console.log(`wrote ${out}`);
fs.rmSync(dir, { recursive: true, force: true });
