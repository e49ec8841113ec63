// editors/vscode's TextMate grammar, tokenized with vscode-textmate and
// vscode-oniguruma (the engine VS Code uses), checked two ways:
//  1. a golden of every token of editors/vscode/test/sample.strat (every
//     construct of the language); STRATUM_UPDATE_GOLDEN=1 rewrites it;
//  2. every .strat file of the tree (the shipped rules, the goldens, the
//     examples) against an independent reading of the same text: comments
//     and strings where a quote-aware scan finds them, 万/亿/元 amounts as
//     money, every keyword as a keyword, nothing marked invalid.
// Prints "N passed, N failed" and exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.STRATUM_ROOT || path.resolve(here, '..', '..');
const grammarPath = path.join(root, 'editors', 'vscode', 'syntaxes', 'stratum.tmLanguage.json');

const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
await oniguruma.loadWASM(wasm);
const registry = new vsctm.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  }),
  loadGrammar: async (scope) =>
    scope === 'source.stratum' ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null,
});
const grammar = await registry.loadGrammar('source.stratum');

function tokenize(text) {
  const out = [];
  let state = vsctm.INITIAL;
  text.split(/\r?\n/).forEach((line, i) => {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      const scopes = t.scopes.filter((s) => s !== 'source.stratum');
      out.push({ line: i, start: t.startIndex, end: t.endIndex, text: line.slice(t.startIndex, t.endIndex), scopes });
    }
    state = r.ruleStack;
  });
  return out;
}

let passed = 0;
const failures = [];
function check(ok, what) {
  if (ok) passed++;
  else failures.push(what);
}

// 1. the golden
const samplePath = path.join(root, 'editors', 'vscode', 'test', 'sample.strat');
const goldenPath = path.join(root, 'editors', 'vscode', 'test', 'sample.tokens');
const rendered = tokenize(fs.readFileSync(samplePath, 'utf8'))
  .filter((t) => t.text.trim() !== '')
  .map((t) => `${t.line + 1}:${t.start + 1} ${JSON.stringify(t.text)} ${t.scopes.join(' ') || '-'}`)
  .join('\n') + '\n';
if (process.env.STRATUM_UPDATE_GOLDEN === '1') fs.writeFileSync(goldenPath, rendered);
const golden = fs.existsSync(goldenPath) ? fs.readFileSync(goldenPath, 'utf8') : '';
if (golden !== rendered) {
  const a = golden.split('\n'), b = rendered.split('\n');
  let k = 0;
  while (k < a.length && a[k] === b[k]) k++;
  check(false, `sample.tokens differs at line ${k + 1}: expected ${JSON.stringify(a[k])}, got ${JSON.stringify(b[k])}`);
} else {
  check(true);
}

// 2. every rule file, against an independent scan
const KEYWORDS = ['ruleset', 'version', 'extends', 'import', 'load', 'enum', 'input', 'let', 'decide', 'private', 'override', 'table', 'grid',
  'scorecard', 'segments', 'plan', 'capacity', 'stability', 'fixed', 'effective', 'test', 'when', 'else', 'reject', 'given', 'expect', 'factor', 'weight', 'multiply',
  'bonus', 'and', 'or', 'not', 'in', 'is', 'present', 'missing', 'contains', 'true', 'false', 'today', 'first', 'unique',
  'priority', 'collect'];
const identChar = /[\p{L}\p{N}_]/u;

function files(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.name.endsWith('.strat')) out.push(p);
  }
  return out;
}
const all = [...files(path.join(root, 'rules')), ...files(path.join(root, 'tests', 'golden')), ...files(path.join(root, 'examples'))];

// What a character of a line is, by a quote-aware scan: 'c' comment, 's' string, ' ' other.
function classes(line) {
  const out = [];
  let quoted = false, comment = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (comment) { out.push('c'); continue; }
    if (quoted) {
      out.push('s');
      if (ch === '\\' && i + 1 < line.length) { out.push('s'); i++; continue; }
      if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '#') { comment = true; out.push('c'); continue; }
    if (ch === '"') { quoted = true; out.push('s'); continue; }
    out.push(' ');
  }
  return out;
}

for (const file of all) {
  const rel = path.relative(root, file);
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split(/\r?\n/);
  const tokens = tokenize(text);
  const problems = [];
  const byLine = new Map();
  for (const t of tokens) {
    if (!byLine.has(t.line)) byLine.set(t.line, []);
    byLine.get(t.line).push(t);
    if (t.scopes.some((s) => s.startsWith('invalid.'))) problems.push(`${t.line + 1}:${t.start + 1} ${t.text} is marked invalid`);
  }
  lines.forEach((line, i) => {
    const cls = classes(line);
    const scopeAt = new Array(line.length).fill(null);
    for (const t of byLine.get(i) || []) for (let k = t.start; k < t.end; k++) scopeAt[k] = t.scopes;
    for (let k = 0; k < line.length && problems.length < 5; k++) {
      const scopes = scopeAt[k] || [];
      const isComment = scopes.some((s) => s.startsWith('comment.'));
      const isString = scopes.some((s) => s.startsWith('string.'));
      if ((cls[k] === 'c') !== isComment) problems.push(`${i + 1}:${k + 1} ${cls[k] === 'c' ? 'comment not scoped as one' : 'scoped as a comment outside one'}`);
      else if ((cls[k] === 's') !== isString) problems.push(`${i + 1}:${k + 1} ${cls[k] === 's' ? 'string not scoped as one' : 'scoped as a string outside one'}`);
    }
    const code = line.split('').map((ch, k) => (cls[k] === ' ' ? ch : ' ')).join('');
    for (const m of code.matchAll(/\d+(?:\.\d+)?(?:万元|亿元|万|亿|元)/gu)) {
      if (m.index > 0 && /[\p{L}\p{N}_.]/u.test(code[m.index - 1])) continue;
      const scopes = scopeAt[m.index] || [];
      if (!scopes.includes('constant.numeric.money.stratum')) problems.push(`${i + 1}:${m.index + 1} ${m[0]} not money`);
    }
    for (const m of code.matchAll(/[\p{L}_][\p{L}\p{N}_]*/gu)) {
      if (!KEYWORDS.includes(m[0])) continue;
      if (m.index > 0 && identChar.test(code[m.index - 1])) continue;
      if (code[m.index - 1] === '.') continue;  // plan.x, 枚举.值
      const scopes = scopeAt[m.index] || [];
      const ok = scopes.some((s) => s.startsWith('keyword.') || s.startsWith('storage.type.declaration') || s.startsWith('constant.language'));
      if (!ok) problems.push(`${i + 1}:${m.index + 1} keyword ${m[0]} scoped ${scopes.join(' ') || 'as nothing'}`);
    }
  });
  check(problems.length === 0, `${rel}: ${problems.slice(0, 5).join('; ')}`);
}

for (const f of failures) console.log(`FAILED ${f}`);
console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
