#!/usr/bin/env python3
"""Seeded generators of benchmark portfolios.

    python3 bench/gen.py sme N [SEED] > sme.csv          # id,industry,employees,revenue,total_assets
    python3 bench/gen.py corporate N [SEED] > corp.csv   # the columns of rules/corporate_segments.strat
    python3 bench/gen.py jsonl sme.csv > sme.jsonl       # the same records as JSON Lines (numbers unquoted)

The SME data follows the peers' generator: industries uniform, employees
1..20,000 and amounts 1..1,000,000 万 log-uniform with 2 decimals (in yuan
here), and one record in ten with a field exactly on a threshold of the
standard. The corporate data is examples/generate_corporate.py's.
"""
import math
import os
import random
import sys

INDUSTRIES = ["农林牧渔业", "工业", "建筑业", "批发业", "零售业", "交通运输业", "仓储业", "邮政业",
              "住宿业", "餐饮业", "信息传输业", "软件和信息技术服务业", "房地产开发经营", "物业管理",
              "租赁和商务服务业", "其他未列明行业"]
EMP_EDGES = [5, 10, 20, 50, 100, 200, 300, 1000, 2000]
MONEY_EDGES_WAN = [50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 6000, 8000, 10000,
                   20000, 30000, 40000, 80000, 100000, 120000, 200000]


def sme(n, seed, out):
    rng = random.Random(seed)
    lg = lambda lo, hi: math.exp(math.log(lo) + rng.random() * (math.log(hi) - math.log(lo)))
    write = out.write
    write("id,industry,employees,revenue,total_assets\n")
    buf = []
    for i in range(1, n + 1):
        ind = INDUSTRIES[int(rng.random() * 16)]
        e = max(1, round(lg(1, 20000)))
        r = round(lg(1, 1e6), 2)
        a = round(lg(1, 1e6), 2)
        if rng.random() < 0.10:
            f = int(rng.random() * 3)
            if f == 0:
                e = rng.choice(EMP_EDGES)
            elif f == 1:
                r = rng.choice(MONEY_EDGES_WAN)
            else:
                a = rng.choice(MONEY_EDGES_WAN)
        # 万 with 2 decimals → yuan with no fraction
        buf.append(f"{i},{ind},{e},{round(r * 10000)},{round(a * 10000)}\n")
        if len(buf) >= 10000:
            write("".join(buf))
            buf.clear()
    write("".join(buf))


def jsonl(path, out):
    """The records of a CSV file as JSON Lines: the key and texts as strings,
    numbers as JSON numbers written as in the CSV, empty cells left out."""
    import csv
    import json
    import re
    number = re.compile(r"-?[0-9]+(\.[0-9]+)?$")
    buf = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        for row in reader:
            parts = []
            for name, value in zip(header, row):
                if value == "":
                    continue
                text = value if name != "id" and number.match(value) else json.dumps(value, ensure_ascii=False)
                parts.append(f"{json.dumps(name, ensure_ascii=False)}:{text}")
            buf.append("{" + ",".join(parts) + "}\n")
            if len(buf) >= 10000:
                out.write("".join(buf))
                buf.clear()
    out.write("".join(buf))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "jsonl":
        return jsonl(sys.argv[2], sys.stdout)
    if len(sys.argv) < 3 or sys.argv[1] not in ("sme", "corporate"):
        sys.exit(__doc__)
    kind, n = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20110618
    if kind == "sme":
        sme(n, seed, sys.stdout)
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        sys.argv = [sys.argv[0], str(n), str(seed)]
        sys.path.insert(0, os.path.join(here, "..", "examples"))
        import generate_corporate
        generate_corporate.main()


if __name__ == "__main__":
    main()
