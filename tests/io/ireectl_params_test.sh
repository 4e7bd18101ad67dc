#!/usr/bin/env bash
# `ireectl params list/create` and `ireectl run --local --parameters` end to
# end: listings of the conformance archives (HAL spec 3.5), one-line errors
# for bad files and flags, create -> list round trips, a rebuilt
# irpa_mixed.irpa identical to the real one, and the v3.11 scale module fed
# from IRPA, GGUF-less safetensors and created archives on both CPU devices.
# Without the shared corpus only the corpus-free checks run (exit 77 after).
# usage: ireectl_params_test.sh PATH/TO/ireectl
set -u
ireectl=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect NAME RC TEXT COMMAND...: `ireectl COMMAND` exits with RC and its
# combined output contains TEXT; failures (rc 1) are exactly one line on
# stderr.
expect() {
  local name=$1 rc=$2 text=$3
  shift 3
  "$ireectl" "$@" >"$scratch/out" 2>"$scratch/err"
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

# Prints the bytes given as hex pairs.
hex() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")"; }

# Usage and flag errors.
expect no_subcommand 2 "expected 'list' or 'create'" params
expect list_no_file 2 "list needs a file" params list
expect help 0 "usage: ireectl params list" params --help
expect create_no_output 2 "create needs --output" params create --splat=a=4x00
expect create_bad_flag 2 "unknown flag '--size=3'" params create --size=3
expect create_bad_splat 1 "expected SIZExPATTERN" \
  params create --output="$scratch/x.irpa" --splat=a=4x0
expect create_splat_3 1 "a splat needs a 1, 2, 4, 8 or 16-byte pattern" \
  params create --output="$scratch/x.irpa" --splat=a=6x00000000
expect create_duplicate 1 "key 'a' is given twice" \
  params create --output="$scratch/x.irpa" --splat=a=4x00 --data=a=zz
expect create_orphan_metadata 1 "no --data or --splat entry 'b'" \
  params create --output="$scratch/x.irpa" --splat=a=4x00 --metadata=b=m
expect create_missing_data 1 "cannot open '$scratch/none.bin'" \
  params create --output="$scratch/x.irpa" --data=a=@"$scratch/none.bin"
[ -e "$scratch/x.irpa" ] && fail "a failed create left $scratch/x.irpa"
[ -e "$scratch/x.irpa.partial" ] && fail "a failed create left a partial file"

# Bad files: one line naming the file and the field.
expect list_missing 1 "cannot open '$scratch/none.irpa'" \
  params list "$scratch/none.irpa"
expect list_format 1 "unsupported file format" params list "$scratch/a.npy"
printf 'IRPA' >"$scratch/short.irpa"
expect list_short 1 "'$scratch/short.irpa': file of 4 bytes is shorter" \
  params list "$scratch/short.irpa"
printf '\x1f\0\0\0\0\0\0\0{"t": {"data_offsets": [0, 4]}}' \
  >"$scratch/t.safetensors"
expect list_safetensors_data 1 "tensor 't': data_offsets [0, 4]" \
  params list "$scratch/t.safetensors"

# create -> list.
printf 'hello' >"$scratch/hello.bin"
expect create 0 "" params create --output="$scratch/c.irpa" \
  --data=greeting=@"$scratch/hello.bin" --metadata=greeting='PYTORCH:{}' \
  --splat=ones=64x0000803f --data=inline=xyz
[ $(($(stat -c %s "$scratch/c.irpa") % 4096)) -eq 0 ] ||
  fail "created archive is not padded to 4096 bytes"
expect list_created 0 "'m'    greeting     384           5  data, metadata 10 bytes: PYTORCH:{}" \
  params list m="$scratch/c.irpa"
expect list_created_splat 0 "ones           -          64  splat 00 00 80 3f" \
  params list m="$scratch/c.irpa"
expect list_created_inline 0 "inline       448           3  data" \
  params list m="$scratch/c.irpa"
expect list_shadowed 0 "(shadowed by an earlier entry)" \
  params list "$scratch/c.irpa" "$scratch/c.irpa"

corpus=${IREED_SHARED_DIR:-}/conformance
if [ ! -f "$corpus/params/irpa_mixed.irpa" ]; then
  echo "skipping the corpus checks: no conformance corpus at '$corpus'" \
    "(set IREED_SHARED_DIR)"
  [ $failures -eq 0 ] && exit 77
  exit 1
fi
params=$corpus/params

# Spec 3.5 listings.
expect irpa_single 0 "key0     192          16  data" \
  params list "$params/irpa_single.irpa"
expect irpa_mixed_key3 0 "key3       -    33554432  splat ff ff ff ff ff ff ff 7f" \
  params list "$params/irpa_mixed.irpa"
expect irpa_mixed_key2 0 "key2       -           1  splat 66" \
  params list "$params/irpa_mixed.irpa"
expect irpa_empty 0 "irpa, 4096 bytes, 0 entries" \
  params list "$params/irpa_empty.irpa"
expect turbine 0 "metadata 181 bytes: PYTORCH:{\"type\": \"Tensor\"" \
  params list "$params/tensor_saved_with_iree_turbine.irpa"
expect gguf 0 "tensor2     576          48  data" \
  params list "$params/gguf_multiple.gguf"
expect gguf_v2 0 "tensor0     384          16  data" \
  params list "$params/gguf_single_v2.gguf"
expect safetensors 0 "weight     256        2400  data" \
  params list "$params/parameter_weight_bias_1.safetensors"
expect scoped 0 "'bias'  b1      192         128  data" \
  params list a="$params/parameters_a.safetensors" \
  bias="$params/parameters_b.safetensors"
head -c 500 "$params/irpa_mixed.irpa" >"$scratch/cut.irpa"
expect truncated 1 "'$scratch/cut.irpa': irpa header at 0: storage segment [512, +69) exceeds the 500-byte file" \
  params list "$scratch/cut.irpa"

# irpa_mixed.irpa rebuilt with `create` is byte-identical.
hex 3333c8423333c8423333c8423333c842 >"$scratch/key0.bin"
expect create_mixed 0 "" params create --output="$scratch/mixed.irpa" \
  --splat=key2=1x66 --splat=key3=33554432xffffffffffffff7f \
  --data=key0=@"$scratch/key0.bin" --data=key1=eeeee
cmp -s "$scratch/mixed.irpa" "$params/irpa_mixed.irpa" ||
  fail "created mixed.irpa differs from conformance/params/irpa_mixed.irpa"

# The scale module (input * weight, weight from scope "model").
scale=(run --local --module="$corpus/v3.11/scale.vmfb" --function=scale
       --input=4xf32=1,2,3,4)
hex 0000803f000000400000404000008040 >"$scratch/weight.bin"  # 1 2 3 4
expect create_weight 0 "" params create --output="$scratch/w.irpa" \
  --data=weight=@"$scratch/weight.bin"
expect create_short_weight 0 "" params create \
  --output="$scratch/short_w.irpa" --data=weight=hello
json='{"weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
{ hex "$(printf '%02x' ${#json})00000000000000"; printf '%s' "$json";
  cat "$scratch/weight.bin"; } >"$scratch/w.safetensors"
for device in local-sync local-task; do
  expect "scale_splat_$device" 0 "4xf32=2 4 6 8" "${scale[@]}" \
    --device=$device --parameters=model="$corpus/v3.11/scale_weights.irpa"
  expect "scale_data_$device" 0 "4xf32=0 0 0 0" "${scale[@]}" \
    --device=$device --parameters=model="$corpus/v3.11/scale_weights_zero.irpa"
  expect "scale_created_$device" 0 "4xf32=1 4 9 16" "${scale[@]}" \
    --device=$device --parameters=model="$scratch/w.irpa"
  # Payload at offset 8 + 61: not aligned, so copied instead of imported.
  expect "scale_safetensors_$device" 0 "4xf32=1 4 9 16" "${scale[@]}" \
    --device=$device --parameters=model="$scratch/w.safetensors"
  # The first archive giving a key wins.
  expect "scale_first_wins_$device" 0 "4xf32=2 4 6 8" "${scale[@]}" \
    --device=$device --parameters=model="$corpus/v3.11/scale_weights.irpa" \
    --parameters=model="$scratch/w.irpa"
  expect "scale_missing_$device" 1 \
    "NOT_FOUND: no provider registered that handles scope 'model'" \
    "${scale[@]}" --device=$device
  expect "scale_other_scope_$device" 1 \
    "no provider registered that handles scope 'model'" "${scale[@]}" \
    --device=$device --parameters="$corpus/v3.11/scale_weights.irpa"
  expect "scale_missing_key_$device" 1 \
    "parameter 'weight' not found in scope 'model'" "${scale[@]}" \
    --device=$device --parameters=model="$params/irpa_single.irpa"
  expect "scale_short_param_$device" 1 \
    "OUT_OF_RANGE: span [0, +16) exceeds the 5-byte parameter" \
    "${scale[@]}" --device=$device --parameters=model="$scratch/short_w.irpa"
done
expect scale_bad_archive 1 "--parameters=model=$scratch/cut.irpa" \
  "${scale[@]}" --parameters=model="$scratch/cut.irpa"

[ $failures -eq 0 ] || exit 1
echo "all ireectl params checks passed"
