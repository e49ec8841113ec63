#!/usr/bin/python3
"""Invariant test of rules/securities_suitability.strat over generated questionnaires.

Usage:
  /usr/bin/python3 tests/schemes/suitability_invariants.py STRATUM REPO_ROOT
         [--rules FILE] [--records N] [--seed S] [--keep DIR]

Generates N (default 20,000) valid questionnaire records with a fixed seed,
runs `stratum eval RULES --format csv --output … --errors …` on them and checks,
for every record, the suitability invariants of seed 002 (商业银行个人理财业务风险
管理指引) 第二十三条 and 第二十四条:

  (a) 第二十三条 "对于市场风险较大的投资产品,特别是与衍生交易相关的投资产品,商业银行
      不应主动向无相关交易经验…的客户推介或销售该产品": no client without relevant
      experience is ever 可以推介 a high-risk product;
  (b) 同条 "…或经评估不适宜购买该产品的客户" (and seed 003 第二条 "提供与其风险承受能力
      相适应的服务或产品"): no client is 可以推介 a product above their class. The
      class is computed here from the seed 003 points table, independently of the
      rule file, and the class the rules report must agree with it;
  (c) 第二十三条 "客户主动要求了解或购买有关产品时…以书面形式确认是客户主动要求了解和
      购买产品" and 第二十四条 "…不适宜购买…但客户仍然要求购买的,商业银行应制定专门的
      文件…双方签字认可": a client who asks for an unsuitable product is put on a
      signed-document 推介 path, the 须签署 set holds the document that path names,
      and holds 客户主动要求书面确认 (high-risk product without experience or above
      the class) and 专门文件双方签字认可 (above the class) as the articles require.
      Conversely, a client who did not ask is never recorded as having asked;
  (d) every record is decided: none is rejected (the rule file documents one
      rejection, product data given only in part, and 第5/6/8题 have no option D:
      neither is generated), every key comes back exactly once, a record with a
      product gets a real 推介 decision and one without gets 无待评产品.

The values the seeds leave open are the ones the rule file chose, as listed in
docs/traceability.md (securities_suitability, *Choices*); they are restated
below as constants, each in one place.

Output: one line per violation (record key, the invariant, the values), then
exactly one line `N passed, M failed` (N records hold every invariant, M do not).
Exit status 1 on any violation, any rejected record, or a generated portfolio
that fails to reach a case the invariants speak of (coverage guard).
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from decimal import Decimal

from eval_common import judge, read_rejections

# ---- the seed 003 points table (第五条 3.分类标准), as the seed prints it ---------
# 题号1 年龄 and 题号2 证券专业知识, options A–D.
Q1_POINTS = dict(zip('ABCD', [9, 7, 5, 3]))
Q2_POINTS = dict(zip('ABCD', [2, 3, 5, 7]))
# 题号3 证券投资经验: 投资年限 rows × the seven 品种 columns.
KINDS = ['储蓄', '债券', '股票', '基金', '外汇', '期货', '房地产']
Q3_ROWS = {                       # 少于1年, 1到3年, 3到5年, 5年以上
    '少于1年': '0 0 0 0 0 0 0',
    '1到3年': '0 0 2 0 0 3 2',
    '3到5年': '0 2 3 2 2 5 3',
    '5年以上': '0 3 5 3 3 7 5',
}
# 题号4–12, rows A B C as printed; row D prints six values "7 5 5 3 5 7" for nine
# columns. Reading (docs/traceability.md): they belong to questions 4, 7, 9, 10,
# 11, 12; questions 5, 6 and 8 have options A–C only.
Q4_12_ROWS = {
    'A': '0 2 3 0 3 0 9 0 2',
    'B': '2 3 2 2 2 2 7 2 3',
    'C': '5 5 0 3 0 3 5 3 5',
}
Q4_12_ROW_D = dict(zip([4, 7, 9, 10, 11, 12], [7, 5, 5, 3, 5, 7]))
THREE_OPTION_QUESTIONS = {5, 6, 8}

# ---- chosen values (docs/traceability.md, securities_suitability, Choices) ------
AGE_BAND_STARTS = (30, 45, 60)     # 题号1: A < 30, B [30,45), C [45,60), D >= 60
CLASS_CUTS = (40, 66)              # 保守型 < 40 <= 稳健型 < 66 <= 积极型
CLASS_MAX_RISK = {'保守型': 2, '稳健型': 3, '积极型': 5}   # R2, R3, R5
HIGH_RISK_FROM = 4                 # 市场风险较大: R4 and above, or 与衍生交易相关
EXPERIENCE_YEARS = Decimal(1)      # 相关交易经验: >= 1 year in the product's own column
DERIVATIVES_COLUMN = '期货'        # and, for a derivatives product, in 期货 too

# ---- the 推介 outcomes and documents, by name (the rule file's enums) -----------
OK = '可以推介'
NO_PRODUCT = '无待评产品'
PATH_CONFIRM = '不主动推介_客户主动要求须当面说明风险并书面确认'     # 第二十三条
PATH_SPECIAL = '不主动推介_客户仍然要求购买须签署专门文件'           # 第二十四条
DOC_CONFIRM = '客户主动要求书面确认'
DOC_SPECIAL = '专门文件双方签字认可'
DOC_OF_PATH = {PATH_CONFIRM: DOC_CONFIRM, PATH_SPECIAL: DOC_SPECIAL}

OUTPUT_COLUMNS = ['id', '风险承受能力评分', '风险承受类别', '可承受产品风险', '推介', '须签署']
FIELDS = (['id', '评估日期', '年龄', '证券专业知识']
          + [k + '投资年限' for k in KINDS]
          + ['第%d题' % q for q in range(4, 13)]
          + ['产品风险等级', '产品品种', '与衍生交易相关', '投资金额', '客户主动要求购买',
             '客户资产', '年佣金贡献'])


def q3_band(years):
    if years < 1:
        return '少于1年'
    if years < 3:
        return '1到3年'
    if years < 5:
        return '3到5年'
    return '5年以上'       # 以上 includes the bound


def age_option(age):
    b, c, d = AGE_BAND_STARTS
    return 'A' if age < b else 'B' if age < c else 'C' if age < d else 'D'


def seed_score(rec):
    """The questionnaire's score, from the seed's table as printed."""
    s = Q1_POINTS[age_option(int(rec['年龄']))] + Q2_POINTS[rec['证券专业知识']]
    for i, kind in enumerate(KINDS):
        s += int(Q3_ROWS[q3_band(Decimal(rec[kind + '投资年限']))].split()[i])
    for q in range(4, 13):
        opt = rec['第%d题' % q]
        s += Q4_12_ROW_D[q] if opt == 'D' else int(Q4_12_ROWS[opt].split()[q - 4])
    return s


def seed_class(score):
    lo, hi = CLASS_CUTS
    return '保守型' if score < lo else '稳健型' if score < hi else '积极型'


# ---- generation ------------------------------------------------------------------
YEARS_BELOW = ['0', '0.5', '0.99', '0.999999999999']                  # 少于1年: no experience
YEARS_FROM = ['1', '1.000000000001', '2.99', '3', '4.99', '5', '5.01', '40']
AGE_EDGES = [0, 18, 29, 30, 44, 45, 59, 60, 61, 99, 120]
MONEY_EDGES = ['0', '0.01', '999.99', '1000', '9999.99', '10000', '99999.99', '100000',
               '999999.99', '1000000', '1000000.01']
DATE_EDGES = ['2024-02-29', '2023-12-31', '2024-01-31', '2024-06-30', '2000-01-01']


def rand_years(rng, experienced=None):
    if experienced is None:
        r = rng.random()
        if r < 0.35:
            return rng.choice(YEARS_BELOW + YEARS_FROM)
        if r < 0.9:
            return '%.2f' % rng.uniform(0, 12)
        return str(rng.randint(0, 45))
    if rng.random() < 0.6:
        return rng.choice(YEARS_FROM if experienced else YEARS_BELOW)
    if experienced:
        return '%.2f' % rng.uniform(1, 30)
    return '%.2f' % rng.uniform(0, 0.99)


def rand_money(rng):
    r = rng.random()
    if r < 0.3:
        return rng.choice(MONEY_EDGES)
    return '%.2f' % (10 ** rng.uniform(0, 8))


def gen_record(rng, i):
    rec = {'id': 'Q%06d' % i}
    rec['评估日期'] = (rng.choice(DATE_EDGES) if rng.random() < 0.2 else
                   '%04d-%02d-%02d' % (rng.randint(2015, 2025), rng.randint(1, 12), rng.randint(1, 28)))
    # a profile spreads the scores over all three classes: answers at random, or
    # leaning to the options worth the fewest / the most points
    profile = rng.choice(['random', 'low', 'high'])

    def pick(options, points):
        if profile == 'random' or rng.random() < 0.3:
            return rng.choice(options)
        return (min if profile == 'low' else max)(options, key=points)

    rec['年龄'] = str(rng.choice(AGE_EDGES) if rng.random() < 0.3 else rng.randint(0, 120))
    rec['证券专业知识'] = pick('ABCD', Q2_POINTS.get)
    for kind in KINDS:
        lean = None if profile == 'random' or rng.random() < 0.3 else profile == 'high'
        rec[kind + '投资年限'] = rand_years(rng, lean)
    for q in range(4, 13):
        opts = 'ABC' if q in THREE_OPTION_QUESTIONS else 'ABCD'
        rec['第%d题' % q] = pick(opts, lambda o: Q4_12_ROW_D[q] if o == 'D' else int(Q4_12_ROWS[o].split()[q - 4]))
    rec['客户资产'] = rand_money(rng)
    rec['年佣金贡献'] = rand_money(rng)
    for f in ('产品风险等级', '产品品种', '与衍生交易相关', '投资金额', '客户主动要求购买'):
        rec[f] = ''
    if rng.random() < 0.08:         # no product under consideration: all four left out
        if rng.random() < 0.5:
            rec['客户主动要求购买'] = rng.choice(['true', 'false'])
        return rec
    kind = rng.choice(KINDS)
    derivative = rng.random() < 0.3
    rec['产品风险等级'] = 'R%d' % rng.randint(1, 5)
    rec['产品品种'] = kind
    rec['与衍生交易相关'] = rng.choice(['true', '是', '1']) if derivative else rng.choice(['false', '否', '0'])
    rec['投资金额'] = rand_money(rng)
    # experience in the product's own column, and in 期货 for a derivatives product
    rec[kind + '投资年限'] = rand_years(rng, rng.random() < 0.5)
    if derivative and kind != DERIVATIVES_COLUMN:
        rec[DERIVATIVES_COLUMN + '投资年限'] = rand_years(rng, rng.random() < 0.5)
    rec['客户主动要求购买'] = rng.choice(['true', 'false', '', '是', '否'])
    return rec


BOOL_TRUE = {'true', '是', '1'}


def expected(rec):
    """What the seed says about this record, computed from its inputs only."""
    e = {'score': seed_score(rec)}
    e['class'] = seed_class(e['score'])
    e['product'] = rec['产品风险等级'] != ''
    if not e['product']:
        return e
    risk = int(rec['产品风险等级'][1:])
    derivative = rec['与衍生交易相关'] in BOOL_TRUE
    e['risk'] = risk
    e['high_risk'] = risk >= HIGH_RISK_FROM or derivative
    own = Decimal(rec[rec['产品品种'] + '投资年限']) >= EXPERIENCE_YEARS
    fut = Decimal(rec[DERIVATIVES_COLUMN + '投资年限']) >= EXPERIENCE_YEARS
    e['experienced'] = own and (fut or not derivative)
    e['above_class'] = risk > CLASS_MAX_RISK[e['class']]
    e['asks'] = rec['客户主动要求购买'] in BOOL_TRUE
    return e


def check(rec, out):
    """The violated invariants of one decided record, as text."""
    v = []
    e = expected(rec)
    tuijie = out['推介']
    docs = set(x for x in out['须签署'].split(';') if x)
    shown = '推介=%s 须签署={%s}' % (tuijie, ';'.join(sorted(docs)))
    if out['风险承受类别'] != e['class']:
        v.append('(b) class: rules say %s (score %s), the seed table gives %s (score %d)'
                 % (out['风险承受类别'], out['风险承受能力评分'], e['class'], e['score']))
    if not e['product']:
        if tuijie != NO_PRODUCT:
            v.append('(d) no product under consideration but %s' % shown)
        return v
    facts = ('%s %s 衍生=%s 本品种年限=%s 期货年限=%s class=%s 主动要求=%r'
             % (rec['产品风险等级'], rec['产品品种'], rec['与衍生交易相关'],
                rec[rec['产品品种'] + '投资年限'], rec[DERIVATIVES_COLUMN + '投资年限'],
                e['class'], rec['客户主动要求购买']))
    if tuijie == NO_PRODUCT:
        v.append('(d) a product is under consideration but %s [%s]' % (shown, facts))
    if e['high_risk'] and not e['experienced'] and tuijie == OK:
        v.append('(a) high-risk product, no relevant experience, yet %s [%s]' % (shown, facts))
    if e['above_class'] and tuijie == OK:
        v.append('(b) product above the class (max R%d), yet %s [%s]'
                 % (CLASS_MAX_RISK[e['class']], shown, facts))
    if out['可承受产品风险'] and tuijie == OK and e['risk'] > int(out['可承受产品风险'][1:]):
        v.append('(b) product above the class the rules report (%s), yet %s [%s]'
                 % (out['可承受产品风险'], shown, facts))
    unsuitable_23 = e['high_risk'] and (not e['experienced'] or e['above_class'])
    unsuitable_24 = e['above_class']
    if e['asks'] and (unsuitable_23 or unsuitable_24):
        if tuijie not in DOC_OF_PATH:
            v.append('(c) asks for an unsuitable product, not on a signed-document path: %s [%s]'
                     % (shown, facts))
        elif DOC_OF_PATH[tuijie] not in docs:
            v.append('(c) 推介 names %s but 须签署 lacks it: %s [%s]' % (DOC_OF_PATH[tuijie], shown, facts))
        if unsuitable_23 and DOC_CONFIRM not in docs:
            v.append('(c) 第二十三条: asks for a high-risk product without experience or above the class, '
                     '须签署 lacks %s: %s [%s]' % (DOC_CONFIRM, shown, facts))
        if unsuitable_24 and (tuijie != PATH_SPECIAL or DOC_SPECIAL not in docs):
            v.append('(c) 第二十四条: still wants a product above the class, needs %s and %s: %s [%s]'
                     % (PATH_SPECIAL, DOC_SPECIAL, shown, facts))
    if not e['asks'] and (tuijie in DOC_OF_PATH or DOC_CONFIRM in docs or DOC_SPECIAL in docs):
        v.append('(c) the client did not ask, yet is recorded as asking: %s [%s]' % (shown, facts))
    return v


def coverage_gaps(records):
    """Cases the invariants speak of that the generated portfolio must reach."""
    seen = set()
    for rec in records:
        e = expected(rec)
        seen.add(('class', e['class']))
        seen.add(('score', e['score']))
        if not e['product']:
            seen.add(('no product',))
            continue
        seen.add(('risk', e['risk'], e['class']))
        seen.add(('hr-noexp', e['high_risk'] and not e['experienced'], e['asks']))
        seen.add(('above', e['above_class'], e['asks']))
        seen.add(('suitable', not e['above_class'] and not (e['high_risk'] and not e['experienced'])))
        seen.add(('hr-noexp-within', e['high_risk'] and not e['experienced'] and not e['above_class'], e['asks']))
    want = [('class', c) for c in CLASS_MAX_RISK] + [('no product',)]
    want += [('risk', r, c) for r in range(1, 6) for c in CLASS_MAX_RISK]
    want += [(k, True, a) for k in ('hr-noexp', 'above', 'hr-noexp-within') for a in (True, False)]
    want += [('suitable', True)]
    want += [('score', c + d) for c in CLASS_CUTS for d in (-1, 0)]     # both sides of each cut
    return [w for w in want if w not in seen]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('stratum')
    ap.add_argument('root')
    ap.add_argument('--rules', help='rule file (default ROOT/rules/securities_suitability.strat)')
    ap.add_argument('--records', type=int, default=20000)
    ap.add_argument('--seed', type=int, default=20240630)
    ap.add_argument('--keep', help='write the generated records and the outputs into this folder')
    args = ap.parse_args()
    rules = args.rules or os.path.join(args.root, 'rules', 'securities_suitability.strat')

    rng = random.Random(args.seed)
    records = [gen_record(rng, i + 1) for i in range(args.records)]

    with tempfile.TemporaryDirectory(prefix='suitability-') as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        data, out_path, err_path = (os.path.join(work, n) for n in ('records.csv', 'out.csv', 'errors.jsonl'))
        with open(data, 'w', encoding='utf-8', newline='') as f:
            w = csv.DictWriter(f, fieldnames=FIELDS)
            w.writeheader()
            w.writerows(records)
        p = subprocess.run([args.stratum, 'eval', rules, '--input', data, '--format', 'csv',
                            '--output', out_path, '--errors', err_path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode not in (0, 1) or not os.path.exists(out_path):
            sys.stdout.write(p.stderr.decode('utf-8', 'replace'))
            print('stratum eval failed (exit %d)' % p.returncode)
            print('0 passed, %d failed' % len(records))
            return 1
        with open(out_path, encoding='utf-8', newline='') as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            absent = [c for c in OUTPUT_COLUMNS if c not in (reader.fieldnames or [])]
        if absent:
            print('the output has no column %s' % ', '.join(absent))
            print('0 passed, %d failed' % len(records))
            return 1
        rejected = read_rejections(err_path)

    passed, failed, by_key = judge(records, rows, rejected, check, '', 'record')
    known = set(r['id'] for r in records)
    unexpected_keys = set(by_key) - known
    for key in sorted(unexpected_keys):
        print('%s: output row for a key that was not generated' % key)
    for key in sorted((k for k in rejected if k not in known), key=str):
        print('%s: rejected record without a generated key: %s' % (key, rejected[key]))
        unexpected_keys.add(key)
    gaps = coverage_gaps(records)
    for g in gaps:
        print('coverage: the generated records never reach %r' % (g,))
    odd_exit = p.returncode == 1 and not rejected
    if odd_exit:
        print('stratum eval exit 1 without a rejected record: %s'
              % p.stderr.decode('utf-8', 'replace').strip().replace('\n', ' | '))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed or gaps or unexpected_keys or odd_exit else 0


if __name__ == '__main__':
    sys.exit(main())
