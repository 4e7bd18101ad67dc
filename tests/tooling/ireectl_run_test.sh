#!/usr/bin/env bash
# `ireectl run --local` end to end: usage and setup errors (one message,
# exit 1 or 2, never a signal), result printing, --output files and .npy /
# raw inputs fed back in, both local devices. The module runs need the shared
# conformance corpus; without it they are skipped (exit 77 after the rest).
# usage: ireectl_run_test.sh PATH/TO/ireectl
set -u
ireectl=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect NAME RC TEXT ARGS...: `ireectl run ARGS` exits with RC and its
# combined output contains TEXT; errors are exactly one line on stderr.
expect() {
  local name=$1 rc=$2 text=$3
  shift 3
  "$ireectl" run "$@" >"$scratch/out" 2>"$scratch/err"
  local got=$?
  local all
  all=$(cat "$scratch/out" "$scratch/err")
  if [ "$got" -ne "$rc" ]; then
    fail "$name: exit $got, expected $rc: $all"
  elif ! grep -qF -- "$text" <<<"$all"; then
    fail "$name: output lacks '$text': $all"
  elif [ "$rc" -eq 1 ] && [ "$(wc -l <"$scratch/err")" -ne 1 ]; then
    fail "$name: expected one error line: $(cat "$scratch/err")"
  fi
}

# expect_stdout NAME EXPECTED ARGS...: exit 0 and exactly EXPECTED on stdout.
expect_stdout() {
  local name=$1 expected=$2
  shift 2
  local got
  got=$("$ireectl" run "$@" 2>&1)
  local rc=$?
  if [ $rc -ne 0 ] || [ "$got" != "$expected" ]; then
    fail "$name: exit $rc, got:"$'\n'"$got"$'\n'"expected:"$'\n'"$expected"
  fi
}

# Usage errors (exit 2) and failures before any module is loaded (exit 1).
expect help 0 "usage: ireectl run --local" --local --help
expect no_args 2 "no --module given" --local
expect no_function 2 "no --function given" --local --module=x.vmfb
expect unknown_flag 2 "unknown flag '--bogus'" --local --bogus
expect stray_argument 2 "unexpected argument 'x'" --local x
expect missing_value 2 "flag '--input' needs a value" --local --input
expect bad_count 2 "--output_max_element_count needs a count" \
  --local --module=m --function=f --output_max_element_count=-1
# Without --local, run goes through the daemon (tests/client cover it).
expect not_local 1 "cannot connect to ireed at '$scratch/none.sock'" \
  --socket "$scratch/none.sock" --module=m --function=f
expect no_module_file 1 "cannot open module '$scratch/none.vmfb'" \
  --local --module="$scratch/none.vmfb" --function=f
: >"$scratch/empty.vmfb"
expect empty_module 1 "is not a non-empty regular file" \
  --local --module="$scratch/empty.vmfb" --function=f
printf 'not a module at all' >"$scratch/junk.vmfb"
expect junk_module 1 "loading module '$scratch/junk.vmfb'" \
  --local --module="$scratch/junk.vmfb" --function=f

corpus=${IREED_SHARED_DIR:-}/conformance/v3.11
if [ ! -f "$corpus/simple_mul.vmfb" ]; then
  echo "skipping the module runs: no conformance corpus at '$corpus'" \
    "(set IREED_SHARED_DIR)"
  [ $failures -eq 0 ] && exit 77
  exit 1
fi
mul=(--local --module="$corpus/simple_mul.vmfb" --function=simple_mul)

expect unknown_device 1 "unknown device 'tpu'" --device=tpu "${mul[@]}"
# Without a GPU (or a build without CUDA) --device=cuda fails plainly.
if "$ireectl" devices 2>/dev/null | grep '^cuda ' | grep -q '(none)'; then
  expect cuda_without_gpu 1 "no CUDA" --device=cuda "${mul[@]}"
fi
expect_stdout simple_mul $'EXEC @simple_mul\nresult[0]: hal.buffer_view\n4xf32=8 8 8 8' \
  "${mul[@]}" --input=4xf32=4 --input=4xf32=2
expect_stdout qualified_name $'EXEC @module.simple_mul\nresult[0]: hal.buffer_view\n4xf32=2.5 5 7.5 10' \
  --local --device=local-task --module="$corpus/simple_mul.vmfb" \
  --function=module.simple_mul --input="4xf32=[1 2 3 4]" --input=4xf32=2.5
expect_stdout output_dash $'EXEC @simple_mul\nhal.buffer_view\n4xf32=8 8 8 8' \
  "${mul[@]}" --input=4xf32=4 --input=4xf32=2 --output=-
expect input_count 1 "--input 2: expected 4 elements for 4xf32 but got 3" \
  "${mul[@]}" --input=4xf32=4 --input=4xf32=1,2,3
expect input_type 1 "--input 1: unknown element type 'q32'" \
  "${mul[@]}" --input=4xq32=4 --input=4xf32=2
expect too_few_inputs 1 "takes 2 arguments (signature 'rr') but the --input flags give 1" \
  "${mul[@]}" --input=4xf32=4
expect wrong_shape 1 "shape mismatch" \
  "${mul[@]}" --input=5xf32=4 --input=4xf32=2
expect no_function 1 "no function 'nope'" \
  --local --module="$corpus/simple_mul.vmfb" --function=nope
expect raw_not_npy 1 "only .npy files" "${mul[@]}" --input=@x.bin --input=4xf32=2

# Truncated printing, on the threaded device.
expect_stdout matmul_truncated $'EXEC @matmul\nresult[0]: hal.buffer_view\n3x2xf32=[50 60][114...][...]' \
  --local --device=local-task --module="$corpus/matmul.vmfb" --function=matmul \
  --input=3x4xf32=1,2,3,4,5,6,7,8,9,10,11,12 --input=4x2xf32=1,2,3,4,5,6,7,8 \
  --output_max_element_count=3

# Results written to .npy (one array each, then appended) and read back.
multi=(--local --module="$corpus/multi_output.vmfb" --function=multi_output
  --input=4xf32=1,2,3,4 --input=4xf32=10,20,30,40)
expect output_count 1 "1 --output flags given but the function returned 2 results" \
  "${multi[@]}" --output=-
expect_stdout discard_first $'EXEC @multi_output\nhal.buffer_view\n4xf32=10 40 90 160' \
  "${multi[@]}" --output= --output=-
expect_stdout write_npy "EXEC @multi_output" \
  "${multi[@]}" --output="@$scratch/m.npy" --output="+$scratch/m.npy"
expect_stdout read_npy_all $'EXEC @add\nresult[0]: hal.buffer_view\n4xf32=21 62 123 204' \
  --local --module="$corpus/add.vmfb" --function=add --input="*$scratch/m.npy"
# '+' on a path not read yet starts at its beginning; '@' rewinds.
expect_stdout read_npy_each $'EXEC @add\nresult[0]: hal.buffer_view\n4xf32=22 44 66 88' \
  --local --module="$corpus/add.vmfb" --function=add \
  --input="+$scratch/m.npy" --input="@$scratch/m.npy"
expect output_dir 1 "--output 1: cannot open '$scratch/no/x.npy' for writing" \
  "${mul[@]}" --input=4xf32=4 --input=4xf32=2 --output="@$scratch/no/x.npy"

# Raw bytes in and out: four little-endian i64 values.
id=(--local --module="$corpus/identity_i64.vmfb" --function=identity_i64)
expect_stdout write_bin "EXEC @identity_i64" \
  "${id[@]}" --input=4xi64=1,-42,9223372036854775807,-9223372036854775808 \
  --output="@$scratch/i.bin"
[ "$(stat -c %s "$scratch/i.bin")" = 32 ] || fail "i.bin is not 32 bytes"
expect_stdout read_bin $'EXEC @identity_i64\nresult[0]: hal.buffer_view\n4xi64=1 -42 9223372036854775807 -9223372036854775808' \
  "${id[@]}" --input="4xi64=@$scratch/i.bin"
expect read_bin_short 1 "but the tensor needs 40" \
  "${id[@]}" --input="5xi64=@$scratch/i.bin"

[ $failures -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
