#!/usr/bin/python3
"""Partition invariants of rules/corporate_segments.strat over two portfolios.

Usage:
  /usr/bin/python3 tests/schemes/corporate_partition.py STRATUM REPO_ROOT
         [--rules FILE] [--records N] [--seed S] [--keep DIR]

Runs `stratum eval RULES --format csv --output … --errors …` over
  1. examples/corporate_portfolio.csv (10,000 customers, read only), and
  2. a portfolio of N (default 5,000) customers generated here with a fixed seed
     from the rule file's inputs, with the boundary values: 账户数量 0 and 1, the
     grid split points exactly (利润贡献度 100万, 银行对存量客户价值 60, 潜在价值
     贡献度 70, 银行对目标客户价值 60) and one step below, every strategic group of
     rules/data/strategic_groups.csv next to group numbers that are not on it,
     信贷余额 0 and 0.01, 日均存款余额 50万 and 499999.99, 年销售收入 3亿 / 1.5亿
     and one fen below, 评分 0 and 100,
and checks every customer against seed 001 (附件四《公司机构客户细分及差别化服务
方案》, 一、(三) 客户群细分):

  (a) "先将某一分层客户群分为存量和目标两部分": 存量目标 is exactly one of 存量 or 目标,
      and, by the file's documented reading (an account with the bank makes a
      存量客户), 存量 exactly when 账户数量 >= 1;
  (b) "把存量客户分为重要、优质、普通、退出四类客户", "把目标客户分为黄金、潜力、关注、
      一般四类客户": 客户群细分 is one of 重要/优质/普通/退出 exactly when 存量, one
      of 黄金/潜力/关注/一般 exactly when 目标;
  (c) "根据客户群细分结果…进行差别化服务": a customer in 退出 or 一般 gets no
      preferential pricing (利率浮动 not negative) and not the head-office team
      (服务团队 总行专属团队, the 战略性客户 plan's value), whatever its segment;
  (d) every customer is decided: none rejected, each key exactly once in the output.

Output: one line per violation (portfolio, record key, the invariant, the
values), then exactly one line `N passed, M failed` over both portfolios (N
customers hold every invariant, M violate one). Exit status 1 on any violation
or rejection, or when the generated portfolio misses a case it is built to
reach (coverage guard).
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

STOCK, TARGET = '存量', '目标'
STOCK_GROUPS = ('重要', '优质', '普通', '退出')
TARGET_GROUPS = ('黄金', '潜力', '关注', '一般')
NO_PREFERENCE_GROUPS = ('退出', '一般')
HEAD_OFFICE_TEAM = '总行专属团队'      # plan 战略性客户 { 服务团队 = "总行专属团队" }

INDUSTRIES = ['农林牧渔业', '工业', '建筑业', '批发业', '零售业', '交通运输业', '仓储业', '邮政业',
              '住宿业', '餐饮业', '信息传输业', '软件和信息技术服务业', '房地产开发经营', '物业管理',
              '租赁和商务服务业', '其他未列明行业']
REAL_ESTATE = ['房地产开发经营', '物业管理']
EMERGING_TAGS = ['互联网', '物联网', '移动支付']
OTHER_TAGS = ['制造', '外贸', '绿色金融', '专精特新', '互联网+', '物流']
PROFIT_INCOME = ['贷款内部转移净收入', '存款内部转移净收入', '中间业务净收入']
PROFIT_COST = ['资本成本分摊', '运营成本分摊', '信贷成本分摊']
VIP = '高管人员是否为本行的VIP客户'
STOCK_INDICATORS = ['客户市场份额占比', '客户产品和服务满意程度', '产品覆盖度', '账户数量和性质', '续存时间',
                    '各项产品余额或交易额', '有效账户数和活跃程度', '各项业务增长率', VIP, '资产质量',
                    '合作签约情况']
POTENTIAL_SCORES = ['行业价值空间评分', '企业成长性评分', '市场影响力和产业链影响力评分']
TARGET_INDICATORS = ['银行产品对客户的适用性', '客户营销可行性', '产品优势', '服务的便利性']
COLUMNS = (['id', '信贷余额', '所属市场', 'industry', '业务标签', '所属集团', 'employees', 'revenue',
            'total_assets', '日均存款余额', '账户数量'] + PROFIT_INCOME + PROFIT_COST + STOCK_INDICATORS
           + POTENTIAL_SCORES + TARGET_INDICATORS)

OUTPUT_COLUMNS = ['id', 'segment', '存量目标', '客户群细分', '利率浮动', '服务团队']

# Where the generated customers are aimed (the tree's branches, as the file states them).
LAYERS = ['机构类客户', '新兴市场客户', '房地产客户', '战略性客户', '传统公司客户(非战略)',
          '机构类无贷户', '规模以上客户', '规模以下客户']
GROUPS = STOCK_GROUPS + TARGET_GROUPS
# Split points: the chosen values of the rule file (docs/traceability.md, Choices).
PROFIT_SPLIT = Decimal('1000000')
SCALE_SPLIT_DEPOSIT = Decimal('500000')


# ---- the invariants -----------------------------------------------------------------
def check(inp, out):
    """The violated invariants of one decided customer, as text."""
    v = []
    part, group = out['存量目标'], out['客户群细分']
    accounts = int(Decimal(inp['账户数量']))
    if part not in (STOCK, TARGET):
        v.append('(a) 存量目标=%r is not exactly one of 存量, 目标' % part)
    elif (part == STOCK) != (accounts >= 1):
        v.append('(a) 存量目标=%s but 账户数量=%d' % (part, accounts))
    if group in STOCK_GROUPS and part != STOCK:
        v.append('(b) 客户群细分=%s is a 存量 group but 存量目标=%s' % (group, part))
    elif group in TARGET_GROUPS and part != TARGET:
        v.append('(b) 客户群细分=%s is a 目标 group but 存量目标=%s' % (group, part))
    elif group not in STOCK_GROUPS + TARGET_GROUPS:
        v.append('(b) 客户群细分=%r is none of the eight groups (存量目标=%s)' % (group, part))
    if group in NO_PREFERENCE_GROUPS:
        rate = out.get('利率浮动', '')
        if rate != '' and Decimal(rate) < 0:
            v.append('(c) 客户群细分=%s yet 利率浮动=%s (preferential pricing) [segment %s]'
                     % (group, rate, out['segment']))
        if out.get('服务团队', '') == HEAD_OFFICE_TEAM:
            v.append('(c) 客户群细分=%s yet 服务团队=%s [segment %s]' % (group, HEAD_OFFICE_TEAM, out['segment']))
    return v


def run_portfolio(stratum, rules, name, data, inputs, work):
    """Evaluate one portfolio; returns (passed, failed, problems)."""
    out_path = os.path.join(work, name + '.out.csv')
    err_path = os.path.join(work, name + '.errors.jsonl')
    p = subprocess.run([stratum, 'eval', rules, '--input', data, '--format', 'csv',
                        '--output', out_path, '--errors', err_path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1) or not os.path.exists(out_path):
        print('%s: stratum eval failed (exit %d): %s'
              % (name, p.returncode, p.stderr.decode('utf-8', 'replace').strip().replace('\n', ' | ')))
        return 0, len(inputs), 1
    with open(out_path, encoding='utf-8', newline='') as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        absent = [c for c in OUTPUT_COLUMNS if c not in (reader.fieldnames or [])]
    if absent:
        print('%s: the output has no column %s' % (name, ', '.join(absent)))
        return 0, len(inputs), 1
    rejected = read_rejections(err_path)
    passed, failed, by_key = judge(inputs, rows, rejected, check, name, 'customer')
    problems = 0
    known = set(inp['id'] for inp in inputs)
    for key in sorted(set(by_key) - known):
        print('%s %s: output row for a customer not in the input' % (name, key))
        problems += 1
    for key in sorted((k for k in rejected if k not in known), key=str):
        print('%s %s: rejected record without a known key: %s' % (name, key, rejected[key]))
        problems += 1
    if p.returncode == 1 and not rejected:
        print('%s: stratum eval exit 1 without a rejected record: %s'
              % (name, p.stderr.decode('utf-8', 'replace').strip().replace('\n', ' | ')))
        problems += 1
    return passed, failed, problems


# ---- the generated portfolio ------------------------------------------------------
def yuan(cents):
    sign = '-' if cents < 0 else ''
    cents = abs(cents)
    return '%s%d.%02d' % (sign, cents // 100, cents % 100)


def rand_cents(rng, lo, hi):
    """Log-uniform amount in cents between lo and hi yuan."""
    return int(round(10 ** rng.uniform(lo, hi) * 100))


def score_text(rng, lo, hi):
    return '%.2f' % rng.uniform(lo, hi)


def gen_customer(rng, i, strategic, layer, group):
    c = {k: '' for k in COLUMNS}
    c['id'] = 'N%06d' % i
    c['industry'] = rng.choice(INDUSTRIES)
    c['employees'] = str(rng.choice([0, 1, 8, 9, 10, 19, 20, 99, 100, 299, 300, 999, 1000, 5000])
                         if rng.random() < 0.3 else rng.randint(0, 20000))
    c['revenue'] = (rng.choice(['0', '0.01', '5000000', '20000000', '149999999.99', '150000000',
                                '299999999.99', '300000000', '400000000'])
                    if rng.random() < 0.3 else yuan(rand_cents(rng, 4, 10)))
    c['total_assets'] = (rng.choice(['0', '50000000', '80000000', '400000000'])
                         if rng.random() < 0.2 else yuan(rand_cents(rng, 4, 10)))
    tags = rng.sample(OTHER_TAGS, rng.randint(0, 2))
    c['所属集团'] = rng.choice(['', '', 'G095', 'G000', 'G0010', 'X001'])
    c['所属市场'] = '公司'
    c['信贷余额'] = rng.choice(['0.01', '1', yuan(rand_cents(rng, 3, 9.5))])
    c['日均存款余额'] = rng.choice(['0', '0.01', '499999.99', '500000', '500000.01', yuan(rand_cents(rng, 2, 9))])

    if layer in ('机构类客户', '机构类无贷户'):
        c['所属市场'] = '机构'
        if rng.random() < 0.3:                  # tags and groups do not matter for 机构
            tags.append(rng.choice(EMERGING_TAGS))
            c['所属集团'] = rng.choice(strategic)
    elif layer == '新兴市场客户':
        tags += rng.sample(EMERGING_TAGS, rng.randint(1, 3))
        if rng.random() < 0.3:
            c['industry'] = rng.choice(REAL_ESTATE)
        if rng.random() < 0.3:
            c['所属集团'] = rng.choice(strategic)
    elif layer == '房地产客户':
        c['industry'] = rng.choice(REAL_ESTATE)
        if rng.random() < 0.3:
            c['所属集团'] = rng.choice(strategic)
    elif layer == '战略性客户':
        c['industry'] = rng.choice([x for x in INDUSTRIES if x not in REAL_ESTATE])
        c['所属集团'] = rng.choice(strategic)
    elif layer == '传统公司客户(非战略)':
        c['industry'] = rng.choice([x for x in INDUSTRIES if x not in REAL_ESTATE])
    if layer in ('机构类无贷户', '规模以上客户', '规模以下客户'):
        c['信贷余额'] = '0'
    if layer == '规模以上客户':
        c['日均存款余额'] = rng.choice(['500000', '500000.01', yuan(rand_cents(rng, 5.7, 9))])
    elif layer == '规模以下客户':
        c['日均存款余额'] = rng.choice(['0', '0.01', '499999.99', yuan(rand_cents(rng, 2, 5.69))])
    rng.shuffle(tags)
    c['业务标签'] = ';'.join(tags)

    stock = group in STOCK_GROUPS
    c['账户数量'] = (rng.choice(['1', '1', '2', '3', '10', '250']) if stock else '0')
    if stock or rng.random() < 0.25:        # a 目标客户 may carry 存量 figures too
        high_profit = group in ('重要', '优质') if stock else rng.random() < 0.5
        high_value = group in ('重要', '普通') if stock else rng.random() < 0.5
        fill_stock(rng, c, high_profit, high_value)
    if not stock or rng.random() < 0.25:    # and a 存量客户 目标 scores
        high_potential = group in ('黄金', '潜力') if not stock else rng.random() < 0.5
        high_value = group in ('黄金', '关注') if not stock else rng.random() < 0.5
        fill_target(rng, c, high_potential, high_value)
    return c


def fill_stock(rng, c, high_profit, high_value):
    # 利润贡献度 = 三项收入 - 三项成本 (seed 001); aim at a total, exactly on the split
    # point (100万) or one fen below it for some customers, negative for others.
    r = rng.random()
    if r < 0.2:
        total = 100000000 if high_profit else 99999999
    elif high_profit:
        total = rand_cents(rng, 6.0001, 8)
    elif r < 0.3:
        total = -rand_cents(rng, 0, 7)
    else:
        total = rand_cents(rng, 0, 5.9999) if rng.random() < 0.95 else 0
    income = [rand_cents(rng, 3, 8) if rng.random() < 0.9 else 0 for _ in PROFIT_INCOME]
    cost = [rand_cents(rng, 3, 7) if rng.random() < 0.9 else 0 for _ in PROFIT_COST]
    gap = sum(income) - sum(cost) - total       # move it into one item, keeping it >= 0
    if gap > 0:
        cost[rng.randrange(3)] += gap
    else:
        income[rng.randrange(3)] -= gap
    for k, v in zip(PROFIT_INCOME + PROFIT_COST, income + cost):
        c[k] = yuan(v)
    # 银行对存量客户价值: exactly 60 / 59.985 with the rule file's own test case, else
    # every indicator around a high or a low centre.
    if rng.random() < 0.2:
        vals = ['60', '60', '60', '60', '60', '80' if high_value else '79.9', '60', '60', 'false', '60', '60']
    else:
        lo, hi = (75, 100) if high_value else (0, 45)
        vals = []
        for k in STOCK_INDICATORS:
            if k == VIP:
                vals.append(rng.choice(['true', 'false', '是', '否', '1', '0']))
            else:
                vals.append(rng.choice([str(lo), str(hi), score_text(rng, lo, hi)]) if rng.random() < 0.2
                            else score_text(rng, lo, hi))
    for k, v in zip(STOCK_INDICATORS, vals):
        c[k] = v


def fill_target(rng, c, high_potential, high_value):
    # 潜在价值贡献度 and 银行对目标客户价值 are weighted sums with weights summing to
    # 100%: equal scores put them exactly on the value, whatever the weights.
    if rng.random() < 0.25:
        p = ['70'] * 3 if high_potential else ['69.99'] * 3
    else:
        lo, hi = (85, 100) if high_potential else (0, 55)
        p = [score_text(rng, lo, hi) for _ in POTENTIAL_SCORES]
    if rng.random() < 0.25:
        t = ['60'] * 4 if high_value else ['59.99'] * 4
    else:
        lo, hi = (75, 100) if high_value else (0, 45)
        t = [rng.choice([str(lo), str(hi)]) if rng.random() < 0.1 else score_text(rng, lo, hi)
             for _ in TARGET_INDICATORS]
    for k, v in zip(POTENTIAL_SCORES + TARGET_INDICATORS, p + t):
        c[k] = v


def generate(rng, n, strategic):
    customers, aims = [], []
    for i in range(n):
        layer, group = rng.choice(LAYERS), rng.choice(GROUPS)
        customers.append(gen_customer(rng, i + 1, strategic, layer, group))
        aims.append((layer, group))
    return customers, aims


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('stratum')
    ap.add_argument('root')
    ap.add_argument('--rules', help='rule file (default ROOT/rules/corporate_segments.strat)')
    ap.add_argument('--records', type=int, default=5000, help='customers in the generated portfolio')
    ap.add_argument('--seed', type=int, default=20240630)
    ap.add_argument('--keep', help='write the generated portfolio and the outputs into this folder')
    args = ap.parse_args()
    rules = args.rules or os.path.join(args.root, 'rules', 'corporate_segments.strat')
    example = os.path.join(args.root, 'examples', 'corporate_portfolio.csv')
    with open(os.path.join(args.root, 'rules', 'data', 'strategic_groups.csv'), encoding='utf-8') as f:
        strategic = [r['group_id'].strip() for r in csv.DictReader(f) if r['group_id'].strip()]

    with open(example, encoding='utf-8-sig', newline='') as f:
        example_inputs = list(csv.DictReader(f))
    rng = random.Random(args.seed)
    generated, aims = generate(rng, args.records, strategic)

    total_pass = total_fail = problems = 0
    with tempfile.TemporaryDirectory(prefix='corporate-') as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        gen_path = os.path.join(work, 'generated_portfolio.csv')
        with open(gen_path, 'w', encoding='utf-8', newline='') as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(generated)
        for name, data, inputs in (('corporate_portfolio.csv', example, example_inputs),
                                   ('generated', gen_path, generated)):
            p, m, x = run_portfolio(args.stratum, rules, name, data, inputs, work)
            total_pass += p
            total_fail += m
            problems += x

    # coverage guard: the generated portfolio reaches what it is built to reach
    want = {(layer, group) for layer in LAYERS for group in GROUPS}
    gaps = sorted(want - set(aims))
    edges = {
        '账户数量 0': any(c['账户数量'] == '0' for c in generated),
        '账户数量 1': any(c['账户数量'] == '1' for c in generated),
        '每个战略集团': set(strategic) <= {c['所属集团'] for c in generated},
        '利润贡献度 100万': any(c['贷款内部转移净收入'] and sum(Decimal(c[k]) for k in PROFIT_INCOME)
                           - sum(Decimal(c[k]) for k in PROFIT_COST) == PROFIT_SPLIT for c in generated),
        '潜在价值 70': any(c['行业价值空间评分'] == '70' for c in generated),
        '银行对目标客户价值 60': any(c['服务的便利性'] == '60' and c['产品优势'] == '60' for c in generated),
        '日均存款余额 50万': any(Decimal(c['日均存款余额']) == SCALE_SPLIT_DEPOSIT for c in generated),
    }
    for g in gaps:
        print('coverage: the generated portfolio has no customer aimed at %s × %s' % g)
    for k, ok in edges.items():
        if not ok:
            print('coverage: the generated portfolio misses %s' % k)
    missing_edges = [k for k, ok in edges.items() if not ok]
    print('%d passed, %d failed' % (total_pass, total_fail))
    return 1 if total_fail or problems or gaps or missing_edges else 0


if __name__ == '__main__':
    sys.exit(main())
