#!/bin/sh
# The ABI guard: the library just built against the baseline of the last
# release (abi/libbehavtarget-<version>.abi), with abidiff.
#
#   check-abi.sh BASELINE SUPPRESSIONS LIBRARY
#
# Prints abidiff's whole report (additions included, so a new symbol is
# seen), then fails when anything but an addition remains: a published
# function or variable removed, or its signature or a type it reaches changed
# (beyond what SUPPRESSIONS accepts).  See docs/abi.md.
set -u
baseline=$1 suppressions=$2 lib=$3

if ! command -v abidiff >/dev/null 2>&1; then
    echo "abidiff not found: the ABI guard needs the Debian package abigail-tools"
    exit 1
fi

# The baseline holds only the public header's types (private ones were
# dropped when it was written, so bvt_engine is declaration-only there).  The
# new library is read whole: dropping its private types too would also drop
# size_t, int64_t and the other system typedefs, and a size_t parameter turned
# uint32_t would pass.  Without debug info abidiff would compare names only,
# so that is an error here.
set -- --suppressions "$suppressions" --fail-no-debug-info "$baseline" "$lib"

echo "abidiff $(basename "$baseline") $(basename "$lib")"
abidiff "$@"
rc=$?
# abidiff's status is a bit set: 1 error, 2 usage error, 4 change, 8 incompatible.
if [ $(( rc & 3 )) -ne 0 ]; then
    echo "abidiff could not compare (status $rc)"
    exit 1
fi

# Again without additions: any change still reported breaks programs built
# against the baseline's release.
abidiff --no-added-syms "$@" >/dev/null
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "ABI BREAK: a published symbol or type was removed or changed (status $rc)."
    echo "Published symbols never change: add a _v2 symbol in a new version node,"
    echo "or append fields to a versioned struct (docs/abi.md)."
    exit 1
fi
echo "ABI compatible with $(basename "$baseline")"
