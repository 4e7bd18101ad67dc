# Shared by scripts/demo, scripts/test and scripts/bench: installs what is
# missing, then configures and builds a meson build directory.
# Source it; it defines functions only.

IREED_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build and the test suite need.
IREED_PACKAGES=(
  meson ninja-build pkg-config gcc libc6-dev python3
  libuv1-dev libprotobuf-c-dev protobuf-c-compiler libyaml-dev libcmocka-dev
  libvulkan-dev mesa-vulkan-drivers glslang-tools libsystemd-dev
  systemd  # systemd-analyze and systemd-socket-activate for tests/systemd
)

ireed_log() { printf '== %s\n' "$*" >&2; }
ireed_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the missing packages among "$@" with apt-get when running as root;
# otherwise names them and fails.
ireed_install_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    ireed_die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  fi
  ireed_log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || ireed_die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
    ireed_die "apt-get install failed for: ${missing[*]}"
}

# ireed_build DIR [MESON_OPTIONS...]: configures DIR (reconfiguring when it
# exists) and builds it.
ireed_build() {
  local dir=$1; shift
  cd "$IREED_ROOT" || ireed_die "cannot enter $IREED_ROOT"
  if [ -f "$dir/build.ninja" ]; then
    ireed_log "reconfiguring $dir"
    meson setup --reconfigure "$dir" "$@" >&2 || ireed_die "meson setup failed"
  else
    ireed_log "configuring $dir"
    rm -rf "$dir"
    meson setup "$dir" "$@" >&2 || ireed_die "meson setup failed"
  fi
  ireed_log "building $dir"
  ninja -C "$dir" >&2 || ireed_die "build failed"
}

# ireed_start_daemon DIR SOCKET [IREED_OPTIONS...]: starts DIR/daemon/ireed
# on SOCKET in the background and waits (up to 20 s) until it listens.
# Sets IREED_DAEMON_PID; stop it with ireed_stop_daemon.
ireed_start_daemon() {
  local dir=$1 socket=$2; shift 2
  rm -f "$socket"
  "$IREED_ROOT/$dir/daemon/ireed" --socket="$socket" "$@" &
  IREED_DAEMON_PID=$!
  local tries=0
  until [ -S "$socket" ]; do
    if ! kill -0 "$IREED_DAEMON_PID" 2>/dev/null || [ $tries -ge 200 ]; then
      ireed_stop_daemon
      return 1
    fi
    sleep 0.1
    tries=$((tries + 1))
  done
}

# Stops the daemon ireed_start_daemon started (SIGTERM: a clean shutdown)
# and waits for it; returns its exit status.
ireed_stop_daemon() {
  [ -n "${IREED_DAEMON_PID:-}" ] || return 0
  kill -TERM "$IREED_DAEMON_PID" 2>/dev/null
  wait "$IREED_DAEMON_PID"
  local rc=$?
  IREED_DAEMON_PID=
  return $rc
}
