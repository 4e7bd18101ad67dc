#!/bin/sh
# Socket activation with systemd's own tool: systemd-socket-activate
# listens, starts ireed on the first connection and passes it the socket;
# ireectl then runs the sample model the config preloads. Skips (77)
# without systemd-socket-activate.
#   socket_activate.sh IREED IREECTL CONFIG
set -u
ireed=$1 ireectl=$2 config=$3
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
  echo "systemd-socket-activate is not installed: skipping"
  exit 77
fi
dir=$(mktemp -d /tmp/ireed-activate.XXXXXX) || exit 1
socket=$dir/ireed.sock
systemd-socket-activate -l "$socket" "$ireed" --config="$config" \
  --log-level=warning 2>"$dir/ireed.log" &
pid=$!
fail() {
  echo "$1"
  cat "$dir/ireed.log"
  kill -KILL $pid 2>/dev/null
  rm -rf "$dir"
  exit 1
}
tries=0
until [ -S "$socket" ]; do
  tries=$((tries + 1))
  [ $tries -le 200 ] || fail "systemd-socket-activate did not listen on $socket"
  sleep 0.1
done
output=$("$ireectl" --socket "$socket" run sample --function=simple_mul \
  --input=4xf32=1,2,3,4 --input=4xf32=10,20,30,40 2>&1) ||
  fail "ireectl run failed: $output"
printf '%s\n' "$output"
printf '%s\n' "$output" | grep -q '^4xf32=10 40 90 160$' ||
  fail "unexpected result"
kill -TERM $pid
wait $pid
status=$?
[ $status -eq 0 ] || fail "ireed exited with status $status"
rm -rf "$dir"
echo "socket activation: ok"
