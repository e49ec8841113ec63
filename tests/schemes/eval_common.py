"""Shared by the scheme invariant scripts: reading `stratum eval`'s rejections
and judging each input record against its one output row."""
import json
import os


def read_rejections(err_path):
    """The --errors file as {key: [rejection, …]} (empty when there is none)."""
    rejected = {}
    if os.path.exists(err_path):
        with open(err_path, encoding='utf-8') as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    rejected.setdefault(r.get('key'), []).append(r)
    return rejected


def judge(records, rows, rejected, check, prefix, noun):
    """Checks every input record: not rejected, exactly one output row, and
    `check(record, row)` returns no violation. Prints one line per violation
    (`PREFIX KEY: message`) and returns (passed, failed, by_key)."""
    by_key = {}
    for row in rows:
        by_key.setdefault(row['id'], []).append(row)
    passed = failed = 0
    lead = prefix + ' ' if prefix else ''
    for rec in records:
        key = rec['id']
        if key in rejected:
            v = ['(d) rejected: column %s: %s' % (r.get('column'), r.get('reason')) for r in rejected[key]]
        elif len(by_key.get(key, [])) != 1:
            v = ['(d) %d output rows for this %s' % (len(by_key.get(key, [])), noun)]
        else:
            v = check(rec, by_key[key][0])
        if v:
            failed += 1
            for msg in v:
                print('%s%s: %s' % (lead, key, msg))
        else:
            passed += 1
    return passed, failed, by_key
