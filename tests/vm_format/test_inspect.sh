#!/usr/bin/env bash
# `ireectl inspect` over every file of the conformance corpus: each is either
# inspected (exit 0, nothing on stderr) or rejected with exit 1 and exactly
# one line "ireectl: PATH: reason". Usage: test_inspect.sh PATH/TO/ireectl
set -uo pipefail
ireectl=$1
corpus=${IREED_SHARED_DIR:-}/conformance
if [ -z "${IREED_SHARED_DIR:-}" ] || [ ! -d "$corpus" ]; then
  echo "skipping: the conformance corpus is absent (\$IREED_SHARED_DIR is '${IREED_SHARED_DIR:-}')"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

while IFS= read -r -d '' file; do
  for mode in "" --disassemble; do
    "$ireectl" inspect $mode "$file" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    case $rc in
      0)
        [ -s "$tmp/err" ] && fail "$file $mode: exit 0 with stderr: $(cat "$tmp/err")"
        grep -q '^module: ' "$tmp/out" || fail "$file $mode: no module line"
        ;;
      1)
        lines=$(wc -l <"$tmp/err")
        [ "$lines" -eq 1 ] || fail "$file $mode: $lines error lines"
        grep -q "^ireectl: $file: ." "$tmp/err" || fail "$file $mode: bad error: $(cat "$tmp/err")"
        ;;
      *) fail "$file $mode: exit status $rc" ;;
    esac
  done
done < <(find "$corpus" -type f -print0 | sort -z)

expect_out() {  # FILE PATTERN: inspect output must match PATTERN
  "$ireectl" inspect "$corpus/$1" >"$tmp/out" 2>&1
  grep -qE -- "$2" "$tmp/out" || fail "$1: output lacks /$2/"
}
expect_err() {  # FILE PATTERN: inspect must fail with PATTERN
  "$ireectl" inspect "$corpus/$1" >"$tmp/out" 2>&1 && fail "$1: accepted"
  grep -qE -- "$2" "$tmp/out" || fail "$1: error lacks /$2/: $(cat "$tmp/out")"
}
expect_out v3.11/simple_mul.vmfb '^  \[0\] simple_mul -> internal 1  0rr_r$'
expect_out v3.11/simple_mul.vmfb '^  \[1\] __init -> internal 2  0v_v$'
expect_out v3.11/simple_mul.vmfb '^  \[16\] hal\.fence\.await  0iICrD_i$'
expect_out v3.11/simple_mul.vmfb 'iree\.abi\.declaration = sync func @simple_mul'
expect_out v3.11/simple_mul.vmfb '^executable formats: +embedded-elf-x86_64$'
expect_out v3.11/simple_mul.vmfb '^  hal >= 6, required$'
expect_out v3.11/simple_mul.vmfb 'external at file offset .* ELF 64-bit LSB x86-64 shared object'
expect_out v3.11/identity_i64.vmfb '^debug database: +1 locations, 1 function source maps: identity_i64'
expect_out negative/simple_mul_static_format.vmfb '^executable formats: +static$'
expect_out negative/simple_mul_arm32.vmfb 'ELF 32-bit LSB ARM'
expect_out negative/matmul_aarch64.vmfb 'embedded-elf-arm_64'
expect_err negative/simple_mul_bytecode16.vmfb 'bytecode version 16\.0 is not supported \(expected 17\.0\)'
expect_err negative/bytecode13_custom_format.vmfb 'bytecode version 13\.0 is not supported \(expected 17\.0\)'
expect_err params/irpa_single.irpa 'not a VM bytecode module'

"$ireectl" inspect --disassemble "$corpus/v3.11/simple_mul_elodin.vmfb" >"$tmp/out" 2>&1
grep -qF '  006F  vm.call.variadic @hal.buffer_view.assert(%r0, %R5, %i2, %i1, [%i6:7])' "$tmp/out" ||
  fail "disassembly lacks the spec 10.2 call"

"$ireectl" inspect >/dev/null 2>&1; [ $? -eq 2 ] || fail "no path: not a usage error"
"$ireectl" inspect --bogus x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad option: not a usage error"
"$ireectl" inspect "$tmp/missing.vmfb" 2>"$tmp/err"; [ $? -eq 1 ] || fail "missing file accepted"
grep -q "^ireectl: $tmp/missing.vmfb: No such file or directory$" "$tmp/err" || fail "missing file: $(cat "$tmp/err")"

[ $failures -eq 0 ] || { echo "$failures failures"; exit 1; }
echo "ok"
