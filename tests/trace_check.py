#!/usr/bin/env python3
"""Checks docs/traceability.md against the rule files, their tests and the seeds.

Each table row of the trace reads

  | seed | clause | status | rule | test |
  | 003 | 「历史销售额150万元…」 | as seed | `rules/government_clients.strat:42: 毛利率` | "政府: …" |

and this script fails (exit 1) when

  - a cited rule line no longer exists or no longer contains the excerpt
    cited with it (`rules/FILE.strat:LINE: EXCERPT`);
  - a cited test is not a `test "…"` block of a cited rule file (nor a
    `name:` of the YAML case file beside it);
  - the status is not one of `as seed`, `chosen: …`, `interpretation: …`,
    `not encoded: …`, or a row that is not `not encoded` cites no rule or
    no test;
  - the clause's quote (「…」, fragments split at `…`) is not in the seed file
    (checked when the seeds folder is found: --seeds, $STRATUM_SEEDS or
    ../shared/seeds beside the repository; otherwise said and skipped);
  - (whole trace only) a shipped rule file under rules/ is not cited at all.

  trace_check.py [docs/traceability.md] [--seeds DIR] [--fragment] [--fix-lines]

--fragment checks one section (no "every rule file cited" check).
--fix-lines rewrites a citation's line number where its excerpt now stands
on exactly one line of the file, then checks.
"""
import argparse
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATUSES = ("as seed", "chosen:", "interpretation:", "not encoded:")
RULE_ITEM = re.compile(r"`(rules/[^`:]+\.strat):(\d+): ([^`]+)`")
TEST_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"')
QUOTE = re.compile(r"「([^」]*)」")
TEST_BLOCK = re.compile(r'^\s*test\s+"((?:[^"\\]|\\.)*)"', re.M)
YAML_NAME = re.compile(r"^\s*-?\s*name:\s*(.+?)\s*$", re.M)


def squeeze(text):
    return re.sub(r"\s+", "", text)


def split_cells(line):
    cells = line.strip().strip("|").split("|")
    return [c.strip() for c in cells]


class Trace:
    def __init__(self, path, seeds):
        self.path = path
        self.seeds = seeds
        self.errors = []
        self.rows = 0
        self.cited_files = set()
        self._lines = {}
        self._tests = {}
        self._seed_text = {}

    def error(self, line_no, message):
        self.errors.append(f"{self.path}:{line_no}: {message}")

    def rule_lines(self, rel):
        if rel not in self._lines:
            path = os.path.join(ROOT, rel)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    self._lines[rel] = f.read().split("\n")
            else:
                self._lines[rel] = None
        return self._lines[rel]

    def tests_of(self, rel):
        if rel not in self._tests:
            names = set()
            lines = self.rule_lines(rel)
            if lines is not None:
                for m in TEST_BLOCK.finditer("\n".join(lines)):
                    names.add(m.group(1).replace('\\"', '"').replace("\\\\", "\\"))
                cases = os.path.join(ROOT, rel[: -len(".strat")] + ".cases.yaml")
                if os.path.isfile(cases):
                    with open(cases, encoding="utf-8") as f:
                        for m in YAML_NAME.finditer(f.read()):
                            names.add(m.group(1).strip().strip("'\""))
            self._tests[rel] = names
        return self._tests[rel]

    def seed_text(self, seed):
        if seed not in self._seed_text:
            files = glob.glob(os.path.join(self.seeds, f"{seed}_*.txt")) if self.seeds else []
            if len(files) != 1:
                self._seed_text[seed] = None
            else:
                with open(files[0], encoding="utf-8") as f:
                    self._seed_text[seed] = squeeze(f.read())
        return self._seed_text[seed]

    def check_row(self, line_no, cells):
        seed, clause, status, rule, test = cells
        self.rows += 1
        if not re.fullmatch(r"\d{3}", seed):
            self.error(line_no, f"seed `{seed}` is not a seed number such as 003")
        quotes = QUOTE.findall(clause)
        if not quotes:
            self.error(line_no, "the clause has no quote of the seed in 「…」")
        if self.seeds and re.fullmatch(r"\d{3}", seed):
            text = self.seed_text(seed)
            if text is None:
                self.error(line_no, f"no seed file {seed}_*.txt in {self.seeds}")
            else:
                for q in quotes:
                    for part in q.split("…"):
                        if squeeze(part) and squeeze(part) not in text:
                            self.error(line_no, f"「{part}」 is not in seed {seed}")
        if not status.startswith(STATUSES):
            self.error(line_no, f"status `{status}` is not one of: as seed, chosen: …, interpretation: …, not encoded: …")
        encoded = not status.startswith("not encoded:")
        items = RULE_ITEM.findall(rule)
        files = []
        if encoded and not items:
            self.error(line_no, "no rule cited (`rules/FILE.strat:LINE: EXCERPT`)")
        if not encoded and rule != "-":
            self.error(line_no, "a clause that is not encoded cites no rule: write `-`")
        for rel, n, excerpt in items:
            self.cited_files.add(rel)
            files.append(rel)
            lines = self.rule_lines(rel)
            if lines is None:
                self.error(line_no, f"{rel} does not exist")
                continue
            n = int(n)
            if n < 1 or n > len(lines):
                self.error(line_no, f"{rel}:{n} does not exist ({len(lines)} lines)")
            elif excerpt.strip() not in lines[n - 1]:
                where = [i + 1 for i, l in enumerate(lines) if excerpt.strip() in l]
                hint = f" (it is on line {', '.join(map(str, where))})" if where else " (it is nowhere in the file)"
                self.error(line_no, f"{rel}:{n} no longer reads `{excerpt.strip()}`{hint}")
        names = TEST_ITEM.findall(test)
        if encoded and not names:
            self.error(line_no, 'no test cited ("test name")')
        if not encoded and test != "-":
            self.error(line_no, "a clause that is not encoded cites no test: write `-`")
        for name in names:
            name = name.replace('\\"', '"')
            if not any(name in self.tests_of(rel) for rel in files):
                self.error(line_no, f'test "{name}" is not in {", ".join(sorted(set(files))) or "a cited rule file"}')

    def run(self, text):
        header = False
        for i, line in enumerate(text.split("\n"), 1):
            if not line.lstrip().startswith("|"):
                header = False
                continue
            cells = split_cells(line)
            if [c.lower() for c in cells] == ["seed", "clause", "status", "rule", "test"]:
                header = True
                continue
            if not header or all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            if len(cells) != 5:
                self.error(i, f"a trace row has 5 cells, this one {len(cells)} (a '|' inside a cell?)")
                continue
            self.check_row(i, cells)


def fix_lines(path, text):
    """Renumbers citations whose excerpt now stands on exactly one line."""
    cache = {}

    def renumber(m):
        rel, n, excerpt = m.group(1), int(m.group(2)), m.group(3)
        if rel not in cache:
            p = os.path.join(ROOT, rel)
            cache[rel] = open(p, encoding="utf-8").read().split("\n") if os.path.isfile(p) else None
        lines = cache[rel]
        if lines is None or (1 <= n <= len(lines) and excerpt.strip() in lines[n - 1]):
            return m.group(0)
        where = [i + 1 for i, l in enumerate(lines) if excerpt.strip() in l]
        if len(where) != 1:
            return m.group(0)
        return f"`{rel}:{where[0]}: {excerpt}`"

    fixed = RULE_ITEM.sub(renumber, text)
    if fixed != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(fixed)
    return fixed


def main():
    ap = argparse.ArgumentParser(description="Check docs/traceability.md against rules/, their tests and the seeds.")
    ap.add_argument("trace", nargs="?", default=os.path.join(ROOT, "docs", "traceability.md"))
    ap.add_argument("--seeds", help="the seeds folder (default: $STRATUM_SEEDS or ../shared/seeds beside the repository)")
    ap.add_argument("--fragment", action="store_true", help="one section: do not require every rule file to be cited")
    ap.add_argument("--fix-lines", action="store_true", help="renumber citations whose excerpt moved to one other line")
    args = ap.parse_args()

    seeds = args.seeds or os.environ.get("STRATUM_SEEDS")
    if not seeds:
        candidate = os.path.join(os.path.dirname(ROOT), "shared", "seeds")
        seeds = candidate if os.path.isdir(candidate) else None
    elif not os.path.isdir(seeds):
        print(f"trace_check: the seeds folder {seeds} does not exist", file=sys.stderr)
        return 2

    try:
        with open(args.trace, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        print(f"trace_check: cannot read {args.trace}: {e.strerror}", file=sys.stderr)
        return 2
    if args.fix_lines:
        text = fix_lines(args.trace, text)

    trace = Trace(args.trace, seeds)
    trace.run(text)
    if not args.fragment:
        for path in sorted(glob.glob(os.path.join(ROOT, "rules", "*.strat"))):
            rel = os.path.relpath(path, ROOT)
            if rel not in trace.cited_files:
                trace.errors.append(f"{args.trace}: {rel} is not traced to any seed clause")
    for e in trace.errors:
        print(e)
    if trace.rows == 0:
        print(f"{args.trace}: no trace rows (a table with the header | seed | clause | status | rule | test |)")
        return 1
    quotes = "quotes checked against " + seeds if seeds else "quotes NOT checked (no seeds folder found)"
    print(f"{trace.rows} trace rows, {len(trace.cited_files)} rule files, {len(trace.errors)} problems; {quotes}")
    return 1 if trace.errors else 0


if __name__ == "__main__":
    sys.exit(main())
