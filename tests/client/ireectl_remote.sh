#!/usr/bin/env bash
# ireectl's daemon commands end to end against a real ireed and the bundled
# sample model: `run` through the daemon prints exactly what `run --local`
# prints (results, --output files, errors), load/ps/unload, --socket and
# $IREED_SOCKET, one-line errors with exit status 1.
#
# usage: ireectl_remote.sh IREED IREECTL SAMPLE.vmfb
set -u
ireed=$1 ireectl=$2 sample=$(realpath "$3")
dir=$(mktemp -d)
socket=$dir/ireed.sock
"$ireed" --socket="$socket" --log-level=error 2>"$dir/ireed.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; rm -rf "$dir"' EXIT
for _ in $(seq 200); do [ -S "$socket" ] && break; sleep 0.1; done

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
ctl() { "$ireectl" --socket "$socket" "$@"; }

# run: identical output, through the daemon and in process.
same_as_local() {
  local local_out remote_out local_rc remote_rc
  local_out=$("$ireectl" run --local --device=local-task --module="$sample" \
    --function=simple_mul "$@" 2>&1)
  local_rc=$?
  remote_out=$(ctl run --module="$sample" --function=simple_mul "$@" 2>&1)
  remote_rc=$?
  if [ "$local_out" != "$remote_out" ] || [ $local_rc -ne $remote_rc ]; then
    fail "run $* differs:"
    echo "  local ($local_rc):  $local_out"
    echo "  daemon ($remote_rc): $remote_out"
  fi
}
same_as_local --input=4xf32=1,2,3,4 --input=4xf32=10,20,30,40
same_as_local --input=6xf32=1.5 --input=6xf32=-2 --output_max_element_count=3
same_as_local --input=100000xf32=3 --input=100000xf32=2 \
  --output_max_element_count=4  # 400 KB inputs travel in shared memory
same_as_local --input=0xf32 --input=0xf32
same_as_local --input=4xf32=1 --input=3xf32=2   # the module's shape assert
same_as_local --input=4xf32=1                   # argument count
same_as_local --input=4xf32=1 --input=4xf32=2 --output=- --output=-

# --output files and .npy inputs: byte-identical files.
"$ireectl" run --local --module="$sample" --function=simple_mul \
  --input=3xf32=1,2,3 --input=3xf32=4 --output=@"$dir/a.npy" >/dev/null ||
  fail "writing a.npy"
"$ireectl" run --local --module="$sample" --function=simple_mul \
  --input=@"$dir/a.npy" --input=3xf32=2 --output=@"$dir/local.npy" >/dev/null
ctl run --module="$sample" --function=simple_mul \
  --input=@"$dir/a.npy" --input=3xf32=2 --output=@"$dir/remote.npy" >/dev/null
cmp -s "$dir/local.npy" "$dir/remote.npy" || fail "--output=@x.npy differs"
for _ in 1 2; do
  "$ireectl" run --local --module="$sample" --function=simple_mul \
    --input=@"$dir/a.npy" --input=3xf32=2 --output=+"$dir/local.bin" >/dev/null
done
ctl run --module="$sample" --function=simple_mul --input=@"$dir/a.npy" \
  --input=3xf32=2 --output=+"$dir/remote.bin" >/dev/null
ctl run --module="$sample" --function=simple_mul --input=@"$dir/a.npy" \
  --input=3xf32=2 --output=+"$dir/remote.bin" >/dev/null
cmp -s "$dir/local.bin" "$dir/remote.bin" || fail "--output=+x.bin differs"
[ "$(stat -c %s "$dir/remote.bin")" -eq 24 ] || fail "+x.bin did not append"

# load, ps, run NAME, unload.
ctl load sample --module="$sample" --device=local-sync >"$dir/load.txt" ||
  fail "load"
grep -q "loaded sample on local-sync (1 function)" "$dir/load.txt" ||
  fail "load output: $(cat "$dir/load.txt")"
out=$(IREED_SOCKET=$socket "$ireectl" run sample --function=simple_mul \
  --input=2xf32=3,4 --input=2xf32=5 2>&1)
[ "$out" = $'EXEC @simple_mul\nresult[0]: hal.buffer_view\n2xf32=15 20' ] ||
  fail "run sample through \$IREED_SOCKET: $out"
out=$(ctl ps -v)
grep -q "^sample  *local-sync  *1  *0  *$sample" <<<"$out" ||
  fail "ps: $out"
grep -q "simple_mul  *0rr_r  sync func @simple_mul" <<<"$out" ||
  fail "ps -v: $out"
ctl status | grep -q "^models:  1$" || fail "status"

# stats: a table; metrics: Prometheus text (format 0.0.4).
out=$(ctl stats)
grep -q "^sample  *local-sync  *1  *0  *0  *0  " <<<"$out" || fail "stats: $out"
grep -q "^local-sync  " <<<"$out" || fail "stats devices: $out"
out=$(ctl metrics)
grep -q '^ireed_invocations_total{model="sample",device="local-sync"} 1$' \
  <<<"$out" || fail "metrics invocations: $out"
grep -q '^# TYPE ireed_execute_seconds summary$' <<<"$out" ||
  fail "metrics summary type: $out"
grep -Eq '^ireed_execute_seconds\{model="sample",device="local-sync",quantile="0.99"\} [0-9.e+-]+$' \
  <<<"$out" || fail "metrics quantile: $out"
grep -Eq '^ireed_execute_seconds_count\{model="sample",device="local-sync"\} 1$' \
  <<<"$out" || fail "metrics count: $out"
grep -Eq '^ireed_device_memory_bytes\{device="local-sync"\} [0-9]+$' \
  <<<"$out" || fail "metrics device memory: $out"
# Every sample belongs to a family announced by HELP and TYPE lines.
while read -r name; do
  grep -q "^# TYPE ${name%_sum} \|^# TYPE ${name%_count} \|^# TYPE $name " \
    <<<"$out" || fail "metric $name has no TYPE line"
done < <(grep -v '^#' <<<"$out" | sed 's/[{ ].*//' | sort -u)
out=$(ctl load sample --module="$sample" 2>&1)
[ $? -eq 1 ] && [ "$(wc -l <<<"$out")" -eq 1 ] &&
  grep -q "^ireectl load: ALREADY_EXISTS: " <<<"$out" ||
  fail "loading twice: $out"
ctl unload sample >/dev/null || fail "unload"
out=$(ctl run sample --function=simple_mul 2>&1)
[ $? -eq 1 ] && grep -q "^ireectl run: NOT_FOUND: ireed has no model named 'sample'" <<<"$out" ||
  fail "run after unload: $out"
[ -z "$(ctl ps | tail -n +2)" ] || fail "ps after unload: $(ctl ps)"

# Errors: one line, exit status 1; usage errors exit with 2.
out=$("$ireectl" --socket "$dir/none.sock" status 2>&1)
[ $? -eq 1 ] && [ "$(wc -l <<<"$out")" -eq 1 ] &&
  grep -q "^ireectl status: UNAVAILABLE: cannot connect to ireed at '$dir/none.sock'" <<<"$out" ||
  fail "no daemon: $out"
out=$(ctl run --module="$dir/missing.vmfb" --function=f 2>&1)
[ $? -eq 1 ] && [ "$(wc -l <<<"$out")" -eq 1 ] &&
  grep -q "^ireectl run: NOT_FOUND: cannot open module '$dir/missing.vmfb'" <<<"$out" ||
  fail "missing module: $out"
ctl run --function=f >/dev/null 2>&1
[ $? -eq 2 ] || fail "run without a model is a usage error"
ctl unload >/dev/null 2>&1
[ $? -eq 2 ] || fail "unload without a name is a usage error"

if [ $failures -ne 0 ]; then
  echo "ireed log:"; cat "$dir/ireed.log"
  exit 1
fi
echo "ireectl remote: all checks passed"
