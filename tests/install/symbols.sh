#!/usr/bin/env bash
# The shared library exports exactly the public API:
#   - every dynamic symbol it defines matches ^sio_[a-z] (never sio__*, llhttp_*, or a
#     helper that forgot `static`);
#   - every function the public headers declare with SIO_EXTERN is exported (a
#     declaration whose definition is missing or misspelled fails here, not in a user's
#     link).
# Usage: symbols.sh LIBNOOMSIO.so INCLUDE_DIR [HAS_REDIS:0|1]
set -euo pipefail
lib=$1 inc=$2 redis=${3:-1}
fail=0

exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sort -u)
[ -n "$exported" ] || { echo "symbols: $lib exports nothing"; exit 1; }

bad=$(grep -Ev '^sio_[a-z][a-z0-9_]*$' <<<"$exported" || true)
internal=$(grep -E '^sio__' <<<"$exported" || true)
if [ -n "$bad$internal" ]; then
  echo "symbols: internal symbols exported by $lib:"
  printf "  %s\n" $bad $internal | sort -u
  fail=1
fi

# OpenBSD's sndio (Debian libsndio7.0) exports these sio_* names: none may be ours, so a
# program can link both libraries.
sndio="sio_open sio_close sio_setpar sio_getpar sio_getcap sio_start sio_stop sio_flush
sio_read sio_write sio_onmove sio_nfds sio_pollfd sio_revents sio_eof sio_setvol sio_onvol
sio_initpar"
clash=$(comm -12 <(tr ' ' '\n' <<<"$sndio" | tr -s '\n' | sort -u) <(echo "$exported"))
if [ -n "$clash" ]; then
  echo "symbols: $lib exports names of sndio's sio_* API:"
  printf '  %s\n' $clash
  fail=1
fi

headers=("$inc"/sio.h "$inc"/sio/*.h)
[ "$redis" = 1 ] || headers=($(printf '%s\n' "${headers[@]}" | grep -v '/redis\.h$'))
# Declarations may span lines: join each file, then take the identifier before the first
# '(' of every SIO_EXTERN declaration.
declared=$(for h in "${headers[@]}"; do tr '\n' ' ' <"$h" | grep -oE 'SIO_EXTERN[^;{]*;' ; done |
  sed -E 's/\(.*//; s/.*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*) *$/\1/' | grep -E '^sio_' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -n "$missing" ]; then
  echo "symbols: declared SIO_EXTERN but not exported by $lib:"
  printf '  %s\n' $missing
  fail=1
fi

if [ $fail = 0 ]; then
  echo "symbols: $(wc -l <<<"$exported") exported, all public; $(wc -l <<<"$declared") declared, all exported"
fi
exit $fail
