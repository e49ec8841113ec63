#!/usr/bin/env python3
"""Checks that the layers of src/ include only layers below them.

Each folder of src/ is a layer; LAYERS below orders them, bottom to top. A
file may include files of its own layer and of the layers below it, never of
a layer above it. Layers grouped on one level (a tuple in LAYERS) stand side
by side: each may include what is below the level, neither the other. This
script reads every `#include "…"` line of src/ and fails (exit 1) listing
each one that breaks the order, as

  src/eval/program.hpp:22: layer eval includes layer check above it
  src/syntax/ast.hpp:12: layer syntax includes layer eval beside it

It also fails when a folder of src/ is not in LAYERS (place it in the order
first). An include is resolved as the compiler resolves it: beside the file
first, then from src/; includes that lead outside src/ (the grammar's error
messages, system and library headers) are not layers and are not checked.

  layers_check.py [SRC]      (default: the src/ beside tests/)
"""
import os
import re
import sys

# Bottom to top. The syntax tree and the evaluation tree both rest on the
# values and know nothing of each other; lowering (compile) reads the checked
# syntax and produces the evaluation tree.
LAYERS = [
    'source',    # source files, spans, lines and columns
    'diag',      # diagnostics and their renderers
    'value',     # decimals, dates, types, enum descriptions
    ('syntax',   # the parser and the syntax tree
     'eval'),    # the evaluation tree and the evaluator
    'check',     # names, types, units, cycles: the checked model
    'compile',   # the checked model → the evaluation tree
    'analysis',  # proofs over the input domain
    'io',        # readers, binding, writers
    'driver',    # loading, compiling a rule set, the test runner
    'native',    # rule sets compiled ahead of time (generated C++, loaded)
    'engine',    # the engine's programmatic interface
    ('serve',    # the decision service (HTTP)
     'report',   # reports over a portfolio (HTML pages of charts)
     'dmn',      # DMN models in and out (decision tables)
     'lsp'),     # the language server (editors)
    'cli',       # the `stratum` command
]

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
SOURCE_SUFFIXES = ('.hpp', '.cpp', '.h', '.cc', '.ipp')


def layer_of(path, src):
    """The layer (first folder under src/) of a path, or None outside src/."""
    rel = os.path.relpath(os.path.normpath(path), src)
    if rel.startswith('..') or os.path.isabs(rel):
        return None
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else None


def resolve(name, including, src):
    """Where `#include "name"` in file `including` leads, as the compiler finds it."""
    beside = os.path.join(os.path.dirname(including), name)
    if os.path.exists(beside):
        return beside
    return os.path.join(src, name)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(here, '..', 'src'))
    if not os.path.isdir(src):
        print('layers_check: no folder %s' % src, file=sys.stderr)
        return 2
    rank = {}
    for level, entry in enumerate(LAYERS):
        for name in (entry if isinstance(entry, tuple) else (entry,)):
            rank[name] = level
    root = os.path.dirname(src)
    problems = []
    for layer in sorted(os.listdir(src)):
        if os.path.isdir(os.path.join(src, layer)) and layer not in rank:
            problems.append('src/%s: layer %s is not in the order of tests/layers_check.py' % (layer, layer))
    files = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(SOURCE_SUFFIXES)]
    for path in files:
        layer = layer_of(path, src)
        if layer not in rank:
            continue
        with open(path, encoding='utf-8') as fh:
            for number, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = layer_of(resolve(m.group(1), path, src), src)
                if target not in rank or target == layer or rank[target] < rank[layer]:
                    continue
                problems.append('%s:%d: layer %s includes layer %s %s it'
                                % (os.path.relpath(path, root), number, layer, target,
                                   'above' if rank[target] > rank[layer] else 'beside'))
    for p in problems:
        print(p)
    if problems:
        print('%d layering problem%s (order, bottom to top: %s)'
              % (len(problems), '' if len(problems) == 1 else 's',
                 ', '.join(' | '.join(e) if isinstance(e, tuple) else e for e in LAYERS)))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
