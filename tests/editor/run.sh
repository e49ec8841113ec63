#!/bin/sh
# The grammar test (grammar_test.mjs) with its npm packages: vscode-textmate
# and vscode-oniguruma, the engine VS Code tokenizes with, installed from the
# lock file into BUILD_DIR (once) — test tooling only, nothing ships with it.
#   run.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILD_DIR}
command -v node >/dev/null 2>&1 || { echo "tests/editor: needs node and npm (make installs them)" >&2; exit 1; }
mkdir -p "$build"
cp "$here/package.json" "$here/package-lock.json" "$here/grammar_test.mjs" "$build/"
if [ ! -f "$build/node_modules/.stratum-installed" ] || ! cmp -s "$here/package-lock.json" "$build/node_modules/.stratum-lock"; then
  (cd "$build" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$build/node_modules/.stratum-lock"
  touch "$build/node_modules/.stratum-installed"
fi
STRATUM_ROOT=$(cd "$here/../.." && pwd) exec node "$build/grammar_test.mjs"
