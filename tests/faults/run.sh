#!/usr/bin/env bash
# Fault tests: full and closed standard streams, special and unwritable output
# paths, signals mid-run. Each case checks the exit status, the message, and
# that nothing was left behind or damaged. Only files in a temporary folder
# are used as outputs — never a real device path.
#   run.sh STRATUM SOURCE_DIR
set -u
S="$(realpath "$1")"; SRC="$(realpath "$2")"
R="$SRC/tests/golden/eval/clean-first-hit"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
cd "$T"
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
expect_eq() { # name got want
  if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "got [$2], want [$3]"; fi
}
run_eval() { timeout 60 "$S" eval "$R.strat" --input "$R.csv" --format csv "$@"; }
want_out="$(run_eval 2>/dev/null)"

# -- standard streams
run_eval >/dev/full 2>err; expect_eq "stdout /dev/full: exit 2" "$?" 2
expect_eq "stdout /dev/full: one message" "$(cat err)" "stratum eval: cannot write standard output: No space left on device"
run_eval 2>/dev/full >/dev/null; expect_eq "stderr /dev/full: exit 2, no abort" "$?" 2
run_eval >&- 2>err; expect_eq "stdout closed: exit 2" "$?" 2
expect_eq "stdout closed: message" "$(cat err)" "stratum eval: cannot write standard output: Bad file descriptor"
run_eval 2>&- >/dev/null; expect_eq "stderr closed: exit 2" "$?" 2
"$S" fmt --stdout "$R.strat" >/dev/full 2>err; expect_eq "fmt --stdout, stdout /dev/full: exit 2" "$?" 2
expect_eq "fmt --stdout, stdout /dev/full: message" "$(cat err)" "stratum: cannot write standard output: No space left on device"
"$S" --help >/dev/full 2>/dev/null; expect_eq "--help, stdout /dev/full: exit 2" "$?" 2

# -- output paths
echo before > f600; chmod 600 f600
run_eval --output f600 2>/dev/null; expect_eq "existing file: exit 0" "$?" 0
expect_eq "existing file: mode kept" "$(stat -c %a f600)" 600
expect_eq "existing file: replaced whole" "$(cat f600)" "$want_out"

echo before > real; ln -s real link
run_eval --output link 2>/dev/null
expect_eq "symlink: still a symlink" "$(stat -c %F link)" "symbolic link"
expect_eq "symlink: its target written" "$(cat real)" "$want_out"

ln -s nowhere dangling
run_eval --output dangling 2>/dev/null
expect_eq "dangling symlink: still a symlink" "$(stat -c %F dangling)" "symbolic link"
expect_eq "dangling symlink: written through" "$(cat nowhere)" "$want_out"

mkfifo fifo; timeout 60 cat fifo > from-fifo & reader=$!
run_eval --output fifo 2>/dev/null; status=$?; wait $reader
expect_eq "FIFO: exit 0" "$status" 0
expect_eq "FIFO: still a FIFO" "$(stat -c %F fifo)" "fifo"
expect_eq "FIFO: the reader got everything" "$(cat from-fifo)" "$want_out"

mkdir adir
run_eval --output adir 2>err; expect_eq "directory: exit 2" "$?" 2
expect_eq "directory: message" "$(cat err)" "stratum eval: cannot write adir: it is a directory"

mkdir ro; chmod 500 ro
if [ "$(id -u)" != 0 ]; then
  run_eval --output ro/out.csv 2>err; expect_eq "unwritable folder: exit 2" "$?" 2
fi
run_eval --output missing-dir/out.csv 2>err; expect_eq "missing folder: exit 2" "$?" 2
expect_eq "missing folder: message" "$(cat err)" "stratum eval: cannot write missing-dir/out.csv: No such file or directory"

# -- an output that is the input: refused, the input untouched
cp "$R.csv" in.csv; ln -s in.csv in-link.csv
for out in in.csv in-link.csv ./in.csv; do
  timeout 60 "$S" eval "$R.strat" --input in.csv --format csv --output "$out" 2>err
  expect_eq "output is the input ($out): exit 2" "$?" 2
  expect_eq "output is the input ($out): message" "$(head -1 err)" \
    "stratum eval: --output $out is the input: it would be replaced by what is read from it; write elsewhere"
done
timeout 60 "$S" eval "$R.strat" --input in.csv --errors in.csv 2>err >/dev/null
expect_eq "errors file is the input: exit 2" "$?" 2
timeout 60 "$S" report "$R.strat" --input in.csv --output in.csv 2>err
expect_eq "report output is the input: exit 2" "$?" 2
expect_eq "report output is the input: message" "$(head -1 err)" \
  "stratum report: --output in.csv is the input: it would be replaced; write elsewhere"
timeout 60 "$S" report "$R.strat" --input in.csv --output r.html --data "$R.strat" 2>err
expect_eq "report data is the rules: message" "$(head -1 err)" \
  "stratum report: --data $R.strat is the rules: it would be replaced; write elsewhere"
expect_eq "output is the input: input untouched" "$(cmp in.csv "$R.csv" && echo same)" "same"
[ ! -e r.html ] && ok "report refused: nothing written" || bad "report refused: nothing written" "r.html exists"

# -- a mistyped command
"$S" chek x 2>err; expect_eq "mistyped command: exit 2" "$?" 2
expect_eq "mistyped command: did you mean" "$(head -1 err)" "stratum: unknown command \`chek\` (did you mean \`check\`?)"

# -- truncated and malformed inputs of every format: every record decided or
#    rejected (read = decided + rejected), or a clear failure; never a crash
printf 'input c { id : text key  x : int  t : text? }\ndecide d : int { else -> x }\n' > in.strat
accounts() {  # name, file, format, expected exit, expected summary line
  local out; out="$(timeout 60 "$S" eval in.strat --input "$2" --input-format "$3" --threads 2 2>&1 >/dev/null)"; local st=$?
  expect_eq "$1: exit $4" "$st" "$4"
  expect_eq "$1: accounted for" "$(printf '%s\n' "$out" | tail -1)" "$5"
}
printf 'id,x,t\na,1,x\nb,2,"y\nc,3' > cut.csv
accounts "CSV cut inside a quote" cut.csv csv 1 "read 3, decided 1, rejected 2"
printf 'id,x,t\na,1,x\nb,2' > cut2.csv
accounts "CSV cut mid-record" cut2.csv csv 1 "read 2, decided 1, rejected 1"
printf 'id,x,t\na,1,x\nb,"2"x,y\nc,\x00,z\nd,4,\xff\ne,5,"ok"\n' > bad.csv
accounts "CSV malformed fields" bad.csv csv 1 "read 5, decided 2, rejected 3"
printf '{"id":"a","x":1}\n{"id":"b","x":2\n{"id":"c","x":3}\n{"id":"d","x":' > cut.jsonl
accounts "JSON Lines cut and malformed" cut.jsonl jsonl 1 "read 4, decided 2, rejected 2"
printf '{"id":"a","x":1}\n[1,2]\n{"id":"b","x":1,"x":2}\n{"id":"c","x":{"y":1}}\n' > bad.jsonl
accounts "JSON Lines not objects, duplicate keys, nested values" bad.jsonl jsonl 1 "read 4, decided 1, rejected 3"
printf -- '- {id: a, x: 1}\n- {id: b, x: 2' > cut.yaml
timeout 60 "$S" eval in.strat --input cut.yaml 2>err >/dev/null; expect_eq "YAML cut: exit 2" "$?" 2
expect_eq "YAML cut: where" "$(head -1 err | cut -d: -f1-3)" "stratum eval: cut.yaml:2"
printf -- '- {id: a, x: 1}\n---\n- {id: b, x: 2}\n---\n- {id: c, x: z}\n' > docs.yaml
accounts "YAML several documents" docs.yaml yaml 1 "read 3, decided 2, rejected 1"
printf '' > empty.csv
timeout 60 "$S" eval in.strat --input empty.csv 2>err >/dev/null; expect_eq "empty CSV: exit 1" "$?" 1
expect_eq "empty CSV: message" "$(head -1 err)" "stratum eval: empty.csv: the input is empty: expected a header row"

# -- rule folders: a problem of an imported file is reported once, at its own file
mkdir rules-copy; cp -r "$SRC/rules/." rules-copy/
sed -i '0,/>= 1000 /s/>= 1000 /> 1000万 /' rules-copy/sme_size.strat
"$S" check rules-copy 2>err; expect_eq "bad edit in an imported file: exit 1" "$?" 1
expect_eq "bad edit in an imported file: reported once" "$(grep -c 'error:' err)" 1
expect_eq "bad edit in an imported file: at its own file" "$(grep 'error:' err | cut -d: -f1)" "rules-copy/sme_size.strat"
expect_eq "bad edit in an imported file: counted once" "$(tail -1 err | sed 's/.*: \([0-9]*\) error.*/\1/')" 1

# -- a FIFO named as reference data is refused without opening it (which would hang)
mkdir fifo-rules; mkfifo fifo-rules/data.csv
printf 'input c { id : text key }\nlet s = load "data.csv" column x\ndecide d : bool { when "a" in s -> true  else -> false }\n' > fifo-rules/r.strat
timeout 20 "$S" check fifo-rules/r.strat 2>err; expect_eq "FIFO as reference data: exit 1" "$?" 1
expect_eq "FIFO as reference data: message" "$(head -1 err)" "fifo-rules/r.strat:2:9: error: reference data \`data.csv\` is a FIFO (named pipe): name a file [file-not-found]"

# -- signals mid-run: no temporary file left, an existing output untouched
seq 1 3000000 | awk 'BEGIN { print "id,industry,employees,revenue" } { print "C" $1 ",工业," ($1 % 2000) "," ($1 * 7) }' > big.csv
for sig in TERM INT; do
  for threads in 1 2; do
    echo "earlier result" > out.csv
    "$S" eval "$R.strat" --input big.csv --format csv --output out.csv --errors err.jsonl --threads $threads 2>/dev/null &
    p=$!
    for _ in $(seq 1 100); do ls out.csv.tmp-* >/dev/null 2>&1 && break; sleep 0.05; done
    sleep 0.3
    kill -$sig $p; wait $p; status=$?
    want=$([ $sig = TERM ] && echo 143 || echo 130)
    expect_eq "SIG$sig, $threads thread(s): killed by the signal" "$status" "$want"
    expect_eq "SIG$sig, $threads thread(s): no temporary file left" "$(ls | grep -c tmp-)" 0
    expect_eq "SIG$sig, $threads thread(s): the earlier output untouched" "$(cat out.csv)" "earlier result"
    expect_eq "SIG$sig, $threads thread(s): no errors file made" "$(ls err.jsonl 2>/dev/null)" ""
  done
done

# -- a disk full in the middle of a long run (the blocks are written by the
#    workers on several threads): one message, no temporary file left
seq 1 300000 | awk 'BEGIN { print "id,industry,employees,revenue" } { print "C" $1 ",批发业," ($1 % 2000) "," ($1 * 7) }' > decided.csv
for threads in 1 2 3; do
  timeout 120 "$S" eval "$R.strat" --input decided.csv --format csv --threads $threads >/dev/full 2>err; status=$?
  expect_eq "stdout /dev/full mid-run, $threads thread(s): exit 2" "$status" 2
  expect_eq "stdout /dev/full mid-run, $threads thread(s): one message" "$(cat err)" "stratum eval: cannot write standard output: No space left on device"
done

echo "$pass passed, $fail failed"
[ $fail = 0 ]
