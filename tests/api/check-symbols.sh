#!/bin/sh
# The ABI promise, checked on the built library: exactly the names listed in
# the version script are exported (each under a version node), nothing of the
# bundled xxHash / zstd leaks, and the soname is libbehavtarget.so.1.
#   check-symbols.sh <libbehavtarget.so> <libbehavtarget.map>
# Tools come from $NM and $READELF (default nm, readelf).
set -u
lib=$1 map=$2
nm=${NM:-nm}
readelf=${READELF:-readelf}
status=0

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Names in the version script: "name;" lines, comments removed.
sed -e 's|/\*.*\*/||g' -e 's|#.*||' "$map" |
    sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*;[[:space:]]*$/\1/p' |
    sort -u >"$tmp/map"

# Defined dynamic symbols, without the version nodes themselves (type A).
if ! "$nm" -D --defined-only "$lib" >"$tmp/nm"; then
    echo "FAIL: $nm could not read $lib" >&2
    exit 1
fi
awk '$2 != "A" { print $3 }' "$tmp/nm" >"$tmp/raw"
sed 's/@.*//' "$tmp/raw" | sort -u >"$tmp/exported"

if [ ! -s "$tmp/map" ]; then
    echo "FAIL: no symbol names found in $map" >&2
    exit 1
fi

if ! cmp -s "$tmp/map" "$tmp/exported"; then
    echo "FAIL: exported symbols differ from $map" >&2
    echo "  in the map but not exported:" >&2
    comm -23 "$tmp/map" "$tmp/exported" | sed 's/^/    /' >&2
    echo "  exported but not in the map:" >&2
    comm -13 "$tmp/map" "$tmp/exported" | sed 's/^/    /' >&2
    status=1
fi

if grep -E '^(XXH|ZSTD|_XXH|_ZSTD)' "$tmp/exported" >"$tmp/leaks"; then
    echo "FAIL: bundled library symbols are exported:" >&2
    sed 's/^/    /' "$tmp/leaks" >&2
    status=1
fi

# Every exported name carries a version node (name@@BVT_x.y).
if grep -v '@@BVT_' "$tmp/raw" >"$tmp/unversioned"; then
    echo "FAIL: exported symbols without a BVT_ version node:" >&2
    sed 's/^/    /' "$tmp/unversioned" >&2
    status=1
fi

soname=$("$readelf" -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" != "libbehavtarget.so.1" ]; then
    echo "FAIL: soname is '$soname', expected libbehavtarget.so.1" >&2
    status=1
fi

[ $status -eq 0 ] && echo "$(wc -l <"$tmp/exported") symbols exported, as in the map; soname $soname"
exit $status
