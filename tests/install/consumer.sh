#!/usr/bin/env bash
# Out-of-tree consumer test (ctest install_consumer): installs the build into a temp
# prefix, then builds examples/hello.c against it four ways and drives each binary with
# socket.io-client (tests/install/hello-client.mjs):
#   1. pkg-config noomsio          shared: NEEDED libnoomsio.so.0, found through the rpath
#   2. pkg-config noomsio-static   static: no libnoomsio.so in NEEDED
#   3. CMake find_package(noomsio) noomsio::noomsio and noomsio::noomsio_static
#   4. CMake add_subdirectory(<source tree>) with the same two targets
# Usage: consumer.sh BUILD_DIR SOURCE_DIR. The temp dir goes away on every exit.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/noomsio-consumer.XXXXXX")
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
cc=${CC:-cc}
step() { echo "consumer: $*"; }

# Starts a hello binary on a free port, drives it, stops it.
drive() {
  local bin=$1 port=""
  "$bin" 0 >"$tmp/out" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/out")
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$tmp/out"; echo "consumer: $bin exited"; return 1; }
    sleep 0.05
  done
  [ -n "$port" ] || { echo "consumer: $bin did not start"; return 1; }
  node "$src/tests/install/hello-client.mjs" "http://127.0.0.1:$port"
  kill "$server"; wait "$server" 2>/dev/null || true
  server=
}

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

step "README's \"Use the library\" shows examples/hello.c as it is"
diff <(awk '/^## Use the library/{f=1} f&&/^```c$/{c=1;next} c&&/^```$/{exit} c' "$src/README.md") \
  <(sed -n '/^#include <sio.h>/,$p' "$src/examples/hello.c") || { echo "consumer: README and examples/hello.c differ"; exit 1; }

step "install into a temp prefix"
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pcdir=$(dirname "$(find "$tmp/prefix" -name noomsio.pc)")
libdir=$(dirname "$pcdir")
export PKG_CONFIG_PATH="$pcdir"

step "pkg-config, shared: $(pkg-config --libs noomsio)"
# shellcheck disable=SC2046
$cc -Wall -Werror -o "$tmp/hello-pc" "$src/examples/hello.c" $(pkg-config --cflags --libs noomsio) -Wl,-rpath,"$libdir"
needed "$tmp/hello-pc" | grep -qx 'libnoomsio.so.0' || { echo "consumer: hello-pc does not need libnoomsio.so.0"; exit 1; }
drive "$tmp/hello-pc"

step "pkg-config, static: $(pkg-config --libs noomsio-static)"
# shellcheck disable=SC2046
$cc -Wall -Werror -o "$tmp/hello-pc-static" "$src/examples/hello.c" $(pkg-config --cflags --libs noomsio-static)
if needed "$tmp/hello-pc-static" | grep -q '^libnoomsio'; then echo "consumer: static build needs libnoomsio.so"; exit 1; fi
drive "$tmp/hello-pc-static"

for how in find_package add_subdirectory; do
  step "CMake $how"
  args=(-DHELLO_SOURCE="$src/examples/hello.c" -DCMAKE_BUILD_TYPE=Release)
  if [ "$how" = find_package ]; then args+=(-DCMAKE_PREFIX_PATH="$tmp/prefix"); else args+=(-DNOOMSIO_SOURCE="$src"); fi
  cmake -S "$src/tests/install/consumer" -B "$tmp/$how" -G Ninja "${args[@]}" >/dev/null
  cmake --build "$tmp/$how" >/dev/null
  needed "$tmp/$how/hello" | grep -qx 'libnoomsio.so.0' || { echo "consumer: $how hello does not need libnoomsio.so.0"; exit 1; }
  if needed "$tmp/$how/hello_static" | grep -q '^libnoomsio'; then echo "consumer: $how hello_static needs libnoomsio.so"; exit 1; fi
  drive "$tmp/$how/hello"
  drive "$tmp/$how/hello_static"
done
step "ok"
