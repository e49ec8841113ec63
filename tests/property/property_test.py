#!/usr/bin/python3
"""Differential property test for the Stratum engine (tests/property/).

What it does, for every generated rule file:
  1. generates a random, well-typed rule file whose thresholds sit next to each
     other (enums, int/decimal/money fields with ranges, optional fields, lets,
     decision lists, tables of every hit policy, grids, a segment tree), and
     records (CSV or JSON Lines) on, just below and just above every threshold;
  2. runs `stratum check --diagnostics json` and verifies every proof against a
     slow reference evaluator written from docs/language.md (exact Fractions):
     no record falls through a node that check proved total, no record matches
     two rows of a unique/any table check proved free of overlaps, no record
     takes a row check called unreachable, and every gap/overlap
     counter-example really shows its finding;
  3. patches the nodes with gaps/overlaps (an `else`, a catch-all row, hit
     policy `first`), adds a `collect list` probe table per table (which rows
     match), runs `stratum eval` on the records (and the counter-examples) and
     compares every decided value and every rejection with the reference.

Usage:
  /usr/bin/python3 tests/property/property_test.py [--seed N] [--files N]
         [--only I] [--keep DIR] [--jobs N] [--binary PATH] [--verbose]
Defaults: --seed 20240630, --files 800 (about 35-55 s on 2 cores, ~40,000
records), --jobs = CPU count, --binary build/stratum. --verbose adds totals
(records decided/rejected by reason, findings, counter-examples) and notes.

Every failure prints one line `FAIL seed=S file=I <kind>: <detail>`; the run
ends with `N passed, M failed` (N = rule files whose checks all passed) and
exits 1 when anything failed.

To reproduce a failure: rerun with the same seed and `--only I --keep DIR`;
DIR/seedS-fileI/ then holds original.strat (what `stratum check` saw first),
patched.strat (what `stratum eval` ran), records.csv|jsonl, the engine's
check/eval output (check-*.txt, eval-stdout.jsonl, errors.jsonl,
eval-command.txt) and failures.txt. Every file is generated from its own RNG
seeded by (seed, index), so `--only I` regenerates exactly the same file;
rerun the command in eval-command.txt (or `stratum check original.strat`)
to see the engine's side, and cut the rule file down by hand.

Failure kinds (the word after `file=I`):
  unsound-gap, unsound-overlap, unsound-unreachable   a proof of check is wrong
  engine-unsound-gap/-overlap   eval rejects where check proved it cannot
  cex-wrong, cex-invalid, cex-upstream-gap, unreachable-example(-upstream),
  overlap-not-reported          a finding or its counter-example is wrong
  wrong-value, wrong-rejection, decided-should-reject, rejected-should-decide,
  field-error, field-accepted   eval disagrees with the reference evaluator
  eval-count, eval-record, error-line, error-key, number-format, threads,
  csv-output, input-refused     eval's bookkeeping and output formats
  check-error                   check rejects a file the generator believes valid
  tie-rounding                  a disagreement that needs undocumented rounding
  harness-exception, reference-unguarded   a mistake of this script
The reference evaluator follows docs/language.md; where the docs are silent
it follows what the engine does and says so in a comment (products are
rounded at the 12th place like quotients).
"""

import argparse
import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from decimal import Decimal
from fractions import Fraction
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BINARY = os.path.normpath(os.path.join(HERE, '..', '..', 'build', 'stratum'))

F = Fraction
MISSING = object()


class InternalError(Exception):
    """A mistake of the generator or of the reference evaluator."""


class EvalErr(Exception):
    """A rejection as the language defines it.

    cat: no-branch (decision list), no-row (table or grid), no-seg (segment
    node), unique, any, div0, reject; node: the decision/table/segment node it
    belongs to; detail: reject reason, or the matching rows."""

    def __init__(self, cat, node, detail=None):
        super().__init__(cat, node, detail)
        self.cat, self.node, self.detail = cat, node, detail

    def __repr__(self):
        return 'EvalErr(%s, %s, %r)' % (self.cat, self.node, self.detail)


# ----------------------------------------------------------------------------
# exact decimals
# ----------------------------------------------------------------------------

def terminates(q):
    d = q.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    return d == 1


def frac_digits(q):
    """Number of decimal places of a terminating Fraction."""
    k = 0
    while (q * 10 ** k).denominator != 1:
        k += 1
        if k > 40:
            raise InternalError('non-terminating %r' % q)
    return k


def dec_str(q):
    q = F(q)
    k = frac_digits(q)
    sign = '-' if q < 0 else ''
    v = abs(q.numerator * (10 ** k // q.denominator))
    s = str(v).rjust(k + 1, '0')
    ip, fp = s[:len(s) - k], s[len(s) - k:]
    fp = fp.rstrip('0')
    return sign + ip + ('.' + fp if fp else '')


def round12(q):
    """A quotient: exact when it ends within 12 places, else half-up at the
    12th (half away from zero); returns (value, was_tie)."""
    scaled = q * 10 ** 12
    if scaled.denominator == 1:
        return q, False
    a = abs(scaled)
    fl = a.numerator // a.denominator
    rem = a - fl
    tie = rem == F(1, 2)
    r = fl + 1 if rem >= F(1, 2) else fl
    r = F(r if q > 0 else -r, 10 ** 12)
    return r, tie


def parse_number_text(s):
    if not re.fullmatch(r'-?\d+(\.\d+)?([eE][+-]?\d+)?', s):
        return None
    return F(Decimal(s))


# ----------------------------------------------------------------------------
# the program model
# ----------------------------------------------------------------------------
# types: 'int' 'decimal' 'money' 'bool' 'text' ('enum', E) ('set', E) ('set', 'text')
# expressions:
#   ('num', value, type)            numeric literal
#   ('bool', b) ('text', s) ('enumv', E, v)
#   ('ref', name)
#   ('bin', op, a, b)  op in + - * /
#   ('neg', a) ('coal', a, b) ('call', f, [args])
# conditions:
#   ('cmp', op, a, b) ('present', name) ('missing', name)
#   ('inset', a, [values], neg) ('truth', expr) ('and', a, b) ('or', a, b) ('not', a)
# cells:
#   ('any',) ('cmp', op, v) ('range', loc, lo, hi, hic) ('set', [v], neg) ('eq', v)

NUMERIC = ('int', 'decimal', 'money')


def is_enum(t):
    return isinstance(t, tuple) and t[0] == 'enum'


class Field:
    def __init__(self, name, typ, optional=False, rng=None, alias=None):
        self.name, self.typ, self.optional, self.rng, self.alias = name, typ, optional, rng, alias
        self.thresholds = []

    @property
    def column(self):
        return self.alias or self.name


class Let:
    def __init__(self, name, typ, expr, cond=False, optional=False, failable=False, const=None):
        self.name, self.typ, self.expr, self.cond = name, typ, expr, cond
        self.optional, self.failable, self.const = optional, failable, const
        self.thresholds = []


class DecList:
    kind = 'decide'

    def __init__(self, name, typ, rows, els, private=False):
        self.name, self.typ, self.rows, self.els, self.private = name, typ, rows, els, private
        self.sentinel_else = False

    @property
    def outputs(self):
        return [(self.name, self.typ)]


class Table:
    kind = 'table'

    def __init__(self, name, policy, agg, cols, rows, outs, multi=False):
        self.name, self.policy, self.agg, self.cols = name, policy, agg, cols
        self.rows = rows          # [([cells], [result exprs])]
        self.outs = outs          # [(name, type)]
        self.multi = multi
        self.private = False
        self.probe = False

    @property
    def outputs(self):
        return self.outs


class Grid:
    kind = 'grid'

    def __init__(self, name, typ, rowname, colname, coltests, rows):
        self.name, self.typ, self.rowname, self.colname = name, typ, rowname, colname
        self.coltests, self.rows = coltests, rows    # rows: [(rowtest, [result exprs])]
        self.private = False

    @property
    def outputs(self):
        return [(self.name, self.typ)]


class SegNode:
    def __init__(self, name, branches=None, els=None):
        self.name = name
        self.branches = branches or []   # [(cond, SegNode)]
        self.els = els

    def is_leaf(self):
        return not self.branches and self.els is None

    def walk(self):
        yield self
        for _, ch in self.branches:
            yield from ch.walk()
        if self.els is not None:
            yield from self.els.walk()


class Prog:
    def __init__(self):
        self.enums = []      # [(name, [values])]
        self.sentinel = {}   # enum -> sentinel value
        self.fields = []
        self.lets = []
        self.decisions = []  # DecList / Table / Grid
        self.segments = None
        self.order = None    # render order of lets+decisions (list of objects)

    def enum_values(self, e):
        for n, vs in self.enums:
            if n == e:
                return vs
        raise InternalError('no enum ' + e)

    def enum_of_value(self, v):
        for n, vs in self.enums:
            if v in vs:
                return n
        return None

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def let(self, name):
        for l in self.lets:
            if l.name == name:
                return l
        return None

    def decision_of_output(self, name):
        for d in self.decisions:
            for o, _ in d.outputs:
                if o == name:
                    return d
        return None

    def decision(self, name):
        for d in self.decisions:
            if d.name == name:
                return d
        return None

    def type_of(self, name):
        f = self.field(name)
        if f:
            return f.typ
        l = self.let(name)
        if l:
            return l.typ
        d = self.decision_of_output(name)
        if d:
            for o, t in d.outputs:
                if o == name:
                    return t
        raise InternalError('unknown name ' + name)

    def copy(self):
        import copy
        return copy.deepcopy(self)


# ----------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------

def int_src(v, rng=None):
    s = str(int(v))
    if rng is not None and v >= 0 and rng.random() < 0.1:
        s += rng.choice(['人', '户', '家', '个'])
    return s


def dec_src(v, rng=None):
    if rng is not None and rng.random() < 0.15:
        p = v * 100
        if frac_digits(p) <= 2:
            return dec_str(p) + '%'
    return dec_str(v)


def money_src(v, rng=None):
    opts = [dec_str(v) + '元']
    w = v / 10000
    if frac_digits(w) <= 8:
        opts.append(dec_str(w) + '万')
        if rng is not None and rng.random() < 0.3:
            opts.append(dec_str(w) + '万元')
    y = v / 100000000
    if frac_digits(y) <= 8:
        opts.append(dec_str(y) + '亿')
    if rng is None:
        return opts[-1]
    return rng.choice(opts)


class Renderer:
    def __init__(self, prog, rng):
        self.p = prog
        self.rng = rng          # only for the surface syntax (units, %, parens)
        self.lines = []
        # maps for diagnostics
        self.decl_line = {}     # decision name / segment node -> line
        self.row_lines = {}     # node name -> [line of row i]  (else: key 'else')
        self.else_line = {}
        self.grid_pos = {}      # (line, col) -> ('cell', ri, ci) / ('row', ri) / ('col', ci)
        self.seg_branch_lines = {}   # segnode -> [line of branch i]

    # ---- expressions
    PREC = {'or': 1, 'and': 2, 'not': 3, 'cmp': 4, 'coal': 6, '+': 7, '-': 7, '*': 8, '/': 8, 'neg': 9}

    def lit(self, e, for_cell=False):
        k = e[0]
        if k == 'num':
            v, t = e[1], e[2]
            if t == 'int':
                return int_src(v, self.rng)
            if t == 'decimal':
                return dec_src(v, self.rng)
            return money_src(v, self.rng)
        if k == 'bool':
            return 'true' if e[1] else 'false'
        if k == 'text':
            return '"' + e[1].replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n').replace('\t', '\\t') + '"'
        if k == 'enumv':
            if self.rng.random() < 0.1:
                return e[1] + '.' + e[2]
            return e[2]
        raise InternalError('not a literal %r' % (e,))

    def expr(self, e, parent=0, right=False):
        k = e[0]
        if k in ('num', 'bool', 'text', 'enumv'):
            s = self.lit(e)
            if k == 'num' and s.startswith('-') and parent >= self.PREC['+']:
                return '(' + s + ')'
            return s
        if k == 'ref':
            return e[1]
        if k == 'bin':
            op = e[1]
            p = self.PREC[op]
            sym = op
            if op == '*' and self.rng.random() < 0.1:
                sym = '×'
            if op == '/' and self.rng.random() < 0.1:
                sym = '÷'
            s = self.expr(e[2], p, False) + ' ' + sym + ' ' + self.expr(e[3], p, True)
            if p < parent or (p == parent and right) or self.rng.random() < 0.1:
                s = '(' + s + ')'
            return s
        if k == 'neg':
            s = '-' + self.expr(e[1], self.PREC['neg'], False)
            if parent >= self.PREC['neg'] or parent in (self.PREC['+'],) and right:
                s = '(' + s + ')'
            return s
        if k == 'coal':
            p = self.PREC['coal']
            if self.rng.random() < 0.3:
                s = 'coalesce(%s, %s)' % (self.expr(e[1]), self.expr(e[2]))
                return s
            s = self.expr(e[1], p + 1) + ' ?? ' + self.expr(e[2], p + 1)
            if p <= parent or self.rng.random() < 0.1:
                s = '(' + s + ')'
            return s
        if k == 'call':
            return '%s(%s)' % (e[1], ', '.join(self.expr(a) for a in e[2]))
        raise InternalError('bad expr %r' % (e,))

    def cond(self, c, parent=0):
        k = c[0]
        if k == 'cmp':
            op = c[1]
            if op == '<=' and self.rng.random() < 0.1:
                op = '≤'
            elif op == '>=' and self.rng.random() < 0.1:
                op = '≥'
            s = self.expr(c[2], self.PREC['cmp'] + 1) + ' ' + op + ' ' + self.expr(c[3], self.PREC['cmp'] + 1)
            if parent > self.PREC['not'] or self.rng.random() < 0.05:
                s = '(' + s + ')'
            return s
        if k == 'present':
            s = c[1] + ' is present'
            return s if parent <= self.PREC['not'] else '(' + s + ')'
        if k == 'missing':
            s = c[1] + (' is missing' if self.rng.random() < 0.7 else ' is not present')
            return s if parent <= self.PREC['not'] else '(' + s + ')'
        if k == 'inset':
            vals = ', '.join(self.lit(v) for v in c[2])
            s = self.expr(c[1], self.PREC['cmp'] + 1) + (' not in ' if c[3] else ' in ') + '{' + vals + '}'
            return s if parent <= self.PREC['not'] else '(' + s + ')'
        if k == 'truth':
            return self.expr(c[1], self.PREC['neg'])
        if k == 'contains':
            if c[3] == 'fn':
                s = 'contains(%s, %s)' % (self.expr(c[1]), self.lit(c[2]))
            elif c[3] == 'startswith':
                s = 'startswith(%s, %s)' % (self.expr(c[1]), self.lit(c[2]))
            else:
                s = self.expr(c[1], self.PREC['cmp'] + 1) + ' contains ' + self.lit(c[2])
                if parent > self.PREC['not']:
                    s = '(' + s + ')'
            return s
        if k == 'member':
            s = self.lit(c[1]) + (' not in ' if c[3] else ' in ') + self.expr(c[2], self.PREC['cmp'] + 1)
            return s if parent <= self.PREC['not'] else '(' + s + ')'
        if k in ('and', 'or'):
            p = self.PREC[k]
            s = self.cond(c[1], p) + ' ' + k + ' ' + self.cond(c[2], p + 1)
            if p < parent or (parent and self.rng.random() < 0.15):
                s = '(' + s + ')'
            return s
        if k == 'not':
            inner = c[1]
            if inner[0] == 'cmp' and self.rng.random() < 0.5:
                s = 'not ' + self.cond(inner, self.PREC['not'])
            else:
                s = 'not (' + self.cond(inner, 0) + ')'
            if parent > self.PREC['not']:
                s = '(' + s + ')'
            return s
        raise InternalError('bad cond %r' % (c,))

    def cell(self, c):
        k = c[0]
        if k == 'any':
            return '-'
        if k == 'cmp':
            return c[1] + ' ' + self.expr(c[2])
        if k == 'range':
            return ('[' if c[1] else '(') + self.expr(c[2]) + ', ' + self.expr(c[3]) + (']' if c[4] else ')')
        if k == 'set':
            s = '{' + ', '.join(self.lit(v) for v in c[1]) + '}'
            return ('not ' + s) if c[2] else s
        if k == 'eq':
            return self.expr(c[1])
        raise InternalError('bad cell %r' % (c,))

    def result(self, r):
        if r[0] == 'reject':
            return 'reject "%s"' % r[1]
        return self.expr(r[1])

    # ---- declarations
    def typ(self, t):
        if t in ('int', 'decimal', 'money', 'bool', 'text'):
            return t
        if t[0] == 'enum':
            return t[1]
        if t[0] == 'set':
            return 'set<%s>' % t[1]
        raise InternalError('bad type %r' % (t,))

    def range_src(self, f):
        r = f.rng
        lit = lambda v: self.lit(('num', v, f.typ))
        if r[0] == 'cmp':
            return '%s %s' % (r[1], lit(r[2]))
        return 'in %s%s, %s%s' % ('[' if r[1] else '(', lit(r[2]), lit(r[3]), ']' if r[4] else ')')

    def emit(self, s):
        self.lines.append(s)
        return len(self.lines)

    def render(self):
        p = self.p
        self.emit('# generated by tests/property/property_test.py')
        for name, vals in p.enums:
            self.emit('enum %s { %s }' % (name, ', '.join(vals)))
        self.emit('input 客户 {')
        self.emit('  id : int key')
        for f in p.fields:
            s = '  %s : %s' % (f.name, self.typ(f.typ))
            if f.optional:
                s += '?'
            if f.rng:
                s += ' ' + self.range_src(f)
            if f.alias:
                s += ' as "%s"' % f.alias
            self.emit(s)
        self.emit('}')
        for obj in p.order:
            if isinstance(obj, Let):
                if obj.cond:
                    self.emit('let %s = %s' % (obj.name, self.cond(obj.expr)))
                else:
                    self.emit('let %s = %s' % (obj.name, self.expr(obj.expr)))
            elif isinstance(obj, DecList):
                self.render_declist(obj)
            elif isinstance(obj, Table):
                self.render_table(obj)
            elif isinstance(obj, Grid):
                self.render_grid(obj)
        if p.segments is not None:
            self.render_segments(p.segments)
        return '\n'.join(self.lines) + '\n'

    def render_declist(self, d):
        self.decl_line[d.name] = self.emit('%sdecide %s : %s {' % ('private ' if d.private else '', d.name, self.typ(d.typ)))
        lines = []
        for c, r in d.rows:
            semi = ';' if self.rng.random() < 0.1 else ''
            lines.append(self.emit('  when %s -> %s%s' % (self.cond(c), self.result(r), semi)))
        self.row_lines[d.name] = lines
        if d.els is not None:
            self.else_line[d.name] = self.emit('  else -> %s' % self.result(d.els))
        self.emit('}')

    def render_table(self, t):
        if t.multi:
            head = 'table %s %s {' % (t.name, t.policy)
        else:
            pol = t.policy if t.policy != 'collect' else 'collect ' + t.agg
            head = 'table %s : %s %s {' % (t.name, self.typ(t.outs[0][1]), pol)
        self.decl_line[t.name] = self.emit(head)
        cols = t.cols
        if t.multi:
            res = ['%s : %s' % (o, self.typ(ty)) for o, ty in t.outs]
        else:
            res = [t.outs[0][0]]
        rows_txt = [[self.cell(c) for c in cells] + ['||'] + [self.expr(r) for r in results]
                    for cells, results in t.rows]
        header = list(cols) + ['||'] + res
        widths = [max(len(r[i]) for r in rows_txt + [header]) for i in range(len(header))]

        def line(parts):
            s = ''
            for i, x in enumerate(parts):
                if i == 0:
                    s = x.ljust(widths[i])
                elif x == '||':
                    s += ' ||'
                elif parts[i - 1] == '||':
                    s += ' ' + x.ljust(widths[i])
                else:
                    s += ' | ' + x.ljust(widths[i])
            return '  ' + s.rstrip()
        self.emit(line(header))
        self.row_lines[t.name] = [self.emit(line(r)) for r in rows_txt]
        self.emit('}')

    def render_grid(self, g):
        self.decl_line[g.name] = self.emit('grid %s : %s by %s, %s {' % (g.name, self.typ(g.typ), g.rowname, g.colname))
        rowtests = [self.cell(rt) for rt, _ in g.rows]
        w0 = max([len(x) for x in rowtests] + [1])
        colt = [self.cell(c) for c in g.coltests]
        cells = [[self.expr(r) for r in res] for _, res in g.rows]
        ws = [max([len(colt[i])] + [len(c[i]) for c in cells]) for i in range(len(colt))]
        # header
        s = '  ' + ' ' * w0
        lineno = len(self.lines) + 1
        for i, t in enumerate(colt):
            s += ' | '
            self.grid_pos[(lineno, len(s) + 1)] = ('col', i)
            s += t.ljust(ws[i])
        self.emit(s.rstrip())
        lines = []
        for ri, (rt, c) in enumerate(zip(rowtests, cells)):
            lineno = len(self.lines) + 1
            s = '  '
            self.grid_pos[(lineno, len(s) + 1)] = ('row', ri)
            s += rt.ljust(w0)
            for i, x in enumerate(c):
                s += ' | '
                self.grid_pos[(lineno, len(s) + 1)] = ('cell', ri, i)
                s += x.ljust(ws[i])
            lines.append(self.emit(s.rstrip()))
        self.row_lines[g.name] = lines
        self.emit('}')

    def render_segments(self, root):
        self.decl_line[root.name] = self.emit('segments %s {' % root.name)
        self.render_segnode(root, 1)
        self.emit('}')

    def render_segnode(self, n, depth):
        ind = '  ' * depth
        lines = []
        for c, ch in n.branches:
            head = '%swhen %s -> %s' % (ind, self.cond(c), ch.name)
            if ch.is_leaf():
                lines.append(self.emit(head))
            else:
                lines.append(self.emit(head + ' {'))
                self.decl_line[ch.name] = lines[-1]
                self.render_segnode(ch, depth + 1)
                self.emit(ind + '}')
        if n.els is not None:
            head = '%selse -> %s' % (ind, n.els.name)
            if n.els.is_leaf():
                self.else_line[n.name] = self.emit(head)
            else:
                self.else_line[n.name] = self.emit(head + ' {')
                self.decl_line[n.els.name] = self.else_line[n.name]
                self.render_segnode(n.els, depth + 1)
                self.emit(ind + '}')
        self.seg_branch_lines[n.name] = lines


# ----------------------------------------------------------------------------
# the reference evaluator (written from docs/language.md)
# ----------------------------------------------------------------------------

class Ref:
    """Evaluates one customer. Values: Fraction (int, decimal, money), bool,
    str (text or enum value), frozenset (sets), MISSING."""

    def __init__(self, prog, vals):
        self.p = prog
        self.vals = vals
        self.memo = {}
        self.enum_index = {}
        for _, vs in prog.enums:
            for i, v in enumerate(vs):
                self.enum_index[v] = i
        self.tie = False
        self.product_rounded = False
        self.trace = {}      # node -> ('row', i) / ('else',) / ('matched', [i..]) / ('cell', ri, ci)
        self.seg_trace = {}  # seg node -> branch index or 'else'

    # ---- names
    def get(self, name):
        if name in self.memo:
            v = self.memo[name]
            if isinstance(v, EvalErr):
                raise v
            return v
        self.memo[name] = InternalError('cycle at ' + name)
        try:
            v = self._compute(name)
        except EvalErr as e:
            self.memo[name] = e
            raise
        self.memo[name] = v
        return v

    def _compute(self, name):
        p = self.p
        f = p.field(name)
        if f is not None:
            return self.vals.get(name, MISSING)
        l = p.let(name)
        if l is not None:
            if l.cond:
                return self.cond(l.expr)
            return self.expr(l.expr)
        d = p.decision_of_output(name)
        if d is None:
            raise InternalError('unknown name ' + name)
        if isinstance(d, DecList):
            return self.eval_declist(d)
        if isinstance(d, Table):
            res = self.get_table(d)
            if res is MISSING:
                return MISSING
            return res[[o for o, _ in d.outs].index(name)]
        if isinstance(d, Grid):
            return self.eval_grid(d)
        raise InternalError('bad decision')

    def get_table(self, t):
        key = ('table', t.name)
        if key in self.memo:
            v = self.memo[key]
            if isinstance(v, EvalErr):
                raise v
            return v
        try:
            v = self.eval_table(t)
        except EvalErr as e:
            self.memo[key] = e
            raise
        self.memo[key] = v
        return v

    # ---- expressions
    def expr(self, e):
        k = e[0]
        if k == 'num':
            return F(e[1])
        if k == 'bool':
            return e[1]
        if k in ('text',):
            return e[1]
        if k == 'enumv':
            return e[2]
        if k == 'ref':
            return self.get(e[1])
        if k == 'bin':
            a = self.expr(e[2])
            b = self.expr(e[3])
            if a is MISSING or b is MISSING:
                return MISSING
            op = e[1]
            if op == '+':
                return a + b
            if op == '-':
                return a - b
            if op == '*':
                r = a * b
                if (r * 10 ** 12).denominator != 1:
                    # docs/language.md does not say; the engine rounds half
                    # away from zero at the 12th place, as for quotients
                    self.product_rounded = True
                    r, _ = round12(r)
                return r
            if op == '/':
                if b == 0:
                    raise EvalErr('div0', None)
                r, tie = round12(a / b)
                self.tie = self.tie or tie
                return r
        if k == 'neg':
            a = self.expr(e[1])
            return MISSING if a is MISSING else -a
        if k == 'coal':
            a = self.expr(e[1])
            return self.expr(e[2]) if a is MISSING else a
        if k == 'call':
            args = [self.expr(a) for a in e[2]]
            if any(a is MISSING for a in args):
                raise InternalError('missing argument')
            if e[1] == 'min':
                return min(args)
            if e[1] == 'max':
                return max(args)
            if e[1] == 'abs':
                return abs(args[0])
        raise InternalError('bad expr %r' % (e,))

    def order(self, v):
        if isinstance(v, str):
            if v not in self.enum_index:
                raise InternalError('ordering a text')
            return self.enum_index[v]
        return v

    def compare(self, op, a, b):
        if a is MISSING or b is MISSING:
            raise InternalError('unguarded missing value in a comparison')
        if op in ('==', '!='):
            eq = a == b
            return eq if op == '==' else not eq
        a, b = self.order(a), self.order(b)
        return {'<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b}[op]

    def cond(self, c):
        k = c[0]
        if k == 'cmp':
            return self.compare(c[1], self.expr(c[2]), self.expr(c[3]))
        if k == 'present':
            return self.get(c[1]) is not MISSING
        if k == 'missing':
            return self.get(c[1]) is MISSING
        if k == 'inset':
            v = self.expr(c[1])
            if v is MISSING:
                raise InternalError('unguarded missing value in `in`')
            r = v in [self.expr(x) for x in c[2]]
            return (not r) if c[3] else r
        if k == 'truth':
            v = self.expr(c[1])
            if v is MISSING:
                raise InternalError('unguarded missing bool')
            return v
        if k == 'contains':
            a = self.expr(c[1])
            b = self.expr(c[2])
            if a is MISSING:
                raise InternalError('unguarded missing value in `contains`')
            if c[3] == 'startswith':
                return a.startswith(b)
            return b in a
        if k == 'member':
            v = self.expr(c[1])
            sv = self.expr(c[2])
            if sv is MISSING:
                raise InternalError('unguarded missing set')
            r = v in sv
            return (not r) if c[3] else r
        if k == 'and':
            return self.cond(c[1]) and self.cond(c[2])
        if k == 'or':
            return self.cond(c[1]) or self.cond(c[2])
        if k == 'not':
            return not self.cond(c[1])
        raise InternalError('bad cond %r' % (c,))

    def cell(self, c, v):
        k = c[0]
        if k == 'any':
            return True
        if k == 'cmp':
            return self.compare(c[1], v, self.expr(c[2]))
        if k == 'range':
            lo, hi = self.order(self.expr(c[2])), self.order(self.expr(c[3]))
            x = self.order(v)
            return (x >= lo if c[1] else x > lo) and (x <= hi if c[4] else x < hi)
        if k == 'set':
            r = v in [self.expr(x) for x in c[1]]
            return (not r) if c[2] else r
        if k == 'eq':
            return v == self.expr(c[1])
        raise InternalError('bad cell')

    def result(self, node, r):
        if r[0] == 'reject':
            raise EvalErr('reject', node, r[1])
        return self.expr(r[1])

    # ---- decisions
    def eval_declist(self, d):
        for i, (c, r) in enumerate(d.rows):
            if self.cond(c):
                self.trace[d.name] = ('row', i)
                return self.result(d.name, r)
        if d.els is not None:
            self.trace[d.name] = ('else',)
            return self.result(d.name, d.els)
        self.trace[d.name] = ('none',)
        raise EvalErr('no-branch', d.name)

    def eval_table(self, t):
        vals = [self.get(c) for c in t.cols]
        if any(v is MISSING for v in vals):
            self.trace[t.name] = ('missing',)
            return MISSING
        matched = [i for i, (cells, _) in enumerate(t.rows)
                   if all(self.cell(c, v) for c, v in zip(cells, vals))]
        self.trace[t.name] = ('matched', matched)
        res = lambda i: tuple(self.expr(r) for r in t.rows[i][1])
        if t.policy == 'collect':
            if t.agg == 'count':
                return (F(len(matched)),)
            if t.agg == 'list':
                return (frozenset(res(i)[0] for i in matched),)
            if t.agg == 'sum':
                return (sum((res(i)[0] for i in matched), F(0)),)
            if not matched:
                raise EvalErr('no-row', t.name)
            xs = [res(i)[0] for i in matched]
            return (min(xs) if t.agg == 'min' else max(xs),)
        if not matched:
            raise EvalErr('no-row', t.name)
        if t.policy == 'first':
            return res(matched[0])
        if t.policy == 'unique':
            if len(matched) > 1:
                raise EvalErr('unique', t.name, matched)
            return res(matched[0])
        if t.policy == 'any':
            rs = [res(i) for i in matched]
            if any(r != rs[0] for r in rs):
                raise EvalErr('any', t.name, matched)
            return rs[0]
        if t.policy == 'priority':
            rs = [res(i)[0] for i in matched]
            return (min(rs, key=lambda v: self.enum_index[v]),)
        raise InternalError('bad policy')

    def eval_grid(self, g):
        rv = self.get(g.rowname)
        cv = self.get(g.colname)
        if rv is MISSING or cv is MISSING:
            self.trace[g.name] = ('missing',)
            return MISSING
        for ri, (rt, res) in enumerate(g.rows):
            if self.cell(rt, rv):
                for ci, ct in enumerate(g.coltests):
                    if self.cell(ct, cv):
                        self.trace[g.name] = ('cell', ri, ci)
                        return self.expr(res[ci])
                self.trace[g.name] = ('nocol', ri)
                raise EvalErr('no-row', g.name)
        self.trace[g.name] = ('norow',)
        raise EvalErr('no-row', g.name)

    def eval_segments(self):
        if 'segment' in self.memo:
            v = self.memo['segment']
            if isinstance(v, EvalErr):
                raise v
            return v
        try:
            n = self.p.segments
            path = [n.name]
            while not n.is_leaf():
                for i, (c, ch) in enumerate(n.branches):
                    if self.cond(c):
                        self.seg_trace[n.name] = i
                        n = ch
                        break
                else:
                    if n.els is None:
                        self.seg_trace[n.name] = 'none'
                        raise EvalErr('no-seg', n.name)
                    self.seg_trace[n.name] = 'else'
                    n = n.els
                path.append(n.name)
            v = '/'.join(path)
        except EvalErr as e:
            self.memo['segment'] = e
            raise
        self.memo['segment'] = v
        return v

    # ---- a whole customer
    def outputs(self):
        """{output: value or EvalErr}, for every non-private decision and the segment."""
        out = {}
        for d in self.p.decisions:
            if d.private:
                continue
            for o, _ in d.outputs:
                try:
                    out[o] = self.get(o)
                except EvalErr as e:
                    out[o] = e
        if self.p.segments is not None:
            try:
                out['segment'] = self.eval_segments()
            except EvalErr as e:
                out['segment'] = e
        return out

    def everything(self):
        """Evaluates every decision, private ones too (for the proof checks)."""
        self.outputs()
        for d in self.p.decisions:
            for o, _ in d.outputs:
                try:
                    self.get(o)
                except EvalErr:
                    pass


# ----------------------------------------------------------------------------
# reading a record as the engine should (docs/cli.md, Values)
# ----------------------------------------------------------------------------

def field_value(prog, f, raw):
    """raw: None (missing) or ('str', s) or ('json', pyvalue).
    Returns (value, None) or (None, error-category)."""
    if raw is None:
        if f.optional:
            return MISSING, None
        return None, 'missing'
    kind, s = raw
    t = f.typ
    if kind == 'json' and isinstance(s, bool):
        if t == 'bool':
            return s, None
        return None, 'malformed'
    if isinstance(t, tuple) and t[0] == 'set':
        if kind == 'set':
            items = list(s)
        elif isinstance(s, str):
            items = [x for x in s.split(';') if x != '']
        else:
            return None, 'malformed'
        if any(x not in prog.enum_values(t[1]) for x in items):
            return None, 'malformed'
        return frozenset(items), None
    if t == 'text':
        return str(s), None
    if isinstance(s, (int, Decimal)) and not isinstance(s, bool):
        s = str(s)
    if t == 'bool':
        m = {'true': True, 'false': False, '1': True, '0': False, '是': True, '否': False}
        if s in m:
            return m[s], None
        return None, 'malformed'
    if is_enum(t):
        if s in prog.enum_values(t[1]):
            return s, None
        return None, 'malformed'
    # An amount may carry its unit (元 万 亿 万元 亿元), a decimal `%`.
    scale = 0
    if t == 'money':
        for suffix, exp in (('万元', 4), ('亿元', 8), ('万', 4), ('亿', 8), ('元', 0)):
            if s.endswith(suffix):
                s, scale = s[:-len(suffix)].rstrip(' '), exp
                break
    elif t == 'decimal' and s.endswith('%'):
        s, scale = s[:-1].rstrip(' '), -2
    v = parse_number_text(s)
    if v is None:
        return None, 'malformed'
    if frac_digits(v) > 12:
        return None, 'malformed'
    v = v * F(10) ** scale
    if t == 'int':
        if v.denominator != 1 or 'e' in s.lower():
            if v.denominator != 1:
                return None, 'malformed'
    else:
        if frac_digits(v) > 12:
            return None, 'malformed'
    if f.rng is not None and not in_range(f.rng, v):
        return None, 'range'
    return v, None


def in_range(r, v):
    if r[0] == 'cmp':
        return {'<': v < r[2], '<=': v <= r[2], '>': v > r[2], '>=': v >= r[2]}[r[1]]
    _, loc, lo, hi, hic = r
    return (v >= lo if loc else v > lo) and (v <= hi if hic else v < hi)


# ----------------------------------------------------------------------------
# the generator
# ----------------------------------------------------------------------------

UNIT = {'int': F(1), 'decimal': F(1, 1000), 'money': F(1, 100)}
CN_FIELDS = ['收入', '资产', '年龄', '评分', '余额', '存款', '贷款', '人数', '营收', '负债']
ASCII_FIELDS = ['x', 'y', 'amt', 'rate', 'score', 'n', 'bal', 'k']


class Axis:
    """Something a condition or a cell can test: a field, a let or a decision."""

    def __init__(self, name, typ, optional=False, failable=False, thresholds=None, source=None):
        self.name, self.typ, self.optional, self.failable = name, typ, optional, failable
        self.thresholds = [t for t in (thresholds or [])
                           if not isinstance(t, F) or (terminates(t) and frac_digits(t) <= 12)]
        self.source = source      # ('affine', field, mul, add) for lets of one field
        self.inline = None        # an expression written inside conditions (`a + b < 5`)

    @property
    def expr(self):
        return self.inline if self.inline is not None else ('ref', self.name)

    @property
    def kind(self):
        if self.typ in NUMERIC:
            return 'num'
        if self.typ == 'bool':
            return 'bool'
        if is_enum(self.typ):
            return 'enum'
        if self.typ == 'text':
            return 'text'
        if isinstance(self.typ, tuple) and self.typ[0] == 'set':
            return 'set'
        return 'other'


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.p = Prog()
        self.used = set(['id', '客户'])
        self.n = 0
        self.axes = []            # condition axes
        self.const_lets = []      # (value, type, name)
        self.used_thresholds = {}  # axis name -> set of values
        self.inline_sources = []

    def fresh(self, pool):
        self.n += 1
        return self.rng.choice(pool) + str(self.n)

    # ---- thresholds and literals
    def gen_thresholds(self, typ):
        r = self.rng
        k = r.randint(1, 3)
        if typ == 'int':
            base = r.randint(-10, 10)
            ts = [base]
            for _ in range(k - 1):
                ts.append(ts[-1] + r.choice([1, 1, 2, 3]))
            return [F(t) for t in ts]
        if typ == 'decimal':
            base = F(r.choice(['-2', '-1', '-0.5', '0', '0.5', '0.75', '1', '2.25', '3', '0.125',
                               '0.000000000001', '-0.000000000001', '0.333333333333', '1000000']))
            ts = [base]
            for _ in range(k - 1):
                ts.append(ts[-1] + F(r.choice(['0.001', '0.25', '0.5', '1', '0.01', '0.000000000001'])))
            return ts
        base = F(r.choice([0, 100, 10000, 50000, 200000, 5000000, 100000000, 150000000, -30000, -100,
                           '0.01', 10 ** 12, 10 ** 14, -10 ** 13]))
        ts = [base]
        for _ in range(k - 1):
            ts.append(ts[-1] + F(r.choice(['0.01', '1', '100', '10000', '100000000', '0.000001'])))
        return ts

    def num_lit(self, v, typ):
        return ('num', F(v), typ)

    def threshold_expr(self, v, typ):
        """A bound: a literal, or the name of a constant let with that value."""
        cands = [n for (cv, ct, n) in self.const_lets if cv == v and ct == typ]
        if cands and self.rng.random() < 0.6:
            return ('ref', self.rng.choice(cands))
        if typ == 'int' and v.denominator != 1:
            return self.num_lit(v, 'decimal')
        return self.num_lit(v, typ)

    def note_threshold(self, axis, v):
        self.used_thresholds.setdefault(axis.name, set()).add(v)

    # ---- declarations
    def gen_enums(self):
        r = self.rng
        for i in range(r.randint(1, 3)):
            if r.random() < 0.5:
                name = 'E%d' % i
                vals = ['%s%d' % (c, i) for c in 'ABCDE'[:r.randint(2, 4)]]
                sentinel = 'Z%d' % i
            else:
                name = r.choice(['层级', '客群', '档次', '类别']) + str(i)
                vals = ['%s%d' % (c, i) for c in '甲乙丙丁戊'[:r.randint(2, 4)]]
                sentinel = '未定%d' % i
            self.p.enums.append((name, vals + [sentinel]))
            self.p.sentinel[name] = sentinel

    def result_enums(self):
        return [n for n, _ in self.p.enums]

    def gen_fields(self):
        r = self.rng
        nf = r.randint(3, 6)
        for _ in range(nf):
            typ = r.choice(['int', 'int', 'int', 'decimal', 'decimal', 'money', 'money', 'enum', 'enum', 'bool',
                            'text', 'set'])
            if typ == 'enum':
                typ = ('enum', r.choice(self.result_enums()))
            if typ == 'set':
                typ = ('set', r.choice(self.result_enums()))
            name = self.fresh(CN_FIELDS if r.random() < 0.4 else ASCII_FIELDS)
            f = Field(name, typ, optional=r.random() < 0.25 and typ not in ('text',) and not isinstance(typ, tuple) or
                      (is_enum(typ) and r.random() < 0.25))
            if typ == 'text':
                f.thresholds = r.sample(TEXT_POOL, 3)
            if typ in NUMERIC:
                f.thresholds = self.gen_thresholds(typ)
                if r.random() < 0.3:
                    u = UNIT[typ] if typ != 'decimal' else F(r.choice(['0.001', '0.5']))
                    t = r.choice(f.thresholds) + r.choice([-u, 0, u])
                    if r.random() < 0.6:
                        f.rng = ('cmp', r.choice(['>=', '>', '<=', '<']), t)
                    else:
                        t2 = max(f.thresholds) + r.choice([0, u, 5 * u])
                        if t2 <= t:
                            t2 = t + u
                        if typ == 'int' and t2 - t < 2:
                            t2 = t + 2   # an int range with no whole number in it is a check error
                        f.rng = ('in', r.random() < 0.7, t, t2, r.random() < 0.6)
            if r.random() < 0.1:
                f.alias = name + '列'
            self.p.fields.append(f)
            ax = Axis(name, typ, optional=f.optional, thresholds=list(f.thresholds))
            self.axes.append(ax)

    def gen_lets(self):
        r = self.rng
        p = self.p
        ints = [f for f in p.fields if f.typ == 'int' and not f.optional]
        decs = [f for f in p.fields if f.typ == 'decimal' and not f.optional]
        mons = [f for f in p.fields if f.typ == 'money' and not f.optional]
        opts = [f for f in p.fields if f.optional and f.typ in NUMERIC]
        zero = {'int': ('num', F(0), 'int'), 'decimal': ('num', F(0), 'decimal'), 'money': ('num', F(0), 'money')}
        for _ in range(r.randint(0, 5)):
            kind = r.choice(['const', 'const', 'affine', 'affine', 'sum', 'nonlinear', 'div', 'bool', 'optional', 'coal',
                             'quot'])
            name = self.fresh(['s', 'v', '合计', '比率', 't', '上限'])
            let = None
            if kind == 'const':
                typ = r.choice(['int', 'decimal', 'money'])
                cands = [a for a in self.axes if a.typ == typ and a.thresholds]
                if cands and r.random() < 0.8:
                    v = r.choice(r.choice(cands).thresholds)
                else:
                    v = r.choice(self.gen_thresholds(typ))
                let = Let(name, typ, self.num_lit(v, typ), const=v)
                self.const_lets.append((v, typ, name))
                p.lets.append(let)
                continue
            if kind == 'affine':
                src = r.choice(ints + decs + mons) if ints + decs + mons else None
                if src is None:
                    continue
                t = src.typ
                if t == 'int':
                    mul = F(r.choice([1, 1, 2, -1, 3]))
                    add = F(r.randint(-5, 5))
                    mt = 'int'
                elif t == 'decimal':
                    mul = F(r.choice(['1', '0.5', '2', '-1', '1.5']))
                    add = F(r.choice(['0', '0.25', '-1', '1.5']))
                    mt = 'decimal'
                else:
                    mul = F(r.choice(['1', '0.5', '1.5', '-1']))
                    add = F(r.choice([0, 10000, -50000, 100]))
                    mt = 'decimal'
                e = ('ref', src.name)
                if mul == -1:
                    e = ('neg', e)
                elif mul != 1:
                    e = ('bin', '*', ('num', mul, mt), e) if r.random() < 0.5 else ('bin', '*', e, ('num', mul, mt))
                if add != 0:
                    if t == 'money':
                        e = ('bin', '+' if add > 0 else '-', e, ('num', abs(add), 'money'))
                    else:
                        at = 'int' if add.denominator == 1 and t == 'int' else 'decimal'
                        e = ('bin', '+' if add > 0 else '-', e, ('num', abs(add), at))
                typ = 'int' if t == 'int' else ('money' if t == 'money' else 'decimal')
                ths = [t for t in (mul * x + add for x in src.thresholds) if terminates(t) and frac_digits(t) <= 12]
                if r.random() < 0.5:
                    ths = self.gen_thresholds(typ)
                let = Let(name, typ, e)
                let.thresholds = ths
                ax = Axis(name, typ, thresholds=ths, source=('affine', src.name, mul, add))
            elif kind == 'quot':
                # division by a constant: linear for the analysis, but the
                # quotient is rounded at the 12th place when evaluated
                src = r.choice(ints + decs + mons) if ints + decs + mons else None
                if src is None:
                    continue
                c = F(r.choice(['3', '7', '4', '0.3', '1.5', '6', '-3']))
                e = ('bin', '/', ('ref', src.name), ('num', c, 'int' if c.denominator == 1 else 'decimal'))
                typ = 'money' if src.typ == 'money' else 'decimal'
                ths = [round12(x / c)[0] for x in src.thresholds]
                ths += [F(x) for x in r.sample(['0.333333333333', '0.333333333334', '0.666666666667', '0.142857142857',
                                                '-0.333333333333', '0.5', '1'], 2)]
                let = Let(name, typ, e)
                ax = Axis(name, typ, thresholds=ths, source=('affine', src.name, 1 / c, F(0)))
            elif kind == 'sum':
                pool = r.choice([ints, decs + ints, mons])
                if len(pool) < 2:
                    continue
                a, b = r.sample(pool, 2)
                op = r.choice(['+', '-'])
                e = ('bin', op, ('ref', a.name), ('ref', b.name))
                if pool is mons:
                    typ = 'money'
                elif a.typ == 'int' and b.typ == 'int':
                    typ = 'int'
                else:
                    typ = 'decimal'
                ths = self.gen_thresholds(typ)
                let = Let(name, typ, e)
                ax = Axis(name, typ, thresholds=ths)
            elif kind == 'nonlinear':
                if len(ints) >= 2 and r.random() < 0.5:
                    a, b = r.sample(ints, 2)
                    e = ('bin', '*', ('ref', a.name), ('ref', b.name))
                    typ = 'int'
                elif ints + decs:
                    a = r.choice(ints + decs)
                    fn = r.choice(['abs', 'min', 'max'])
                    if fn == 'abs':
                        e = ('call', 'abs', [('ref', a.name)])
                        typ = a.typ
                    else:
                        c = r.choice(a.thresholds) if a.thresholds else F(1)
                        e = ('call', fn, [('ref', a.name), ('num', c, a.typ)])
                        typ = a.typ
                else:
                    continue
                ths = self.gen_thresholds(typ)
                let = Let(name, typ, e)
                ax = Axis(name, typ, thresholds=ths)
            elif kind == 'div':
                if len(ints + decs) >= 2 and r.random() < 0.6:
                    a, b = r.sample(ints + decs, 2)
                    e = ('bin', '/', ('ref', a.name), ('ref', b.name))
                elif len(mons) >= 2:
                    a, b = r.sample(mons, 2)
                    e = ('bin', '/', ('ref', a.name), ('ref', b.name))
                else:
                    continue
                typ = 'decimal'
                ths = [F(x) for x in r.sample(['0', '0.5', '1', '-1', '2', '0.333333333333', '1.5'], 2)]
                let = Let(name, typ, e, failable=True)
                ax = Axis(name, typ, failable=True, thresholds=ths)
            elif kind == 'bool':
                base = [a for a in self.axes if not a.failable and a.kind in ('num', 'enum', 'bool', 'text', 'set')]
                if not base:
                    continue
                c = self.random_atom(r.choice(base))
                if r.random() < 0.5:
                    c = (r.choice(['and', 'or']), c, self.random_atom(r.choice(base)))
                let = Let(name, 'bool', c, cond=True)
                ax = Axis(name, 'bool')
            elif kind == 'optional':
                if not opts:
                    continue
                o = r.choice(opts)
                # `let v = o`: a let whose value may be missing (arithmetic on
                # `o` would need a guard)
                e = ('ref', o.name)
                typ = o.typ
                let = Let(name, typ, e, optional=True)
                ths = list(o.thresholds)
                ax = Axis(name, typ, optional=True, thresholds=ths)
            elif kind == 'coal':
                if not opts:
                    continue
                o = r.choice(opts)
                d = r.choice(o.thresholds) if o.thresholds else F(0)
                e = ('coal', ('ref', o.name), ('num', d, o.typ))
                typ = o.typ
                let = Let(name, typ, e)
                ax = Axis(name, typ, thresholds=list(o.thresholds))
            if let is None:
                continue
            p.lets.append(let)
            self.axes.append(ax)

    # ---- conditions
    def atom_value(self, ax):
        """A literal of the axis's type near its thresholds."""
        r = self.rng
        if ax.kind == 'num':
            ts = ax.thresholds or self.gen_thresholds(ax.typ)
            v = r.choice(ts)
            self.note_threshold(ax, v)
            return self.threshold_expr(v, ax.typ)
        if ax.kind == 'enum':
            return ('enumv', ax.typ[1], r.choice(self.p.enum_values(ax.typ[1])))
        return ('bool', r.random() < 0.5)

    def random_atom(self, ax):
        """A single test of an axis (guarded when the axis may be missing)."""
        r = self.rng
        ref = ax.expr
        if ax.kind == 'num':
            c = ('cmp', r.choice(['<', '<=', '>', '>=', '==', '!=']), ref, self.atom_value(ax))
        elif ax.kind == 'enum':
            vals = self.p.enum_values(ax.typ[1])
            if r.random() < 0.5:
                c = ('cmp', r.choice(['==', '!=', '<', '>=']), ref, self.atom_value(ax))
            else:
                sub = r.sample(vals, r.randint(1, len(vals) - 1))
                c = ('inset', ref, [('enumv', ax.typ[1], v) for v in sub], r.random() < 0.3)
        elif ax.kind in ('text', 'set'):
            pt = r.choice(self.partition(ax, 0.0))
            c = self.part_cond(ax, pt)
        else:
            c = ('truth', ref) if r.random() < 0.5 else ('cmp', '==', ref, ('bool', r.random() < 0.5))
        if ax.optional:
            c = ('and', ('present', ax.name), c)
        return c

    def num_partition(self, ax):
        r = self.rng
        ts = sorted(set(r.sample(ax.thresholds, r.randint(1, len(ax.thresholds))))) if ax.thresholds else \
            sorted(set(self.gen_thresholds(ax.typ)))
        if ax.typ == 'int' and r.random() < 0.1:
            ts = sorted(set(t + F(1, 2) for t in ts))
        for t in ts:
            self.note_threshold(ax, t)
        if ax.typ == 'int' and len(ts) == 1 and r.random() < 0.15:
            return [('point', ts[0]), ('notpoint', ts[0])]
        ivs = []
        lo, loc = None, False
        for t in ts:
            closed_left = r.random() < 0.6     # `< t` | `>= t`
            ivs.append((lo, loc, t, not closed_left))
            lo, loc = t, closed_left
        ivs.append((lo, loc, None, False))
        return ivs

    def unit_of(self, ax):
        if ax.typ == 'int':
            return F(1)
        if ax.typ == 'money':
            return self.rng.choice([F(1, 100), F(1)])
        return self.rng.choice([F(1, 1000), F(1, 4)])

    def mutate_num(self, ax, ivs):
        r = self.rng
        ivs = list(ivs)
        if ivs and ivs[0][0] in ('point', 'notpoint'):
            return ivs
        m = r.choice(['shift', 'shift', 'flip', 'drop', 'point'])
        i = r.randrange(len(ivs))
        lo, loc, hi, hic = ivs[i]
        u = self.unit_of(ax)
        if m == 'shift':
            if hi is not None and (lo is None or r.random() < 0.5):
                hi = hi + r.choice([-u, u])
                if lo is not None and hi < lo:
                    hi = lo
            elif lo is not None:
                lo = lo + r.choice([-u, u])
                if hi is not None and lo > hi:
                    lo = hi
            ivs[i] = (lo, loc, hi, hic)
        elif m == 'flip':
            if hi is not None and (lo is None or r.random() < 0.5):
                hic = not hic
            else:
                loc = not loc
            ivs[i] = (lo, loc, hi, hic)
        elif m == 'drop' and len(ivs) > 1:
            del ivs[i]
        elif m == 'point':
            t = hi if hi is not None else lo
            ivs.insert(r.randrange(len(ivs) + 1), (t, True, t, True))
        for (lo, _, hi, _) in ivs:
            for t in (lo, hi):
                if t is not None and not isinstance(t, str):
                    self.note_threshold(ax, t)
        return ivs

    def enum_partition(self, ax):
        r = self.rng
        vals = list(self.p.enum_values(ax.typ[1]))
        if r.random() < 0.5:
            r.shuffle(vals)
        k = r.randint(2, min(3, len(vals)))
        cuts = sorted(r.sample(range(1, len(vals)), k - 1))
        groups = []
        prev = 0
        for c in cuts + [len(vals)]:
            groups.append(vals[prev:c])
            prev = c
        return groups

    def mutate_enum(self, ax, groups):
        r = self.rng
        groups = [list(g) for g in groups]
        i = r.randrange(len(groups))
        if r.random() < 0.5 and len(groups[i]) > 1:
            groups[i].pop(r.randrange(len(groups[i])))
        elif len(groups) > 1:
            j = (i + 1) % len(groups)
            groups[i].append(r.choice(groups[j]))
        else:
            groups[i].pop()
            if not groups[i]:
                groups.pop(i)
        return [g for g in groups if g] or [list(self.p.enum_values(ax.typ[1]))]

    def partition(self, ax, mutate_p):
        if ax.kind in ('text', 'set'):
            parts = self.text_partition(ax)
            if self.rng.random() < mutate_p and len(parts) > 1:
                parts.pop(self.rng.randrange(len(parts)))
            return parts
        if ax.kind == 'num':
            parts = self.num_partition(ax)
            if self.rng.random() < mutate_p:
                parts = self.mutate_num(ax, parts)
            return parts
        if ax.kind == 'enum':
            parts = self.enum_partition(ax)
            if self.rng.random() < mutate_p:
                parts = self.mutate_enum(ax, parts)
            return parts
        parts = [[True], [False]]
        if self.rng.random() < mutate_p * 0.3:
            parts = [[True]]
        return parts

    def cell_partition(self, ax, mutate_p):
        if ax.kind == 'text':
            parts = self.text_partition(ax, for_cells=True)
            if self.rng.random() < mutate_p:
                parts.pop(self.rng.randrange(len(parts)))
            return parts
        return self.partition(ax, mutate_p)

    def text_partition(self, ax, for_cells=False):
        r = self.rng
        if ax.kind == 'set':
            E = ax.typ[1]
            v = ('enumv', E, r.choice(self.p.enum_values(E)))
            return [('has', v), ('hasnot', v)]
        pool = list(ax.thresholds) or TEXT_POOL[:3]
        x = r.random()
        if x < 0.4 or for_cells:
            if r.random() < 0.5:
                t = r.choice(pool)
                return [('eq', t), ('neq', t)]
            ts = r.sample(pool, min(2, len(pool)))
            return [('in', ts), ('notin', ts)]
        sub = r.choice(['公司', '特', 'G00', ', ', '"'])
        if x < 0.8:
            return [('contains', sub), ('notcontains', sub)]
        return [('startswith', sub), ('notstartswith', sub)]

    def text_cond(self, ax, part):
        r = self.rng
        ref = ax.expr
        k = part[0]
        if ax.kind == 'set':
            v = part[1]
            if r.random() < 0.5:
                c = ('contains', ref, v, 'op')
                return c if k == 'has' else ('not', c)
            return ('member', v, ref, k == 'hasnot')
        if k == 'eq':
            return ('cmp', '==', ref, ('text', part[1]))
        if k == 'neq':
            return ('cmp', '!=', ref, ('text', part[1]))
        if k in ('in', 'notin'):
            return ('inset', ref, [('text', t) for t in part[1]], k == 'notin')
        if k in ('contains', 'notcontains'):
            c = ('contains', ref, ('text', part[1]), 'fn' if r.random() < 0.1 else 'op')
            return c if k == 'contains' else ('not', c)
        c = ('contains', ref, ('text', part[1]), 'startswith')
        return c if k == 'startswith' else ('not', c)

    def part_cond(self, ax, part):
        """A condition selecting one part of an axis (without the presence guard)."""
        r = self.rng
        ref = ax.expr
        if ax.kind in ('text', 'set'):
            return self.text_cond(ax, part)
        if ax.kind == 'num':
            if part[0] == 'point':
                return ('cmp', '==', ref, self.threshold_expr(part[1], ax.typ))
            if part[0] == 'notpoint':
                if r.random() < 0.5:
                    return ('cmp', '!=', ref, self.threshold_expr(part[1], ax.typ))
                return ('not', ('cmp', '==', ref, self.threshold_expr(part[1], ax.typ)))
            lo, loc, hi, hic = part
            if lo is not None and hi is not None and lo == hi and loc and hic and r.random() < 0.7:
                return ('cmp', '==', ref, self.threshold_expr(lo, ax.typ))
            cs = []
            if lo is not None:
                cs.append(self.bound_cond(ax, ref, lo, loc, lower=True))
            if hi is not None:
                cs.append(self.bound_cond(ax, ref, hi, hic, lower=False))
            if not cs:
                return self.tautology(ax)
            if len(cs) == 2 and r.random() < 0.3:
                cs.reverse()
            c = cs[0]
            for x in cs[1:]:
                c = ('and', c, x)
            return c
        if ax.kind == 'enum':
            E = ax.typ[1]
            allv = self.p.enum_values(E)
            group = part
            lit = lambda v: ('enumv', E, v)
            idx = sorted(allv.index(v) for v in group)
            choices = ['in']
            if len(group) == 1:
                choices += ['eq', 'eq']
            comp = [v for v in allv if v not in group]
            if len(comp) == 1:
                choices.append('neq')
            if comp:
                choices.append('notin')
            if idx == list(range(idx[0], idx[-1] + 1)):
                if idx[0] == 0 and idx[-1] < len(allv) - 1:
                    choices.append('le')
                if idx[-1] == len(allv) - 1 and idx[0] > 0:
                    choices.append('ge')
            ch = r.choice(choices)
            if ch == 'eq':
                return ('cmp', '==', ref, lit(group[0]))
            if ch == 'neq':
                return ('cmp', '!=', ref, lit(comp[0]))
            if ch == 'notin':
                return ('inset', ref, [lit(v) for v in comp], True)
            if ch == 'le':
                v = allv[idx[-1]]
                return ('cmp', '<=', ref, lit(v)) if r.random() < 0.5 else ('cmp', '<', ref, lit(allv[idx[-1] + 1]))
            if ch == 'ge':
                v = allv[idx[0]]
                return ('cmp', '>=', ref, lit(v)) if r.random() < 0.5 else ('cmp', '>', ref, lit(allv[idx[0] - 1]))
            return ('inset', ref, [lit(v) for v in group], False)
        # bool
        if len(part) == 2:
            return self.tautology(ax)
        b = part[0]
        x = r.random()
        if x < 0.4:
            return ('truth', ref) if b else ('not', ('truth', ref))
        if x < 0.8:
            return ('cmp', '==', ref, ('bool', b))
        return ('cmp', '!=', ref, ('bool', not b))

    def tautology(self, ax):
        ref = ax.expr
        if ax.kind in ('text', 'set'):
            a, b = self.text_partition(ax)
            return ('or', self.text_cond(ax, a), self.text_cond(ax, b))
        if ax.kind == 'bool':
            return ('or', ('truth', ref), ('not', ('truth', ref)))
        if ax.kind == 'enum':
            return ('inset', ref, [('enumv', ax.typ[1], v) for v in self.p.enum_values(ax.typ[1])], False)
        v = self.threshold_expr(ax.thresholds[0] if ax.thresholds else F(0), ax.typ)
        return ('or', ('cmp', '<', ref, v), ('cmp', '>=', ref, v))

    def bound_cond(self, ax, ref, t, closed, lower):
        r = self.rng
        is_int = ax.typ == 'int' and t.denominator == 1
        x = r.random()
        if lower:
            op = '>=' if closed else '>'
            if is_int and x < 0.2:
                # the same set written with the neighbouring whole number
                return ('cmp', '>' if closed else '>=', ref, self.threshold_expr(t - 1 if closed else t + 1, ax.typ))
            if x < 0.35:
                return ('not', ('cmp', '<' if closed else '<=', ref, self.threshold_expr(t, ax.typ)))
            if x < 0.45:
                return ('cmp', '<=' if closed else '<', self.threshold_expr(t, ax.typ), ref)
            return ('cmp', op, ref, self.threshold_expr(t, ax.typ))
        op = '<=' if closed else '<'
        if is_int and x < 0.2:
            return ('cmp', '<' if closed else '<=', ref, self.threshold_expr(t + 1 if closed else t - 1, ax.typ))
        if x < 0.35:
            return ('not', ('cmp', '>' if closed else '>=', ref, self.threshold_expr(t, ax.typ)))
        if x < 0.45:
            return ('cmp', '>=' if closed else '>', self.threshold_expr(t, ax.typ), ref)
        return ('cmp', op, ref, self.threshold_expr(t, ax.typ))

    def part_cell(self, ax, part):
        r = self.rng
        if ax.kind == 'text':
            k = part[0]
            if k == 'eq':
                return ('eq', ('text', part[1]))
            if k == 'neq':
                return ('set', [('text', part[1])], True)
            if k in ('in', 'notin'):
                return ('set', [('text', t) for t in part[1]], k == 'notin')
            raise InternalError('no cell for %r' % (part,))
        if ax.kind == 'num':
            if part[0] == 'point':
                return ('eq', self.threshold_expr(part[1], ax.typ))
            if part[0] == 'notpoint':
                return ('cmp', '!=', self.threshold_expr(part[1], ax.typ))
            lo, loc, hi, hic = part
            te = lambda v: self.threshold_expr(v, ax.typ)
            if lo is None and hi is None:
                return ('any',)
            if lo is None:
                return ('cmp', '<=' if hic else '<', te(hi))
            if hi is None:
                return ('cmp', '>=' if loc else '>', te(lo))
            if lo == hi and loc and hic and r.random() < 0.6:
                return ('eq', te(lo))
            return ('range', loc, te(lo), te(hi), hic)
        if ax.kind == 'enum':
            E = ax.typ[1]
            allv = self.p.enum_values(E)
            lit = lambda v: ('enumv', E, v)
            if len(part) == len(allv) and set(part) == set(allv):
                return ('any',)
            comp = [v for v in allv if v not in part]
            x = r.random()
            if len(part) == 1 and x < 0.5:
                return ('eq', lit(part[0]))
            if comp and x < 0.7:
                return ('set', [lit(v) for v in comp], True)
            idx = sorted(allv.index(v) for v in part)
            if idx == list(range(idx[0], idx[-1] + 1)) and x < 0.85:
                if idx[0] == 0:
                    return ('cmp', '<=', lit(allv[idx[-1]]))
                if idx[-1] == len(allv) - 1:
                    return ('cmp', '>=', lit(allv[idx[0]]))
            return ('set', [lit(v) for v in part], False)
        if len(part) == 2:
            return ('any',)
        return ('eq', ('bool', part[0]))

    # ---- results
    def result_expr(self, typ, allow_failable=True, allow_reject=True, allow_exprs=True):
        r = self.rng
        if allow_reject and r.random() < 0.025:
            return ('reject', '拒绝%d' % r.randint(1, 9))
        if allow_exprs and r.random() < 0.2:
            cands = []
            for a in self.axes:
                if a.typ == typ and not a.optional and (allow_failable or not a.failable) and a.kind != 'other':
                    cands.append(('ref', a.name))
            for d in self.p.decisions:
                if isinstance(d, DecList) and d.private and d.typ == typ and (allow_failable or getattr(d, 'safe', False)):
                    cands.append(('ref', d.name))
            if cands:
                e = r.choice(cands)
                if typ in ('int', 'decimal') and r.random() < 0.3:
                    e = ('bin', '+', e, ('num', F(1), 'int'))
                if typ == 'money' and r.random() < 0.3:
                    e = ('bin', '*', e, ('num', F('0.5'), 'decimal'))
                return ('expr', e)
        return ('expr', self.const_result(typ))

    def const_result(self, typ):
        r = self.rng
        if is_enum(typ):
            vals = self.p.enum_values(typ[1])[:-1]
            return ('enumv', typ[1], r.choice(vals))
        if typ == 'int':
            return ('num', F(r.randint(-3, 20)), 'int')
        if typ == 'decimal':
            return ('num', F(r.choice(['0.5', '1.25', '-0.75', '3', '0', '0.001', '2'])), 'decimal')
        if typ == 'money':
            return ('num', F(r.choice([0, 100, 50000, 1500000, -2000, '0.5'])), 'money')
        if typ == 'bool':
            return ('bool', r.random() < 0.5)
        if typ == 'text':
            return ('text', r.choice(['甲类', '乙类', '特殊', 'a "q"', 'x\\y']))
        raise InternalError('no const of %r' % (typ,))

    def pick_result_type(self):
        r = self.rng
        x = r.random()
        if x < 0.6:
            return ('enum', r.choice(self.result_enums()))
        return r.choice(['int', 'decimal', 'money', 'bool', 'text'])

    def cond_axes(self, allow_failable):
        axes = [a for a in self.axes if a.kind in ('num', 'enum', 'bool', 'text', 'set') and (allow_failable or not a.failable)]
        return axes + self.inline_axes()

    def inline_axes(self):
        """Arithmetic written inside a condition: `a + b`, `a - b`, `a` against `b`."""
        r = self.rng
        out = []
        nums = [f for f in self.p.fields if f.typ in NUMERIC and not f.optional]
        opts = [f for f in self.p.fields if f.typ in NUMERIC and f.optional]
        if opts and r.random() < 0.3:
            o = r.choice(opts)
            d = r.choice(o.thresholds) if o.thresholds else F(0)
            self.n += 1
            ax = Axis('inline%d' % self.n, o.typ, thresholds=list(o.thresholds) + [d + UNIT[o.typ]])
            ax.inline = ('coal', ('ref', o.name), ('num', d, o.typ))
            out.append(ax)
        if nums and r.random() < 0.3:
            a = r.choice(nums)
            c = F(r.choice(['3', '7', '0.3', '-3', '6']))
            self.n += 1
            ths = [round12(x / c)[0] for x in a.thresholds] + [F('0.333333333333'), F('0.666666666667')]
            ax = Axis('inline%d' % self.n, 'money' if a.typ == 'money' else 'decimal', thresholds=ths,
                      source=('affine', a.name, 1 / c, F(0)))
            ax.inline = ('bin', '/', ('ref', a.name), ('num', c, 'int' if c.denominator == 1 else 'decimal'))
            self.inline_sources.append(ax)
            out.append(ax)
        for _ in range(2):
            if len(nums) < 2 or r.random() < 0.5:
                break
            a = r.choice(nums)
            same = [f for f in nums if f is not a and (f.typ == a.typ or (a.typ != 'money' and f.typ != 'money'))]
            if not same:
                continue
            b = r.choice(same)
            op = r.choice(['+', '-', '-'])
            typ = a.typ if a.typ == b.typ else 'decimal'
            self.n += 1
            ax = Axis('inline%d' % self.n, typ, thresholds=self.gen_thresholds(typ))
            if op == '-' and r.random() < 0.5:
                ax.thresholds = [F(0)] + ax.thresholds[:1]   # `a - b < 0`, i.e. a < b
            ax.inline = ('bin', op, ('ref', a.name), ('ref', b.name))
            out.append(ax)
        return out

    def column_axes(self):
        return [a for a in self.axes if a.kind in ('num', 'enum', 'bool', 'text') and not a.failable]

    # ---- decision lists
    def gen_declist(self, name):
        r = self.rng
        typ = self.pick_result_type()
        axes = self.cond_axes(True)
        ax1 = r.choice(axes)
        rows = []
        guard_style = None
        if ax1.optional:
            guard_style = r.choice(['missing-row', 'guard'])
        parts1 = self.partition(ax1, 0.5)
        ax2 = None
        if r.random() < 0.4:
            c2 = [a for a in axes if a.name != ax1.name and not a.failable]
            if c2:
                ax2 = r.choice(c2)
        for pt in parts1:
            c = self.part_cond(ax1, pt)
            if guard_style == 'guard':
                c = ('and', ('present', ax1.name), c)
            if ax2 is not None and r.random() < 0.6:
                for pt2 in self.partition(ax2, 0.3):
                    c2 = self.part_cond(ax2, pt2)
                    if ax2.optional:
                        c2 = ('and', ('present', ax2.name), c2)
                    rows.append([('and', c, c2), self.result_expr(typ)])
            else:
                rows.append([c, self.result_expr(typ)])
        if r.random() < 0.3:
            r.shuffle(rows)
        if guard_style == 'missing-row':
            rows.insert(0, [('missing', ax1.name), self.result_expr(typ)])
        elif guard_style == 'guard' and r.random() < 0.5:
            rows.append([('missing', ax1.name), self.result_expr(typ)])
        if r.random() < 0.25:
            # an extra row of random tests, anywhere after the missing-row
            safe = [a for a in axes if not a.failable]
            c = self.random_atom(r.choice(safe))
            if r.random() < 0.4:
                c = (r.choice(['and', 'or']), c, self.random_atom(r.choice(safe)))
            rows.insert(r.randint(1 if guard_style == 'missing-row' else 0, len(rows)), [c, self.result_expr(typ)])
        fail_axes = [a for a in axes if a.failable and not a.optional]
        if fail_axes and r.random() < 0.3:
            fa = r.choice(fail_axes)
            c = self.random_atom(fa)
            rows.insert(r.randint(1 if guard_style == 'missing-row' else 0, len(rows)), [c, self.result_expr(typ)])
        els = self.result_expr(typ) if r.random() < 0.35 else None
        d = DecList(name, typ, [tuple(x) for x in rows], els, private=r.random() < 0.2)
        d.safe = (els is not None and not ax1.failable and
                  all(x[1][0] != 'reject' for x in rows) and els[0] != 'reject' and
                  not any(self.mentions_failable(x[0]) or self.mentions_failable(x[1][1]) for x in rows
                          if x[1][0] == 'expr') and
                  not (els[0] == 'expr' and self.mentions_failable(els[1])))
        d.optional = False
        return d

    def mentions_failable(self, e):
        if isinstance(e, tuple):
            if e and e[0] == 'ref':
                for a in self.axes:
                    if a.name == e[1]:
                        return a.failable
                d = self.p.decision_of_output(e[1])
                if d is not None:
                    return not getattr(d, 'safe', False)
                return False
            return any(self.mentions_failable(x) for x in e[1:])
        if isinstance(e, list):
            return any(self.mentions_failable(x) for x in e)
        return False

    # ---- tables
    def gen_table(self, name):
        r = self.rng
        policy = r.choice(['first', 'first', 'unique', 'unique', 'unique', 'any', 'priority', 'collect', 'collect'])
        agg = None
        if policy == 'collect':
            agg = r.choice(['sum', 'min', 'max', 'count', 'list'])
        cand = self.column_axes()
        if not cand:
            return None
        ncols = min(len(cand), r.choice([1, 2, 2, 3]))
        axes = r.sample(cand, ncols)
        parts = [self.cell_partition(a, 0.0) for a in axes]
        # keep the product small
        while len(axes) > 1:
            n = 1
            for pp in parts:
                n *= len(pp)
            if n <= 16:
                break
            axes.pop()
            parts.pop()
        rows = [[]]
        for a, pp in zip(axes, parts):
            rows = [row + [self.part_cell(a, pt)] for row in rows for pt in pp]
        # outputs
        multi = policy in ('first', 'unique', 'any') and r.random() < 0.2
        if policy == 'priority':
            outs = [(name, ('enum', r.choice(self.result_enums())))]
        elif policy == 'collect':
            if agg == 'count':
                outs = [(name, 'int')]
            elif agg == 'list':
                outs = [(name, ('set', r.choice(self.result_enums())))]
            else:
                outs = [(name, r.choice(['int', 'decimal', 'money']))]
        elif multi:
            outs = [(name + '甲', self.pick_result_type()), (name + '乙', r.choice(['int', 'text', ('enum', r.choice(self.result_enums()))]))]
            for o, _ in outs:
                self.used.add(o)
        else:
            typ = self.pick_result_type()
            if typ == 'bool':
                typ = 'int'
            outs = [(name, typ)]

        def res():
            out = []
            for o, t in outs:
                if t[0] == 'set' if isinstance(t, tuple) else False:
                    out.append(('enumv', t[1], r.choice(self.p.enum_values(t[1])[:-1])))
                elif policy == 'collect' and agg == 'count':
                    out.append(('num', F(r.randint(0, 3)), 'int'))
                else:
                    out.append(self.const_result(t))
            return out
        trows = [(cells, res()) for cells in rows]
        # near-misses
        if r.random() < 0.5 and trows:
            i = r.randrange(len(trows))
            j = r.randrange(len(axes))
            a = axes[j]
            mutated = self.cell_partition(a, 1.0)
            cells = list(trows[i][0])
            cells[j] = self.part_cell(a, r.choice(mutated))
            trows[i] = (cells, trows[i][1])
        if r.random() < 0.3 and len(trows) > 1:
            del trows[r.randrange(len(trows))]
        if policy == 'any' and trows and r.random() < 0.7:
            i = r.randrange(len(trows))
            cells = list(trows[i][0])
            j = r.randrange(len(cells))
            cells[j] = ('any',)
            same = r.random() < 0.5
            trows.insert(r.randint(0, len(trows)), (cells, list(trows[i][1]) if same else res()))
        if policy in ('first', 'collect', 'priority') and r.random() < 0.4:
            for _ in range(r.randint(1, 2)):
                cells = [self.part_cell(a, r.choice(self.cell_partition(a, 0.5))) if r.random() < 0.6 else ('any',)
                         for a in axes]
                trows.insert(r.randint(0, len(trows)), (cells, res()))
        if policy == 'first' and r.random() < 0.3:
            r.shuffle(trows)
        if policy in ('first', 'priority') and r.random() < 0.3:
            trows.append(([('any',)] * len(axes), res()))
        if not trows:
            trows = [([('any',)] * len(axes), res())]
        t = Table(name if not multi else name, policy, agg, [a.name for a in axes], trows, outs, multi=multi)
        t.optional = any(a.optional for a in axes)
        t.safe = (policy == 'collect' and agg in ('sum', 'count', 'list')) or \
                 (policy == 'first' and any(all(c == ('any',) for c in row[0]) for row in trows))
        return t

    # ---- grids
    def gen_grid(self, name):
        r = self.rng
        cand = self.column_axes()
        if len(cand) < 2:
            return None
        a1, a2 = r.sample(cand, 2)
        p1 = self.cell_partition(a1, 0.3)
        p2 = self.cell_partition(a2, 0.3)
        E = r.choice(self.result_enums())
        vals = self.p.enum_values(E)[:-1]
        coltests = [self.part_cell(a2, pt) for pt in p2]
        rows = [(self.part_cell(a1, pt), [('enumv', E, r.choice(vals)) for _ in coltests]) for pt in p1]
        g = Grid(name, ('enum', E), a1.name, a2.name, coltests, rows)
        g.optional = a1.optional or a2.optional
        g.safe = False
        return g

    # ---- segments
    def gen_segnode(self, name, depth, axes):
        r = self.rng
        node = SegNode(name)
        ax = r.choice(axes)
        if ax.optional and r.random() < 0.7:
            # `when x is present -> N { ... x unguarded ... }`
            inner = Axis(ax.name, ax.typ, optional=False, failable=ax.failable, thresholds=ax.thresholds)
            child_axes = [a for a in axes if a.name != ax.name] + [inner]
            child = self.gen_segnode(self.seg_name(), depth + 1, child_axes) if depth < 3 else SegNode(self.seg_name())
            node.branches.append((('present', ax.name), child))
            if r.random() < 0.7:
                node.els = SegNode(self.seg_name())
            return node
        parts = self.partition(ax, 0.35)
        for pt in parts:
            c = self.part_cond(ax, pt)
            if ax.optional:
                c = ('and', ('present', ax.name), c)
            if depth < 3 and r.random() < 0.3:
                ch = self.gen_segnode(self.seg_name(), depth + 1, axes)
            else:
                ch = SegNode(self.seg_name())
            node.branches.append((c, ch))
        if r.random() < 0.4:
            if depth < 3 and r.random() < 0.3:
                node.els = self.gen_segnode(self.seg_name(), depth + 1, axes)
            else:
                node.els = SegNode(self.seg_name())
        return node

    def seg_name(self):
        self.n += 1
        return self.rng.choice(['段', 'S', '客户', 'Seg']) + str(self.n)

    # ---- the whole file
    def decision_axis(self, d):
        for o, t in d.outputs:
            if (is_enum(t) or t in ('int', 'bool')):
                ax = Axis(o, t, optional=getattr(d, 'optional', False),
                          failable=not getattr(d, 'safe', False),
                          thresholds=[F(x) for x in self.rng.sample(range(-3, 21), 2)] if t == 'int' else [])
                self.axes.append(ax)

    def generate(self):
        r = self.rng
        self.gen_enums()
        self.gen_fields()
        self.gen_lets()
        for _ in range(r.randint(2, 8)):
            name = self.fresh(['d', '规模', '档', 'T', '等级', '分', 'g'])
            x = r.random()
            if x < 0.4:
                d = self.gen_declist(name)
            elif x < 0.8:
                d = self.gen_table(name)
            else:
                d = self.gen_grid(name)
            if d is None:
                continue
            self.p.decisions.append(d)
            if not d.private:
                self.decision_axis(d)
            elif isinstance(d, DecList):
                self.decision_axis(d)
        if r.random() < 0.7:
            self.p.segments = self.gen_segnode('根' + str(self.n), 1, self.cond_axes(False))
        # order of declarations: lets and decisions may come in any order
        order = list(self.p.lets) + list(self.p.decisions)
        if r.random() < 0.3:
            r.shuffle(order)
        self.p.order = order
        return self.p, self.used_thresholds


# ----------------------------------------------------------------------------
# records
# ----------------------------------------------------------------------------

def affine_sources(gen):
    out = {}
    for a in gen.axes + gen.inline_sources:
        if a.source and a.source[0] == 'affine':
            out[a.name] = a.source
    return out


def field_candidates(prog, f, used, sources):
    ts = set(f.thresholds) | set(used.get(f.name, set()))
    for lname, (_, fname, mul, add) in sources.items():
        if fname == f.name:
            for v in used.get(lname, set()):
                ts.add((v - add) / mul)
    if f.rng is not None:
        ts.add(f.rng[2])
        if f.rng[0] == 'in':
            ts.add(f.rng[3])
    units = {'int': [F(1)], 'decimal': [F(1, 1000), F(1, 4), F(1, 10 ** 12)],
             'money': [F(1, 100), F(1), F(1, 10 ** 12)]}[f.typ]
    cands = set()
    for t in ts:
        for u in units:
            for x in (t - u, t, t + u):
                cands.add(x)
    out = []
    for x in cands:
        if f.typ == 'int':
            if x.denominator != 1:
                out.append(F(x.numerator // x.denominator))
                out.append(F(x.numerator // x.denominator + 1))
            else:
                out.append(x)
        else:
            if terminates(x) and frac_digits(x) <= 12:
                out.append(x)
    return sorted(set(out))


def number_text(v, typ, rng):
    if typ == 'int':
        s = str(int(v))
        if rng.random() < 0.05:
            s += '.0'
        return s
    s = dec_str(v)
    if v == 0 and rng.random() < 0.2:
        return rng.choice(['-0', '0.0', '-0.000'])
    if rng.random() < 0.06 and v != 0 and v.denominator == 1 and abs(v) >= 1000:
        # exponent form, e.g. 1.5e8
        n = abs(int(v))
        k = 0
        while n % 10 == 0:
            n //= 10
            k += 1
        if k >= 2:
            digits = str(n)
            mant = digits[0] + ('.' + digits[1:] if len(digits) > 1 else '')
            s = ('-' if v < 0 else '') + mant + 'e' + str(k + len(digits) - 1)
    return s


TEXT_POOL = ['特殊', '普通', '特殊公司', '某某有限公司', 'G001', 'G002', 'a, b', 'say "hi"', '其他', '两\n行', ' 空格 ']


def t_is_checked(t):
    return t != 'text' and not (isinstance(t, tuple) and t[0] == 'set')


def gen_value(prog, f, cands, rng, fmt):
    """Returns raw: None (missing) or (json_kind, text)."""
    x = rng.random()
    t = f.typ
    csv_set = fmt == 'csv' and isinstance(t, tuple) and t[0] == 'set'   # an empty cell is the empty set
    if f.optional and x < 0.12 and not csv_set:
        return None
    if not f.optional and x < 0.008 and not csv_set:
        return None
    if rng.random() < 0.005 and t_is_checked(f.typ):
        bad = {'int': '1.5', 'decimal': 'abc', 'money': '12块', 'bool': 'maybe'}.get(f.typ, '不存在')
        return ('str', bad)
    t = f.typ
    if t == 'bool':
        b = rng.random() < 0.5
        if fmt == 'jsonl' and rng.random() < 0.8:
            return ('bool', 'true' if b else 'false')
        return ('str', rng.choice(['true', '1', '是'] if b else ['false', '0', '否']))
    if is_enum(t):
        return ('str', rng.choice(prog.enum_values(t[1])))
    if t == 'text':
        return ('str', rng.choice(cands + TEXT_POOL))
    if isinstance(t, tuple) and t[0] == 'set':
        vals = prog.enum_values(t[1])
        return ('set', [v for v in vals if rng.random() < 0.4])
    if f.rng is not None and rng.random() < 0.93:
        inside = [c for c in cands if in_range(f.rng, c)]
        if inside:
            cands = inside
    if cands and rng.random() < 0.8:
        v = rng.choice(cands)
    else:
        if t == 'int':
            v = F(rng.randint(-15, 15))
        elif t == 'decimal':
            v = F(rng.randint(-3000, 4000), 1000)
        else:
            v = F(rng.choice([rng.randint(-100000, 100000), rng.randint(-10 ** 9, 10 ** 9)]), rng.choice([1, 100]))
    if f.rng is not None and not in_range(f.rng, v) and rng.random() < 0.9:
        inside = [c for c in cands if in_range(f.rng, c)]
        if inside:
            v = rng.choice(inside)
    s = number_text(v, t, rng)
    return ('num' if rng.random() < 0.75 else 'str', s)


def cex_raw(prog, cex):
    """The counter-example as a record (raw values)."""
    rec = {}
    for f in prog.fields:
        v = cex.get(f.name, None)
        if v is None:
            rec[f.name] = None
        elif isinstance(v, bool):
            rec[f.name] = ('bool', 'true' if v else 'false')
        elif isinstance(v, (int, Decimal)):
            rec[f.name] = ('num', dec_str(F(v)) if not isinstance(v, int) else str(v))
        elif isinstance(v, list):
            rec[f.name] = ('set', [str(x) for x in v])
        else:
            rec[f.name] = ('str', str(v))
    return rec


def write_records(prog, recs, path, fmt, rng):
    """Writes the records; returns the line each record starts on (1-based)."""
    starts = []
    if fmt == 'csv':
        eol = '\r\n' if rng.random() < 0.2 else '\n'
        quote_all = rng.random() < 0.15
        blank = rng.random() < 0.15
        out = []
        line = 1

        def emit(row):
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator=eol, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
            w.writerow(row)
            return buf.getvalue()
        text = emit(['id'] + [f.column for f in prog.fields])
        out.append(text)
        line += text.count('\n')
        for i, rec in enumerate(recs, 1):
            if blank and rng.random() < 0.1:
                out.append(eol)
                line += 1
            row = [str(i)]
            for f in prog.fields:
                raw = rec.get(f.name)
                if raw is not None and raw[0] == 'set':
                    row.append(';'.join(raw[1]))
                else:
                    row.append('' if raw is None else raw[1])
            text = emit(row)
            starts.append(line)
            out.append(text)
            line += text.count('\n')
        data = ''.join(out)
        if rng.random() < 0.15:
            data = '\ufeff' + data
    else:
        lines = []
        blank = rng.random() < 0.15
        for i, rec in enumerate(recs, 1):
            if blank and rng.random() < 0.1:
                lines.append('')
            parts = ['"id": %d' % i]
            for f in prog.fields:
                raw = rec.get(f.name)
                key = json.dumps(f.column, ensure_ascii=False)
                if raw is None:
                    if rng.random() < 0.5:
                        parts.append('%s: null' % key)
                    continue
                kind, s = raw
                if kind in ('num', 'bool'):
                    parts.append('%s: %s' % (key, s))
                elif kind == 'set':
                    parts.append('%s: %s' % (key, json.dumps(list(s), ensure_ascii=False)))
                else:
                    parts.append('%s: %s' % (key, json.dumps(s, ensure_ascii=False)))
            if rng.random() < 0.5:
                rng.shuffle(parts)
            starts.append(len(lines) + 1)
            lines.append('{' + ', '.join(parts) + '}')
        data = '\n'.join(lines) + '\n'
    with open(path, 'w', encoding='utf-8', newline='') as fh:
        fh.write(data)
    return starts


def read_record(prog, rec):
    """(vals, field_errors): field_errors is a list of (field, category)."""
    vals, errs = {}, []
    for f in prog.fields:
        raw = rec.get(f.name)
        if raw is not None:
            kind, s = raw
            if kind == 'bool':
                raw = ('json', s == 'true')
            elif kind == 'num':
                raw = ('str', s)
            elif kind == 'set':
                raw = ('set', s)
        v, err = field_value(prog, f, raw)
        if err:
            errs.append((f, err))
        else:
            vals[f.name] = v
    return vals, errs


# ----------------------------------------------------------------------------
# the engine
# ----------------------------------------------------------------------------

def binary_in_flux(binary):
    """The other engineer may be rebuilding the binary right now."""
    try:
        return time.time() - os.stat(binary).st_mtime < 120
    except OSError:
        return True


def run_engine(args, timeout=120):
    """Runs the binary; an odd failure while the binary is being rebuilt
    (missing, just replaced, killed by a signal) is retried after 30 s."""
    for attempt in range(3):
        try:
            pr = subprocess.run(args, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, '', 'timeout'
        except OSError:
            time.sleep(30)
            continue
        odd = pr.returncode not in (0, 1, 2)
        if odd and attempt < 2 and binary_in_flux(args[0]):
            time.sleep(30)
            continue
        return pr.returncode, pr.stdout.decode('utf-8', 'replace'), pr.stderr.decode('utf-8', 'replace')
    return None, '', 'the binary could not be run'


def run_check(binary, path):
    rc, out, err = run_engine([binary, 'check', path, '--diagnostics', 'json'])
    diags = []
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            diags.append(json.loads(line, parse_float=Decimal))
        except ValueError:
            return rc, None, out + err
    return rc, diags, out + err


class Diags:
    """check's findings, by node."""

    def __init__(self, diags, rmap, prog):
        self.gap = {}            # node -> diag
        self.np_gap = set()
        self.overlap = {}        # table -> [((line1, line2), diag)]
        self.np_overlap = {}     # table -> set of line pairs (or 'all')
        self.unreachable = []    # (node, row) rows: index, 'else', ('cell', ri, ci) ...
        self.other_errors = []
        self.unmapped = []
        for d in diags:
            code = d.get('code')
            msg = d.get('message', '')
            names = re.findall(r'`([^`]+)`', msg)
            m = re.search(r'rows at lines (\d+) and (\d+) of table `([^`]+)`', msg)
            if code == 'gap':
                self.gap[names[0] if names else '?'] = d
            elif code == 'overlap':
                if m:
                    self.overlap.setdefault(m.group(3), []).append(((int(m.group(1)), int(m.group(2))), d))
                else:
                    self.unmapped.append(d)
            elif code == 'not-proven':
                if 'never both apply' in msg and m:
                    self.np_overlap.setdefault(m.group(3), set()).add((int(m.group(1)), int(m.group(2))))
                elif names:
                    self.np_gap.add(names[0])
                    if 'never both' in msg:
                        self.np_overlap.setdefault(names[0], set()).add('all')
                else:
                    # a not-proven we cannot attribute: assume it covers everything
                    self.unmapped.append(d)
            elif code == 'unreachable':
                loc = locate(rmap, prog, d.get('line'), d.get('column'))
                if loc is None:
                    self.unmapped.append(d)
                else:
                    self.unreachable.append((loc, d))
            elif d.get('severity') == 'error':
                self.other_errors.append(d)

    def errors(self):
        return bool(self.gap or self.overlap or self.other_errors)


def locate(rmap, prog, line, col):
    """The row/branch/cell a diagnostic at (line, col) points at."""
    if (line, col) in rmap.grid_pos:
        g = None
        for d in prog.decisions:
            if isinstance(d, Grid) and line in rmap.row_lines.get(d.name, []) + [rmap.row_lines.get(d.name, [0])[0] - 1]:
                g = d
        if g is not None:
            return (g.name, rmap.grid_pos[(line, col)])
    for name, lines in rmap.row_lines.items():
        if line in lines:
            d = prog.decision(name)
            if isinstance(d, Grid):
                # a grid cell: find the nearest cell start at or before col
                best = None
                for (l, c), what in rmap.grid_pos.items():
                    if l == line and c <= col and (best is None or c > best[0]):
                        best = (c, what)
                return (name, best[1]) if best else None
            return (name, lines.index(line))
    for name, lines in rmap.seg_branch_lines.items():
        if line in lines:
            return (name, lines.index(line))
    for name, l in rmap.else_line.items():
        if l == line:
            return (name, 'else')
    return None


# ----------------------------------------------------------------------------
# the checks
# ----------------------------------------------------------------------------

GAP_CATS = ('no-branch', 'no-row', 'no-seg')
REJECTING_POLICIES = ('first', 'unique', 'any', 'priority')


class RefResult:
    def __init__(self, vals, errs, ref=None, outs=None, memo=None, internal=None):
        self.vals, self.errs, self.ref, self.outs, self.memo, self.internal = vals, errs, ref, outs, memo, internal


def ref_eval_all(prog, recs):
    res = []
    for rec in recs:
        vals, errs = read_record(prog, rec)
        if errs:
            res.append(RefResult(vals, errs))
            continue
        ref = Ref(prog, vals)
        try:
            outs = ref.outputs()
            memo = dict(ref.memo)
            ref.everything()
        except InternalError as e:
            res.append(RefResult(vals, errs, internal=str(e)))
            continue
        res.append(RefResult(vals, errs, ref, outs, memo))
    return res


def fmt_vals(prog, vals):
    parts = []
    for f in prog.fields:
        v = vals.get(f.name, MISSING)
        if v is MISSING:
            s = 'null'
        elif isinstance(v, F):
            s = dec_str(v)
        elif isinstance(v, frozenset):
            s = '{' + ', '.join(sorted(v)) + '}'
        elif isinstance(v, str) and f.typ == 'text':
            s = json.dumps(v, ensure_ascii=False)
        else:
            s = str(v).lower() if isinstance(v, bool) else str(v)
        parts.append('%s: %s' % (f.name, s))
    return '{ ' + ', '.join(parts) + ' }'


def fell_through(prog, name, tr):
    d = prog.decision(name)
    if isinstance(d, DecList):
        return tr == ('none',)
    if isinstance(d, Table):
        if tr[0] != 'matched' or tr[1]:
            return False
        return d.policy in REJECTING_POLICIES or (d.policy == 'collect' and d.agg in ('min', 'max'))
    if isinstance(d, Grid):
        return tr[0] in ('norow', 'nocol')
    return False


def row_results(ref, t, i):
    return tuple(ref.expr(r) for r in t.rows[i][1])


def overlap_pairs(ref, t, matched):
    pairs = []
    for a in range(len(matched)):
        for b in range(a + 1, len(matched)):
            i, j = matched[a], matched[b]
            if t.policy == 'unique' or row_results(ref, t, i) != row_results(ref, t, j):
                pairs.append((i, j))
    return pairs


def proof_checks(prog, rmap, D, results, fail, label):
    """Every proof of `stratum check` must hold for every record (reference)."""
    seen = set()

    def once(kind, key, msg):
        if (kind, key) not in seen:
            seen.add((kind, key))
            fail(kind, msg)
    unattributed_np = any(d.get('code') == 'not-proven' for d in D.unmapped)
    for rr in results:
        ref = rr.ref
        if ref is None:
            continue
        for name, tr in ref.trace.items():
            if fell_through(prog, name, tr) and name not in D.gap and name not in D.np_gap and not unattributed_np:
                once('unsound-gap', name, '%s: check proved `%s` total, but no row applies to %s'
                     % (label, name, fmt_vals(prog, rr.vals)))
            d = prog.decision(name)
            if isinstance(d, Table) and d.policy in ('unique', 'any') and tr[0] == 'matched' and len(tr[1]) > 1:
                pairs = overlap_pairs(ref, d, tr[1])
                lines = rmap.row_lines[d.name]
                reported = [pr for pr, _ in D.overlap.get(d.name, [])]
                np = D.np_overlap.get(d.name, set())
                for i, j in pairs:
                    lp = (lines[i], lines[j])
                    if lp in reported or (lp[1], lp[0]) in reported or np:
                        # a not-proven about a table claims nothing about it
                        # (docs/analysis.md), whichever pair it names
                        continue
                    if not reported and not np:
                        once('unsound-overlap', name, '%s: check proved table `%s` free of overlaps, but rows at lines %d and %d both apply to %s'
                             % (label, name, lp[0], lp[1], fmt_vals(prog, rr.vals)))
                    elif len(reported) < 5 and all(prog.field(c) is not None for c in d.cols):
                        once('overlap-not-reported', (name, lp), '%s: rows at lines %d and %d of table `%s` both apply to %s, and check did not report that pair (it reported %s)'
                             % (label, lp[0], lp[1], name, fmt_vals(prog, rr.vals), reported))
        for n, b in ref.seg_trace.items():
            if b == 'none' and n not in D.gap and n not in D.np_gap and not unattributed_np:
                once('unsound-gap', n, '%s: check proved segment node `%s` total, but no branch applies to %s'
                     % (label, n, fmt_vals(prog, rr.vals)))
        for (node, what), diag in D.unreachable:
            if reached(prog, ref, node, what):
                once('unsound-unreachable', (node, str(what)), '%s: check says the row at line %s:%s (%s) can never apply, but %s takes it'
                     % (label, diag.get('line'), diag.get('column'), node, fmt_vals(prog, rr.vals)))


def reached(prog, ref, node, what):
    d = prog.decision(node)
    if d is None:
        b = ref.seg_trace.get(node)
        return b is not None and b == what
    tr = ref.trace.get(node)
    if tr is None:
        return False
    if isinstance(d, DecList):
        return tr == ('else',) if what == 'else' else tr == ('row', what)
    if isinstance(d, Table):
        if tr[0] != 'matched' or not tr[1]:
            return False
        if d.policy == 'first':
            return tr[1][0] == what
        return what in tr[1]
    if isinstance(d, Grid):
        if what[0] == 'cell':
            return tr == ('cell', what[1], what[2])
        if what[0] == 'row':
            return (tr[0] == 'cell' and tr[1] == what[1]) or tr == ('nocol', what[1])
        if what[0] == 'col':
            return tr[0] == 'cell' and tr[2] == what[1]
    return False


def cex_values(prog, cex):
    """(vals, problem)"""
    vals = {}
    for f in prog.fields:
        if f.name not in cex:
            return None, 'field `%s` is not given' % f.name
        v = cex[f.name]
        if v is None:
            if not f.optional:
                return None, 'required field `%s` is null' % f.name
            vals[f.name] = MISSING
            continue
        t = f.typ
        if isinstance(t, tuple) and t[0] == 'set':
            if not isinstance(v, list) or any(x not in prog.enum_values(t[1]) for x in v):
                return None, '`%s` = %r is not a set of %s' % (f.name, v, t[1])
            vals[f.name] = frozenset(v)
            continue
        if t == 'text':
            if not isinstance(v, str):
                return None, '`%s` = %r is not a text' % (f.name, v)
            vals[f.name] = v
            continue
        if t == 'bool':
            if not isinstance(v, bool):
                return None, '`%s` = %r is not a bool' % (f.name, v)
        elif is_enum(t):
            if v not in prog.enum_values(t[1]):
                return None, '`%s` = %r is not a value of %s' % (f.name, v, t[1])
        else:
            if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
                return None, '`%s` = %r is not a number' % (f.name, v)
            v = F(v)
            if t == 'int' and v.denominator != 1:
                return None, '`%s` = %s is not whole' % (f.name, v)
            if t != 'int' and frac_digits(v) > 12:
                return None, '`%s` has more than 12 places' % f.name
            if f.rng is not None and not in_range(f.rng, v):
                return None, '`%s` = %s is outside the field\'s range' % (f.name, dec_str(v))
        vals[f.name] = v
    return vals, None


def verify_counterexamples(prog, rmap, D, fail, notes):
    out = []
    items = [('gap', n, d, None) for n, d in D.gap.items()]
    for t, lst in D.overlap.items():
        for lp, d in lst:
            items.append(('overlap', t, d, lp))
    for kind, node, d, lp in items:
        cex = d.get('counterexample')
        if not isinstance(cex, dict):
            fail('no-counterexample', '%s at `%s` (line %s) has no counter-example' % (kind, node, d.get('line')))
            continue
        vals, problem = cex_values(prog, cex)
        if problem:
            fail('cex-invalid', '%s at `%s`: counter-example %s: %s' % (kind, node, json.dumps(cex, ensure_ascii=False, default=str), problem))
            continue
        out.append(cex)
        ref = Ref(prog, vals)
        dec = prog.decision(node)
        try:
            if kind == 'gap':
                if dec is None:
                    try:
                        ref.eval_segments()
                        ok, what = False, 'lands in %s' % ref.eval_segments()
                    except EvalErr as e:
                        ok = e.cat == 'no-seg' and e.node == node
                        what = 'is rejected: %r' % (e,)
                else:
                    try:
                        if isinstance(dec, Table):
                            v = ref.get_table(dec)
                        else:
                            v = ref.get(dec.name)
                        ok, what = False, 'evaluates to %r' % (v if v is not MISSING else 'missing',)
                    except EvalErr as e:
                        ok = e.cat in GAP_CATS and e.node == node
                        what = 'is rejected: %r' % (e,)
                if not ok:
                    upstream = what.startswith('is rejected') and any(
                        isinstance(e, EvalErr) and e.cat in GAP_CATS and e.node != node for e in ref.memo.values())
                    fail('cex-upstream-gap' if upstream else 'cex-wrong',
                         'gap at `%s`: counter-example %s %s' % (node, fmt_vals(prog, vals), what))
            else:
                lines = rmap.row_lines[node]
                i, j = lines.index(lp[0]), lines.index(lp[1])
                try:
                    ref.get_table(dec)
                except EvalErr:
                    pass
                tr = ref.trace.get(node)
                ok = tr is not None and tr[0] == 'matched' and i in tr[1] and j in tr[1]
                if ok and dec.policy == 'any':
                    ok = row_results(ref, dec, i) != row_results(ref, dec, j)
                if not ok:
                    fail('cex-wrong', 'overlap of rows at lines %d and %d of `%s`: counter-example %s: matched rows %s'
                         % (lp[0], lp[1], node, fmt_vals(prog, vals),
                            [lines[k] for k in tr[1]] if tr and tr[0] == 'matched' else tr))
        except InternalError as e:
            notes.append('counter-example outside what the docs define: %s' % e)
    return out


def verify_unreachable_examples(prog, D, fail):
    for (node, what), d in D.unreachable:
        cex = d.get('counterexample')
        if not isinstance(cex, dict) or not isinstance(what, int):
            continue
        vals, problem = cex_values(prog, cex)
        if problem:
            fail('cex-invalid', 'unreachable row at line %s: example %s: %s'
                 % (d.get('line'), json.dumps(cex, ensure_ascii=False, default=str), problem))
            continue
        ref = Ref(prog, vals)
        dec = prog.decision(node)
        try:
            if isinstance(dec, DecList):
                try:
                    ref.get(dec.name)
                except EvalErr:
                    pass
                tr = ref.trace.get(node)
                own = ref.cond(dec.rows[what][0])
                ok = own and tr is not None and tr[0] == 'row' and tr[1] < what
            elif isinstance(dec, Table) and dec.policy == 'first':
                try:
                    ref.get_table(dec)
                except EvalErr:
                    pass
                tr = ref.trace.get(node)
                ok = tr is not None and tr[0] == 'matched' and what in tr[1] and tr[1][0] < what
            elif dec is None:
                try:
                    ref.eval_segments()
                except EvalErr:
                    pass
                b = ref.seg_trace.get(node)
                n = find_segnode(prog, node)
                ok = isinstance(b, int) and b < what and ref.cond(n.branches[what][0])
            else:
                continue
        except (EvalErr, InternalError) as e:
            ok = False
        if not ok:
            upstream = any(isinstance(e, EvalErr) for e in ref.memo.values())
            fail('unreachable-example-upstream' if upstream else 'unreachable-example',
                 'line %s: %s; its example %s does not show it%s'
                 % (d.get('line'), d.get('message'), fmt_vals(prog, vals),
                    ' (it is rejected: %r)' % [e for e in ref.memo.values() if isinstance(e, EvalErr)][0]
                    if upstream else ''))


def sentinel_expr(prog, typ):
    if is_enum(typ):
        return ('enumv', typ[1], prog.sentinel[typ[1]])
    return {'int': ('num', F(999), 'int'), 'decimal': ('num', F('999.5'), 'decimal'),
            'money': ('num', F(999), 'money'), 'bool': ('bool', False), 'text': ('text', 'GAP')}[typ]


def find_segnode(prog, name):
    if prog.segments is None:
        return None
    for n in prog.segments.walk():
        if n.name == name:
            return n
    return None


def patch(prog, D):
    changed = False
    for node in D.gap:
        d = prog.decision(node)
        if isinstance(d, DecList):
            if d.els is None:
                d.els = ('expr', sentinel_expr(prog, d.typ))
                changed = True
        elif isinstance(d, Table):
            if d.policy in ('unique', 'any'):
                d.policy = 'first'
            d.rows.append(([('any',)] * len(d.cols), [sentinel_expr(prog, t) for _, t in d.outs]))
            changed = True
        elif isinstance(d, Grid):
            s = sentinel_expr(prog, d.typ)
            d.coltests.append(('any',))
            d.rows = [(rt, res + [s]) for rt, res in d.rows]
            d.rows.append((('any',), [s] * len(d.coltests)))
            changed = True
        else:
            n = find_segnode(prog, node)
            if n is not None and n.els is None:
                n.els = SegNode(node + '缺口')
                changed = True
    for t in D.overlap:
        d = prog.decision(t)
        if d is not None and d.policy != 'first':
            d.policy = 'first'
            changed = True
    return changed


def add_probes(prog):
    for t in list(prog.decisions):
        if isinstance(t, Table) and not t.probe:
            name = '探' + t.name
            pt = Table(name, 'collect', 'list', list(t.cols),
                       [(list(cells), [('text', 'r%d' % i)]) for i, (cells, _) in enumerate(t.rows)],
                       [(name, ('set', 'text'))])
            pt.probe = True
            pt.of = t.name
            prog.decisions.append(pt)
            prog.order.append(pt)


def sync_probes(prog):
    """Probes follow the rows of their tables (patching may add rows)."""
    for pt in prog.decisions:
        if isinstance(pt, Table) and pt.probe:
            t = prog.decision(pt.of)
            pt.rows = [(list(cells), [('text', 'r%d' % i)]) for i, (cells, _) in enumerate(t.rows)]


# ---- the engine's rejections

def parse_reason(reason):
    pats = [
        (r'^no branch of `(.+)` applies and it has no `else`$', 'no-branch'),
        (r'^no row of table `(.+)` matches$', 'no-row'),
        (r'^no branch under segment `(.+)` applies and it has no `else`$', 'no-seg'),
    ]
    for pat, cat in pats:
        m = re.match(pat, reason)
        if m:
            return (cat, m.group(1), None)
    m = re.match(r'^rows at lines (\d+) and (\d+) of table `(.+)` both match, and its hit policy is unique$', reason)
    if m:
        return ('unique', m.group(3), (int(m.group(1)), int(m.group(2))))
    m = re.match(r'^rows at lines (\d+) and (\d+) of table `(.+)` both match with different results, and its hit policy is any$', reason)
    if m:
        return ('any', m.group(3), (int(m.group(1)), int(m.group(2))))
    if reason == 'division by zero':
        return ('div0', None, None)
    return ('reject', None, reason)


def error_matches(prog, rmap, rr, col, reason):
    """Is (col, reason) one of the reference's rejections of this customer?"""
    cat, node, detail = parse_reason(reason)
    for name, e in rr.memo.items():
        if not isinstance(e, EvalErr):
            continue
        if isinstance(name, tuple):
            continue
        if col != name:
            continue
        if e.cat != cat:
            continue
        if cat in GAP_CATS and e.node != node:
            continue
        if cat == 'reject' and e.detail != detail:
            continue
        if cat in ('unique', 'any'):
            if e.node != node:
                continue
            lines = rmap.row_lines[node]
            matched_lines = [lines[i] for i in e.detail]
            if detail[0] not in matched_lines or detail[1] not in matched_lines:
                continue
            if cat == 'any':
                t = prog.decision(node)
                if row_results(rr.ref, t, lines.index(detail[0])) == row_results(rr.ref, t, lines.index(detail[1])):
                    continue
        return True
    return False


def show_value(v):
    if v is MISSING:
        return 'null'
    if isinstance(v, EvalErr):
        return 'rejected %r' % (v,)
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, F):
        return dec_str(v) if terminates(v) else str(v)
    if isinstance(v, frozenset):
        return '{' + ', '.join(sorted(v)) + '}'
    return json.dumps(v, ensure_ascii=False)


def same_value(typ, ref_v, eng_v):
    if ref_v is MISSING:
        return eng_v is None
    if eng_v is None:
        return False
    if typ in NUMERIC:
        if isinstance(eng_v, bool):
            return False
        try:
            return F(Decimal(str(eng_v))) == ref_v
        except Exception:
            return False
    if typ == 'bool':
        return eng_v is ref_v
    if isinstance(typ, tuple) and typ[0] == 'set':
        if isinstance(eng_v, list):
            return frozenset(eng_v) == ref_v
        if isinstance(eng_v, str):
            return frozenset(x for x in eng_v.split(';') if x != '') == ref_v
        return False
    return eng_v == ref_v


def field_reason_ok(cat, reason):
    if cat == 'range':
        return 'outside the field' in reason
    if cat == 'missing':
        return 'empty' in reason or 'missing' in reason or 'absent' in reason
    return 'outside the field' not in reason


def compare_csv_output(prog, rows, text, fail):
    rd = list(csv.reader(io.StringIO(text)))
    if not rd:
        if rows:
            fail('csv-output', 'no CSV output')
        return
    header, body = rd[0], rd[1:]
    if len(body) != len(rows):
        fail('csv-output', '%d CSV rows, %d JSON Lines rows' % (len(body), len(rows)))
        return
    for jrow, crow in zip(rows, body):
        if len(crow) != len(header):
            fail('csv-output', 'CSV row %r has %d cells, header %d' % (crow[:3], len(crow), len(header)))
            return
        c = dict(zip(header, crow))
        if set(c) != set(jrow):
            fail('csv-output', 'CSV columns %s, JSON keys %s' % (sorted(c), sorted(jrow)))
            return
        for k, jv in jrow.items():
            cv = c[k]
            if jv is None:
                ok = cv == ''
            elif isinstance(jv, bool):
                ok = cv == ('true' if jv else 'false')
            elif isinstance(jv, (int, Decimal)):
                ok = parse_number_text(cv) is not None and parse_number_text(cv) == F(jv) and 'e' not in cv.lower()
            elif isinstance(jv, list):
                ok = cv == ';'.join(jv)
            else:
                ok = cv == jv
            if not ok:
                fail('csv-output', 'record %s: `%s` is %r in CSV and %r in JSON Lines' % (jrow.get('id'), k, cv, jv))
                return


def compare_eval(prog, rmap, results, recs, rows, errors, summary, fail, notes, D):
    n = len(recs)
    if summary is None:
        fail('eval-summary', 'no `read N, decided D, rejected R` line')
    else:
        r, d, j = summary
        if r != n or d + j != r or d != len(rows) or j != len(errors):
            fail('eval-count', 'wrote %d records; engine says read %d, decided %d, rejected %d; %d output rows, %d error lines'
                 % (n, r, d, j, len(rows), len(errors)))
    by_id = {}
    for row in rows:
        by_id.setdefault(str(row.get('id')), []).append(row)
    errs = {}
    for e in errors:
        errs.setdefault(e.get('record'), []).append(e)
    outputs = []
    for dd in prog.decisions:
        if not dd.private:
            outputs.extend(dd.outputs)
    expected_keys = set(['id'] + [o for o, _ in outputs] + (['segment'] if prog.segments else []))
    seen = set()

    def once(kind, key, msg):
        if (kind, key) not in seen:
            seen.add((kind, key))
            fail(kind, msg)
    for i, (rec, rr) in enumerate(zip(recs, results), 1):
        row = by_id.get(str(i), [])
        er = errs.get(i, [])
        if len(row) + len(er) != 1:
            once('eval-record', i, 'record %d: %d output rows and %d rejections' % (i, len(row), len(er)))
            continue
        if rr.internal:
            notes.append('record %d: reference: %s' % (i, rr.internal))
            if 'unguarded' in rr.internal:
                once('reference-unguarded', rr.internal, 'record %d: a missing value reaches a comparison the checker accepted: %s' % (i, rr.internal))
            continue
        if rr.errs:
            if row:
                once('field-accepted', (rr.errs[0][0].name, rr.errs[0][1]), 'record %d: %s should be rejected (%s), but it was decided'
                     % (i, rr.errs[0][0].name, rr.errs[0][1]))
                continue
            e = er[0]
            ok = any(e.get('column') in (f.column, f.name) and field_reason_ok(c, e.get('reason', '')) for f, c in rr.errs)
            if not ok:
                once('field-error', (e.get('column'), rr.errs[0][1]), 'record %d: rejected for %s %r; the reference expects %s'
                     % (i, e.get('column'), e.get('reason'), ', '.join('%s (%s)' % (f.column, c) for f, c in rr.errs)))
            continue
        failing = {o: v for o, v in rr.outs.items() if isinstance(v, EvalErr)}
        tie = rr.ref.tie or rr.ref.product_rounded
        if failing:
            if row:
                once('decided-should-reject', tuple(sorted(failing)), 'record %d %s: decided %s, but the reference rejects it: %s'
                     % (i, fmt_vals(prog, rr.vals), json.dumps(row[0], ensure_ascii=False, default=str),
                        '; '.join('%s: %r' % kv for kv in failing.items())))
                continue
            e = er[0]
            if not error_matches(prog, rmap, rr, e.get('column'), e.get('reason', '')):
                once('wrong-rejection', (e.get('column'), parse_reason(e.get('reason', ''))[0]),
                     'record %d %s: rejected at %s with %r; the reference rejects it with %s'
                     % (i, fmt_vals(prog, rr.vals), e.get('column'), e.get('reason'),
                        '; '.join('%s: %r' % kv for kv in failing.items())))
            else:
                cat, node, _ = parse_reason(e.get('reason', ''))
                if cat in GAP_CATS and node not in D.gap and node not in D.np_gap:
                    once('engine-unsound-gap', node, 'record %d: the engine rejects %s (%s) at `%s`, which check proved total'
                         % (i, fmt_vals(prog, rr.vals), e.get('reason'), node))
                if cat in ('unique', 'any') and node not in D.overlap and node not in D.np_overlap:
                    once('engine-unsound-overlap', node, 'record %d: the engine rejects %s (%s), but check proved `%s` free of overlaps'
                         % (i, fmt_vals(prog, rr.vals), e.get('reason'), node))
            continue
        if er:
            e = er[0]
            kind = 'rejected-should-decide'
            once(kind, (e.get('column'), parse_reason(e.get('reason', ''))[0]), 'record %d %s: rejected at %s with %r; the reference decides %s'
                 % (i, fmt_vals(prog, rr.vals), e.get('column'), e.get('reason'),
                    ', '.join('%s=%s' % (o, show_value(v)) for o, v in rr.outs.items())))
            continue
        row = row[0]
        keys = {k for k in row.keys() if not k.startswith('@')}  # @ruleset, @version, @hash, @as_of: provenance
        if keys != expected_keys:
            once('output-keys', 'keys', 'record %d: output keys %s, expected %s' % (i, sorted(keys), sorted(expected_keys)))
        for o, v in rr.outs.items():
            typ = 'text' if o == 'segment' else prog.type_of(o)
            ev = row.get(o)
            if not same_value(typ, v, ev):
                numeric = isinstance(v, F) and isinstance(ev, (int, Decimal)) and not isinstance(ev, bool)
                kind = 'tie-rounding' if tie and numeric else 'wrong-value'
                once(kind, o, 'record %d %s: `%s` = %s, the reference says %s'
                     % (i, fmt_vals(prog, rr.vals), o, json.dumps(ev, ensure_ascii=False, default=str), show_value(v)))


# ----------------------------------------------------------------------------
# one rule file
# ----------------------------------------------------------------------------

RECORDS_PER_FILE = 48


def render(prog, seed):
    r = Renderer(prog, random.Random(seed))
    return r, r.render()


def run_file(task):
    seed, idx, binary, keep = task
    failures = []
    notes = []
    stats = {}

    counts = {}

    def fail(kind, msg):
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= 3:
            failures.append((kind, msg))
        elif counts[kind] == 4:
            failures.append((kind, '(further `%s` failures of this file not shown)' % kind))
    work = tempfile.mkdtemp(prefix='stratum-prop-')
    files = {}
    try:
        rng = random.Random('stratum-property:%d:%d' % (seed, idx))
        gen = Gen(rng)
        prog, used = gen.generate()
        sources = affine_sources(gen)
        rmap, src = render(prog, rng.random())
        def checked(text, name, rmap_, prog_, crash_label, reject_label):
            # Writes NAME.strat, runs `stratum check` on it (its output kept as
            # check-NAME.txt); (rc, Diags, path), or (None, None, path) after a
            # failure that ends this file.
            path = os.path.join(work, name + '.strat')
            with open(path, 'w', encoding='utf-8') as fh:
                fh.write(text)
            rc_, diags_, raw_ = run_check(binary, path)
            with open(os.path.join(work, 'check-%s.txt' % name), 'w', encoding='utf-8') as fh:
                fh.write(raw_)
            if diags_ is None or rc_ not in (0, 1):
                fail('check-crash', '%s exited %s: %s' % (crash_label, rc_, raw_[-500:]))
                return None, None, path
            D_ = Diags(diags_, rmap_, prog_)
            if D_.other_errors:
                for d in D_.other_errors:
                    fail('check-error', 'check rejects the %s file: %s:%s: %s [%s]'
                         % (reject_label, d.get('line'), d.get('column'), d.get('message'), d.get('code')))
                return None, None, path
            return rc_, D_, path

        rc, D, orig = checked(src, 'original', rmap, prog, 'stratum check', 'generated')
        files['original.strat'] = orig
        if D is None:
            return finish(seed, idx, work, keep, failures, notes, 0)
        for d in D.unmapped:
            notes.append('unattributed diagnostic: %s' % d.get('message'))
        if rc != (1 if D.errors() else 0):
            fail('check-exit', 'check exited %s with %d gap and %d overlap findings' % (rc, len(D.gap), len(D.overlap)))

        # records
        fmt = rng.choice(['csv', 'jsonl'])
        cands = {f.name: field_candidates(prog, f, used, sources) for f in prog.fields if f.typ in NUMERIC}
        recs = []
        for _ in range(RECORDS_PER_FILE):
            recs.append({f.name: gen_value(prog, f, cands.get(f.name, []), rng, fmt) for f in prog.fields})

        # the proofs, on the file as generated
        results = ref_eval_all(prog, recs)
        proof_checks(prog, rmap, D, results, fail, 'original')
        for rr in results:
            if rr.internal and 'unguarded' in rr.internal:
                fail('reference-unguarded', 'original: %s for %s' % (rr.internal, fmt_vals(prog, rr.vals)))
                break
        cexs = verify_counterexamples(prog, rmap, D, fail, notes)
        verify_unreachable_examples(prog, D, fail)
        recs += [cex_raw(prog, c) for c in cexs]

        # patch the findings away, so that the file can be evaluated
        patched = prog.copy()
        add_probes(patched)
        Dp, rmap2 = D, rmap
        for rnd in range(5):
            if rnd > 0 and not Dp.errors():
                break
            if rnd > 0 or D.errors():
                if not patch(patched, Dp) and rnd > 0:
                    break
            sync_probes(patched)
            rmap2, src2 = render(patched, rng.random())
            rc2, Dp, path2 = checked(src2, 'patched', rmap2, patched, 'stratum check (patched)', 'patched')
            if Dp is None:
                return finish(seed, idx, work, keep, failures, notes, 0)
        if Dp.errors():
            fail('patch-failed', 'the patched file still has findings: %s'
                 % '; '.join('%s at %s' % (k, n) for k, n in
                             [('gap', g) for g in Dp.gap] + [('overlap', o) for o in Dp.overlap]))
            return finish(seed, idx, work, keep, failures, notes, len(recs))

        results2 = ref_eval_all(patched, recs)
        proof_checks(patched, rmap2, Dp, results2, fail, 'patched')

        # evaluate
        recpath = os.path.join(work, 'records.' + fmt)
        starts = write_records(patched, recs, recpath, fmt, rng)
        errpath = os.path.join(work, 'errors.jsonl')
        threads = rng.choice([1, 2])
        args = [binary, 'eval', os.path.join(work, 'patched.strat'), '--input', recpath,
                '--format', 'jsonl', '--errors', errpath, '--threads', str(threads)]
        rc3, out3, err3 = run_engine(args)
        with open(os.path.join(work, 'eval-stdout.jsonl'), 'w', encoding='utf-8') as fh:
            fh.write(out3)
        with open(os.path.join(work, 'eval-stderr.txt'), 'w', encoding='utf-8') as fh:
            fh.write(err3)
        with open(os.path.join(work, 'eval-command.txt'), 'w', encoding='utf-8') as fh:
            fh.write(' '.join(args) + '\n')
        if rc3 not in (0, 1):
            fail('eval-crash', 'stratum eval exited %s: %s' % (rc3, err3[-500:]))
            return finish(seed, idx, work, keep, failures, notes, len(recs))
        rows = []
        for line in out3.splitlines():
            if line.strip():
                try:
                    rows.append(json.loads(line, parse_float=Decimal))
                except ValueError:
                    fail('eval-output', 'not JSON: %r' % line[:200])
        errors = []
        if os.path.exists(errpath):
            with open(errpath, encoding='utf-8') as fh:
                for line in fh:
                    if line.strip():
                        errors.append(json.loads(line))
        m = re.search(r'read (\d+), decided (\d+), rejected (\d+)', err3)
        summary = tuple(int(x) for x in m.groups()) if m else None
        if summary is not None and summary[0] == 0 and recs:
            msg = [l for l in err3.splitlines() if l.startswith('stratum eval:')]
            fail('input-refused', 'eval read no record: %s' % (msg[-1] if msg else err3[-300:]))
            return finish(seed, idx, work, keep, failures, notes, len(recs))
        if rc3 != (1 if errors else 0):
            fail('eval-exit', 'eval exited %s with %d rejections' % (rc3, len(errors)))
        compare_eval(patched, rmap2, results2, recs, rows, errors, summary, fail, notes, Dp)
        for e in errors:
            r = e.get('record')
            if isinstance(r, int) and 1 <= r <= len(starts) and e.get('line') != starts[r - 1]:
                fail('error-line', 'record %d starts on line %d of %s, the error says line %s'
                     % (r, starts[r - 1], os.path.basename(recpath), e.get('line')))
                break
            if e.get('key') != str(r):
                fail('error-key', 'record %d: the error names key %r' % (r, e.get('key')))
                break
        # plain decimal numbers: no exponent, no trailing zeros
        m = re.search(r'[:\[,](-?\d+\.\d*0|-?\d+(\.\d+)?[eE][-+]?\d+)[,}\]]', out3)
        if m:
            fail('number-format', 'output number %s is not a plain decimal without trailing zeros' % m.group(1))
        # the same bytes for any number of threads
        errpath2 = os.path.join(work, 'errors-2.jsonl')
        args2 = args[:-3] + [errpath2, '--threads', str(3 - threads + 2)]
        rc4, out4, err4 = run_engine(args2)
        err4_text = open(errpath2, encoding='utf-8').read() if os.path.exists(errpath2) else ''
        err3_text = open(errpath, encoding='utf-8').read() if os.path.exists(errpath) else ''
        if (rc4, out4, err4_text) != (rc3, out3, err3_text):
            fail('threads', 'eval with --threads %d and --threads %d differ' % (threads, 3 - threads + 2))
        # CSV output carries the same values
        args3 = [binary, 'eval', os.path.join(work, 'patched.strat'), '--input', recpath, '--format', 'csv',
                 '--errors', os.path.join(work, 'errors-3.jsonl')]
        rc5, out5, err5 = run_engine(args3)
        compare_csv_output(patched, rows, out5, fail)
        stats['evaluated'] = 1
        stats['decided'] = len(rows)
        for e in errors:
            c = parse_reason(e.get('reason', ''))[0] if e.get('column') not in [f.column for f in patched.fields] else 'field'
            stats['rejected:' + c] = stats.get('rejected:' + c, 0) + 1
        stats['gap findings'] = len(D.gap)
        stats['overlap findings'] = sum(len(v) for v in D.overlap.values())
        stats['counter-examples'] = len(cexs)
        stats['unreachable findings'] = len(D.unreachable)
        stats['not-proven findings'] = len(D.np_gap) + len(D.np_overlap)
        return finish(seed, idx, work, keep, failures, notes, len(recs), stats)
    except Exception:
        fail('harness-exception', traceback.format_exc().strip().replace('\n', ' | '))
        return finish(seed, idx, work, keep, failures, notes, 0)


def finish(seed, idx, work, keep, failures, notes, nrec, stats=None):
    kept = None
    if failures and keep:
        kept = os.path.join(keep, 'seed%d-file%d' % (seed, idx))
        if os.path.exists(kept):
            shutil.rmtree(kept)
        shutil.copytree(work, kept)
        for name in os.listdir(kept):
            if name.endswith('.txt'):
                p = os.path.join(kept, name)
                with open(p, encoding='utf-8') as fh:
                    text = fh.read()
                with open(p, 'w', encoding='utf-8') as fh:
                    fh.write(text.replace(work, kept))
        with open(os.path.join(kept, 'failures.txt'), 'w', encoding='utf-8') as fh:
            for k, m in failures:
                fh.write('%s: %s\n' % (k, m))
            for n in notes:
                fh.write('note: %s\n' % n)
    shutil.rmtree(work, ignore_errors=True)
    return {'seed': seed, 'idx': idx, 'failures': failures, 'notes': notes, 'records': nrec, 'kept': kept,
            'stats': stats or {}}


def main():
    ap = argparse.ArgumentParser(description='Differential property test of the stratum binary.')
    ap.add_argument('--seed', type=int, default=20240630)
    ap.add_argument('--files', type=int, default=800)
    ap.add_argument('--only', type=int, default=None, help='run only this file index')
    ap.add_argument('--keep', default=None, help='save failing rule files and records here')
    ap.add_argument('--binary', default=DEFAULT_BINARY)
    ap.add_argument('--jobs', type=int, default=max(1, os.cpu_count() or 1))
    ap.add_argument('--verbose', action='store_true')
    a = ap.parse_args()
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    idxs = [a.only] if a.only is not None else list(range(a.files))
    tasks = [(a.seed, i, a.binary, a.keep) for i in idxs]
    t0 = time.time()
    passed = failed = nrec = 0
    if a.jobs > 1 and len(tasks) > 1:
        pool = Pool(a.jobs)
        it = pool.imap(run_file, tasks)
    else:
        pool = None
        it = map(run_file, tasks)
    totals = {}
    for res in it:
        nrec += res['records']
        for k, v in res['stats'].items():
            totals[k] = totals.get(k, 0) + v
        if res['failures']:
            failed += 1
            for kind, msg in res['failures']:
                print('FAIL seed=%d file=%d %s: %s' % (res['seed'], res['idx'], kind, msg), flush=True)
            if res['kept']:
                print('     kept in %s' % res['kept'], flush=True)
        else:
            passed += 1
        if a.verbose:
            for n in res['notes']:
                print('note seed=%d file=%d %s' % (res['seed'], res['idx'], n))
    if pool:
        pool.close()
        pool.join()
    if a.verbose:
        print('%d files, %d records in %.1f s' % (len(tasks), nrec, time.time() - t0))
        for k in sorted(totals):
            print('  %-24s %d' % (k, totals[k]))
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
