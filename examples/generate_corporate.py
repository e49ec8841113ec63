#!/usr/bin/env python3
"""Writes examples/corporate_portfolio.csv: a synthetic portfolio of corporate
customers for rules/corporate_segments.strat, deterministic for a given seed.

    python3 examples/generate_corporate.py [N=10000] [SEED=20240630] > examples/corporate_portfolio.csv

Every leaf of the segment tree is populated, and in each of them both 存量客户
(账户数量 ≥ 1) and 目标客户 (账户数量 0) of every 客户群 (重要/优质/普通/退出,
黄金/潜力/关注/一般). A 存量客户 carries the six items of 利润贡献度 and the eleven
indicators of 银行对存量客户价值 and leaves the 目标 columns empty; a 目标客户 carries
the three 潜在价值 评分 and the four indicators of 银行对目标客户价值 and leaves the
存量 columns empty. About 10% of the customers sit exactly on a threshold of the
tree (3亿, 1.5亿, 50万 日均存款, the SME standard's floors) and about 10% exactly on
a split point of the two grids (利润贡献度 100万, 银行对存量客户价值 60, 潜在价值 70,
银行对目标客户价值 60).
"""
import math
import random
import sys

INDUSTRIES = ["农林牧渔业", "工业", "建筑业", "批发业", "零售业", "交通运输业", "仓储业", "邮政业",
              "住宿业", "餐饮业", "信息传输业", "软件和信息技术服务业", "房地产开发经营", "物业管理",
              "租赁和商务服务业", "其他未列明行业"]
TAGS = ["互联网", "物联网", "移动支付", "制造", "外贸", "绿色金融", "专精特新"]

PROFIT_ITEMS = ["贷款内部转移净收入", "存款内部转移净收入", "中间业务净收入", "资本成本分摊", "运营成本分摊",
                "信贷成本分摊"]
# 银行对存量客户价值: the eleven indicators, in the seed's order (the VIP one is 是/否).
EXISTING_INDICATORS = ["客户市场份额占比", "客户产品和服务满意程度", "产品覆盖度", "账户数量和性质", "续存时间",
                       "各项产品余额或交易额", "有效账户数和活跃程度", "各项业务增长率", "高管人员是否为本行的VIP客户",
                       "资产质量", "合作签约情况"]
VIP = "高管人员是否为本行的VIP客户"
POTENTIAL_SCORES = ["行业价值空间评分", "企业成长性评分", "市场影响力和产业链影响力评分"]
TARGET_INDICATORS = ["银行产品对客户的适用性", "客户营销可行性", "产品优势", "服务的便利性"]

COLUMNS = (["id", "信贷余额", "所属市场", "industry", "业务标签", "所属集团", "employees", "revenue", "total_assets",
            "日均存款余额", "账户数量"] + PROFIT_ITEMS + EXISTING_INDICATORS + POTENTIAL_SCORES + TARGET_INDICATORS)


def money(rng, lo, hi):
    """Log-uniform amount in yuan with 2 decimals."""
    return round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 2)


def score(rng, centre):
    """A 0–100 评分 around `centre`, one decimal."""
    return round(min(100.0, max(0.0, rng.gauss(centre, 12))), 1)


def yuan(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def existing_columns(rng, has_loan, high_profit, high_value, exact):
    """The six 利润贡献度 items (in cents) and the eleven indicators of a 存量客户."""
    scale = money(rng, 3e6, 2e7) if high_profit else money(rng, 1e5, 2.5e6)
    loan = round(scale * rng.uniform(0.4, 0.7) * 100) if has_loan else 0
    deposit = round(scale * rng.uniform(0.1, 0.3) * 100)
    fee = round(scale * rng.uniform(0.05, 0.2) * 100)
    capital = round(loan * rng.uniform(0.1, 0.3))
    operating = round(scale * rng.uniform(0.03, 0.1) * 100)
    credit = round(loan * rng.uniform(0.0, 0.15))
    if exact == "profit":  # 利润贡献度 exactly 100万 (or one fen below it)
        credit = loan + deposit + fee - capital - operating - (100000000 if high_profit else 99999999)
        if credit < 0:
            deposit -= credit
            credit = 0
    items = [yuan(c) for c in (loan, deposit, fee, capital, operating, credit)]
    if exact == "value":  # 银行对存量客户价值 exactly 60 (or 59.985)
        values = [60, 60, 60, 60, 60, 80 if high_value else 79.9, 60, 60, "否", 60, 60]
    else:
        centre = rng.uniform(66, 92) if high_value else rng.uniform(15, 54)
        values = [score(rng, centre) for _ in EXISTING_INDICATORS]
        values[EXISTING_INDICATORS.index(VIP)] = "是" if rng.random() < centre / 150 else "否"
    return items + [str(v) for v in values]


def target_columns(rng, high_potential, high_value, exact):
    """The three 潜在价值 评分 and the four indicators of a 目标客户."""
    if exact == "potential":  # 潜在价值贡献度 exactly 70 (or 69.97)
        potential = [100, 100 if high_potential else 99.9, 0]
    else:
        centre = rng.uniform(76, 95) if high_potential else rng.uniform(20, 64)
        potential = [score(rng, centre) for _ in POTENTIAL_SCORES]
    if exact == "value":  # 银行对目标客户价值 exactly 60 (or 59.99)
        value = [60, 60, 60, 60 if high_value else 59.96]
    else:
        centre = rng.uniform(66, 92) if high_value else rng.uniform(15, 54)
        value = [score(rng, centre) for _ in TARGET_INDICATORS]
    return [str(v) for v in potential + value]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20240630)
    print(",".join(COLUMNS))
    for i in range(1, n + 1):
        has_loan = rng.random() < 0.6
        market = "机构" if rng.random() < 0.12 else "公司"
        industry = rng.choice(INDUSTRIES)
        tags = []
        if rng.random() < 0.12:
            tags.append(rng.choice(TAGS[:3]))
        if rng.random() < 0.3:
            tags.append(rng.choice(TAGS[3:]))
        group = ""
        if rng.random() < 0.06:
            group = f"G{rng.randint(1, 94):03d}"
        elif rng.random() < 0.05:
            group = f"G{rng.randint(95, 300):03d}"
        employees = max(1, int(money(rng, 1, 20000)))
        revenue = money(rng, 1e5, 5e9)
        assets = money(rng, 1e5, 5e9)
        deposit = money(rng, 1e3, 5e7)
        if rng.random() < 0.10:  # exactly on a threshold of the tree
            which = rng.randrange(4)
            if which == 0:
                revenue = rng.choice([3e8, 1.5e8, 2e7, 3e6, 1e7, 5e7])
            elif which == 1:
                deposit = 5e5
            elif which == 2:
                employees = rng.choice([10, 20, 100, 300, 1000])
            else:
                assets = rng.choice([5e7, 3e6, 2e7])
        existing = rng.random() < 0.7  # 存量客户: at least one account with the bank
        accounts = rng.randint(1, 12) if existing else 0
        high_x, high_y = rng.random() < 0.5, rng.random() < 0.5  # the grid cell aimed at
        exact = None
        if rng.random() < 0.10:  # exactly on a split point of the grid
            exact = rng.choice(["profit", "value"] if existing else ["potential", "value"])
        row = [f"C{i:06d}", f"{rng.uniform(1e4, 5e8):.2f}" if has_loan else "0", market, industry,
               ";".join(tags), group, str(employees), f"{revenue:.2f}", f"{assets:.2f}", f"{deposit:.2f}",
               str(accounts)]
        if existing:
            row += existing_columns(rng, has_loan, high_x, high_y, exact)
            row += [""] * (len(POTENTIAL_SCORES) + len(TARGET_INDICATORS))
        else:
            row += [""] * (len(PROFIT_ITEMS) + len(EXISTING_INDICATORS))
            row += target_columns(rng, high_x, high_y, exact)
        print(",".join(row))


if __name__ == "__main__":
    main()
