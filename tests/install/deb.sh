#!/usr/bin/env bash
# Debian packages test (ctest install_deb): builds the packages from the build tree with
# CPack into a temp dir, checks their names, contents and control data, unpacks them with
# dpkg-deb -x into a temp root (nothing is installed on the machine), then builds
# examples/hello.c against that root with pkg-config (shared and static) and CMake
# find_package, and drives the shared build with socket.io-client. The unpacked
# /usr/bin/noom must start (--help). Usage: deb.sh BUILD_DIR SOURCE_DIR.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/noomsio-deb.XXXXXX")
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "deb: $*"; exit 1; }
cc=${CC:-cc}

(cd "$build" && cpack -G DEB -B "$tmp/pkgs" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack failed"; }
ver=$(sed -n 's/^#define SIO_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)/\2/p' "$src/include/sio/version.h" | paste -sd.)
major=${ver%%.*}
lib=$(ls "$tmp"/pkgs/libnoomsio${major}_"$ver"_*.deb) || fail "no libnoomsio$major package"
dev=$(ls "$tmp"/pkgs/libnoomsio-dev_"$ver"_*.deb) || fail "no libnoomsio-dev package"
app=$(ls "$tmp"/pkgs/noom_"$ver"_*.deb) || fail "no noom package"
echo "deb: built $(basename "$lib") $(basename "$dev") $(basename "$app")"

# What each package holds (paths relative to /).
has() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./||' | grep -qE "$2" || fail "$(basename "$1") lacks $2"; }
lacks() { if dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./||' | grep -qE "$2"; then fail "$(basename "$1") has $2"; fi; }
has "$lib" "^usr/lib/(.*/)?libnoomsio\.so\.$major$"
lacks "$lib" "\.(a|h|pc)$|libnoomsio\.so$"
has "$dev" "^usr/include/noomsio/sio\.h$"
has "$dev" "^usr/lib/(.*/)?libnoomsio\.a$"
has "$dev" "^usr/lib/(.*/)?libnoomsio\.so$"
has "$dev" "^usr/lib/(.*/)?pkgconfig/noomsio\.pc$"
has "$dev" "^usr/lib/(.*/)?cmake/noomsio/noomsio-config\.cmake$"
has "$app" "^usr/bin/noom$"
has "$app" "^usr/lib/systemd/system/noom\.service$"
has "$app" "^etc/default/noom$"
dpkg-deb -f "$dev" Depends | grep -q "libnoomsio$major (= $ver)" || fail "libnoomsio-dev does not depend on libnoomsio$major (= $ver)"
dpkg-deb -f "$lib" Depends | grep -q "libuv1" || fail "libnoomsio$major does not depend on libuv1"
dpkg-deb -e "$app" "$tmp/ctl"
grep -qx /etc/default/noom "$tmp/ctl/conffiles" || fail "/etc/default/noom is not a conffile"
grep -q '^ExecStart=/usr/bin/noom \$NOOM_ARGS' <(dpkg-deb --fsys-tarfile "$app" | tar -xOf - ./usr/lib/systemd/system/noom.service) ||
  fail "the unit does not start /usr/bin/noom with \$NOOM_ARGS"

root=$tmp/root
for p in "$lib" "$dev" "$app"; do dpkg-deb -x "$p" "$root"; done
"$root/usr/bin/noom" --help >/dev/null || fail "the unpacked noom does not run"

pcdir=$(dirname "$(find "$root" -name noomsio.pc)")
libdir=$(dirname "$pcdir")
export PKG_CONFIG_PATH=$pcdir
# shellcheck disable=SC2046
$cc -Wall -Werror -o "$tmp/hello" "$src/examples/hello.c" $(pkg-config --cflags --libs noomsio) -Wl,-rpath,"$libdir"
# shellcheck disable=SC2046
$cc -Wall -Werror -o "$tmp/hello-static" "$src/examples/hello.c" $(pkg-config --cflags --libs noomsio-static)
ldd "$tmp/hello" | grep -q "libnoomsio.so.$major => $libdir/" || fail "hello does not load the unpacked libnoomsio"
cmake -S "$src/tests/install/consumer" -B "$tmp/cmake" -G Ninja -DHELLO_SOURCE="$src/examples/hello.c" \
  -DCMAKE_PREFIX_PATH="$root/usr" >/dev/null
cmake --build "$tmp/cmake" >/dev/null

"$tmp/hello" 0 >"$tmp/out" 2>&1 &
server=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$tmp/out"; fail "hello did not start"; }
node "$src/tests/install/hello-client.mjs" "http://127.0.0.1:$port"
echo "deb: ok"
