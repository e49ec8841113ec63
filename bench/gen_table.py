#!/usr/bin/env python3
"""A generated decision table for timing the analysis:

    python3 bench/gen_table.py ROWS [SEED] > table.strat

ROWS rows over 6 columns (2 enums, 4 numbers), hit policy `unique`: the rows
tile the space (a grid of ranges), so a correct analysis finds no overlap and
no gap, having had to compare every row with the others.
"""
import random
import sys

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
print('enum 行业 { 甲, 乙, 丙, 丁 }')
print('enum 等级 { A, B, C, D, E }')
print('enum 档 { 一, 二, 三 }')
print('input 客户 { id : text key  行业 : 行业  等级 : 等级  a : int >= 0  b : money >= 0元  c : decimal in [0, 1]  d : int >= 0 }')
print('table 档 : 档 unique {')
print('  行业 | 等级 | a | b | c | d || 档')
# 4 × 5 enum cells × K ranges of `a`, each row covering everything else: exactly `rows` rows.
cells = 4 * 5
k = max(1, rows // cells)
bounds = sorted(rng.sample(range(1, 100000), k - 1))
edges = [0] + bounds
out = 0
for i in ['甲', '乙', '丙', '丁']:
    for g in ['A', 'B', 'C', 'D', 'E']:
        for j, lo in enumerate(edges):
            a = f'>= {lo}' if j == len(edges) - 1 else f'[{lo}, {edges[j + 1]})'
            print(f'  {i} | {g} | {a} | - | - | - || {["一", "二", "三"][out % 3]}')
            out += 1
print('}')
