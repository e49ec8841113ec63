#!/usr/bin/env python3
"""Writes examples/corporate_portfolio.csv: a synthetic portfolio of corporate
customers for rules/corporate_segments.strat, deterministic for a given seed.

    python3 examples/generate_corporate.py [N=10000] [SEED=20240630] > examples/corporate_portfolio.csv

Every segment of the tree is populated; about 10% of the customers sit exactly
on a threshold (3亿, 1.5亿, 50万 日均存款, the SME standard's floors), and
about half carry the optional columns of the two value grids.
"""
import random
import sys

INDUSTRIES = ["农林牧渔业", "工业", "建筑业", "批发业", "零售业", "交通运输业", "仓储业", "邮政业",
              "住宿业", "餐饮业", "信息传输业", "软件和信息技术服务业", "房地产开发经营", "物业管理",
              "租赁和商务服务业", "其他未列明行业"]
TAGS = ["互联网", "物联网", "移动支付", "制造", "外贸", "绿色金融", "专精特新"]


def money(rng, lo, hi):
    """Log-uniform amount in yuan with 2 decimals."""
    import math
    return round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 2)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20240630)
    cols = ["id", "loan_balance", "market", "industry", "tags", "strategic_group", "employees", "revenue",
            "total_assets", "avg_daily_deposit", "loan_ftp_income", "deposit_ftp_income", "fee_income",
            "capital_cost", "operating_cost", "credit_cost", "industry_space_score", "growth_score",
            "influence_score", "bank_value_existing", "bank_value_target"]
    print(",".join(cols))
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
        if rng.random() < 0.05:
            group = f"G{rng.randint(1, 94):03d}"
        elif rng.random() < 0.05:
            group = f"G{rng.randint(95, 300):03d}"
        employees = max(1, int(money(rng, 1, 20000)))
        revenue = money(rng, 1e5, 5e9)
        assets = money(rng, 1e5, 5e9)
        deposit = money(rng, 1e3, 5e7)
        if rng.random() < 0.10:  # exactly on a threshold
            which = rng.randrange(4)
            if which == 0:
                revenue = rng.choice([3e8, 1.5e8, 2e7, 3e6, 1e7, 5e7])
            elif which == 1:
                deposit = 5e5
            elif which == 2:
                employees = rng.choice([10, 20, 100, 300, 1000])
            else:
                assets = rng.choice([5e7, 3e6, 2e7])
        row = [f"C{i:06d}", f"{rng.uniform(1e4, 5e8):.2f}" if has_loan else "0", market, industry,
               ";".join(tags), group, str(employees), f"{revenue:.2f}", f"{assets:.2f}", f"{deposit:.2f}"]
        if rng.random() < 0.5:
            row += [f"{money(rng, 1e3, 5e6):.2f}", f"{money(rng, 1e3, 2e6):.2f}", f"{money(rng, 1e2, 1e6):.2f}",
                    f"{money(rng, 1e3, 2e6):.2f}", f"{money(rng, 1e3, 1e6):.2f}", f"{money(rng, 1e2, 1e6):.2f}",
                    str(rng.randint(0, 100)), str(rng.randint(0, 100)), str(rng.randint(0, 100)),
                    str(rng.randint(0, 100)) if has_loan or deposit > 1e5 else "",
                    "" if has_loan else str(rng.randint(0, 100))]
        else:
            row += [""] * 11
        print(",".join(row))


if __name__ == "__main__":
    main()
