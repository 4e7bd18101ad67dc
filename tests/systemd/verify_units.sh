#!/bin/sh
# `systemd-analyze verify` on ireed's units: the service as installed but
# running the build tree's ireed (ExecStart must exist), and the socket.
# Skips (77) without systemd-analyze.
#   verify_units.sh SERVICE SOCKET
set -u
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze is not installed: skipping"
  exit 77
fi
output=$(systemd-analyze verify "$1" "$2" 2>&1)
status=$?
[ -n "$output" ] && printf '%s\n' "$output"
if [ $status -ne 0 ]; then
  echo "systemd-analyze verify failed ($status)"
  exit 1
fi
# Warnings about our units fail the test too (not those about others).
if printf '%s\n' "$output" | grep -q 'ireed'; then
  echo "systemd-analyze verify warned about the units"
  exit 1
fi
echo "units verified: $1 $2"
