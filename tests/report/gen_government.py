"""A deterministic portfolio of 政府类客户 for rules/government_clients.strat:
every 客户类别 and 产品类别, some customers without the figures a grade needs
(rejected with the rules' reason), the rest spread over the scorecard."""
import csv
import random
import sys


def main(path, count=400):
    rng = random.Random(20261128)
    products = ['MMS', '城管', '公安', '数字城市', '交通', '应急', '旅游', '其他']
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['id', '产品类别', '客户类别', '潜在需求', '预算落实', '实施时间表', '决策人清晰', '历史销售额', '预计销售额', '毛利率'])
        for i in range(count):
            kind = rng.choices(['最终用户', '代理', '政府关系人'], [8, 1, 1])[0]
            flags = [rng.random() < 0.9 for _ in range(4)]
            history = '' if rng.random() < 0.03 else str(rng.randint(0, 600) * 10000)
            forecast = '' if rng.random() < 0.04 else str(rng.choice([0] + list(range(20, 900))) * 10000)
            margin = '%.2f' % rng.uniform(0.02, 0.4)
            w.writerow(['G%04d' % i, products[i % len(products)], kind] + ['true' if x else 'false' for x in flags] +
                       [history, forecast, margin])


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 400)
