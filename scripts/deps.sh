#!/usr/bin/env bash
# Installs what noom needs on a Debian bookworm machine, idempotently.
#   scripts/deps.sh build   packages to build the library, app and examples
#   scripts/deps.sh test    build + what the test suites need (Debian and local npm packages)
#   scripts/deps.sh deb     build + what `make deb` needs (dpkg-shlibdeps)
#   scripts/deps.sh docs    doxygen, for `make docs` only
# Already-installed packages are skipped, so a second call is quick and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(pkg-config cmake ninja-build gcc make libuv1-dev node-llhttp
  libjansson-dev libssl-dev openssl zlib1g-dev libhiredis-dev libmsgpack-dev libsqlite3-dev libpq-dev libcrypt-dev
  libsrtp2-dev)
TEST_PKGS=(libcmocka-dev python3-socketio python3-msgpack python3-requests python3-websocket python3-aiohttp python3-prometheus-client
  clang libclang-rt-14-dev chromium stun-client iproute2 redis-server nginx dpkg-dev postgresql)
DEB_PKGS=(dpkg-dev)
DOCS_PKGS=(doxygen)

want=("${BUILD_PKGS[@]}")
case "${1:-build}" in
  test) want+=("${TEST_PKGS[@]}") ;;
  deb) want+=("${DEB_PKGS[@]}") ;;
  docs) want=("${DOCS_PKGS[@]}") ;;
esac
[ "${1:-build}" = docs ] || command -v node >/dev/null 2>&1 || want+=(nodejs npm)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "deps: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: Debian packages present"
fi

if [ "${1:-build}" = test ]; then
  # npm packages go into tests/node_modules (never global), pinned by the lockfile.
  stamp=tests/node_modules/.noom-lock
  if [ ! -f "$stamp" ] || ! cmp -s tests/package-lock.json "$stamp"; then
    echo "deps: installing npm packages into tests/node_modules"
    (cd tests && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/package-lock.json "$stamp"
  else
    echo "deps: npm packages present"
  fi
fi
