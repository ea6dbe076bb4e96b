#!/bin/sh
# What a packager and a user get: `meson install` into a scratch DESTDIR puts
# the header, the library with its soname link and behavtarget.pc in place,
# and the programs bvt and decision-server in bindir; a program built with
# pkg-config against that copy runs, and so does the installed bvt.
#   check-install.sh <build root> <smoke source> <prefix> <libdir> <includedir> <version> <bindir>
# libdir, includedir and bindir are absolute.  Tools come from $MESON, $CC,
# $PKG_CONFIG; $SANITIZE is the build's b_sanitize value (the smoke program
# needs the same runtime as the library).
set -u
build=$1 src=$2 prefix=$3 libdir=$4 includedir=$5 version=$6 bindir=$7
meson=${MESON:-meson}
cc=${CC:-cc}
pkg_config=${PKG_CONFIG:-pkg-config}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

dest=$(mktemp -d) || exit 1
trap 'rm -rf "$dest"' EXIT

# $meson and $cc may be commands with arguments: split them.
# shellcheck disable=SC2086
$meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$dest/install.log" 2>&1 ||
    { cat "$dest/install.log" >&2; fail "meson install failed"; }

lib=$dest$libdir
[ -f "$dest$includedir/behavtarget.h" ] || fail "header not installed in $includedir"
[ -f "$lib/pkgconfig/behavtarget.pc" ] || fail "behavtarget.pc not installed in $libdir/pkgconfig"
[ -L "$lib/libbehavtarget.so" ] || fail "development link libbehavtarget.so missing"
[ -L "$lib/libbehavtarget.so.1" ] || fail "soname link libbehavtarget.so.1 missing"
real=$(readlink -f "$lib/libbehavtarget.so.1")
[ -f "$real" ] || fail "libbehavtarget.so.1 points nowhere"
case $(readlink -f "$lib/libbehavtarget.so") in
"$real") ;;
*) fail "libbehavtarget.so and libbehavtarget.so.1 point to different files" ;;
esac

# The installed .pc, read as a user would, with its prefix moved into DESTDIR.
export PKG_CONFIG_PATH="$lib/pkgconfig"
pc_version=$($pkg_config --modversion behavtarget) || fail "pkg-config cannot read behavtarget.pc"
[ "$pc_version" = "$version" ] || fail "behavtarget.pc says version $pc_version, expected $version"
flags=$($pkg_config --define-variable=prefix="$dest$prefix" --cflags --libs behavtarget) ||
    fail "pkg-config --cflags --libs behavtarget failed"

san=
[ "${SANITIZE:-none}" != none ] && san="-fsanitize=$SANITIZE"
# shellcheck disable=SC2086
$cc -std=c99 $san "$src" $flags -o "$dest/smoke" ||
    fail "cannot build a program with: $cc $san $flags"

# It must run against the installed copy, not the build tree.
LD_LIBRARY_PATH=$lib
export LD_LIBRARY_PATH
loaded=$(ldd "$dest/smoke" | sed -n 's/.*libbehavtarget\.so\.1 => \([^ ]*\).*/\1/p')
[ "$(readlink -f "$loaded")" = "$real" ] ||
    fail "smoke program resolves libbehavtarget.so.1 to '$loaded', not the installed copy"
"$dest/smoke" || fail "smoke program failed against the installed library"

# The command-line tools, executable, in bindir; bvt runs on the installed
# library and says which versions it is.
for prog in bvt decision-server; do
    [ -f "$dest$bindir/$prog" ] && [ -x "$dest$bindir/$prog" ] ||
        fail "$prog not installed as an executable in $bindir"
done
bvt_version=$("$dest$bindir/bvt" --version) || fail "the installed bvt --version failed"
want=$(printf 'bvt %s\nlibbehavtarget %s' "$version" "$version")
[ "$bvt_version" = "$want" ] ||
    fail "the installed bvt --version says '$bvt_version', expected '$want'"
loaded=$(ldd "$dest$bindir/bvt" | sed -n 's/.*libbehavtarget\.so\.1 => \([^ ]*\).*/\1/p')
[ "$(readlink -f "$loaded")" = "$real" ] ||
    fail "the installed bvt resolves libbehavtarget.so.1 to '$loaded', not the installed copy"
