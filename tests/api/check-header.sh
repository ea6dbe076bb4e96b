#!/bin/sh
# The public header must stand alone as strict C89 and as C++11: users build
# against it with whatever standard their own code uses.
#   check-header.sh c89|c++11 <source> <include dir>
# The compiler comes from $CC (C) or $CXX (C++); a missing C++ compiler skips.
set -u
std=$1 src=$2 incdir=$3

case $std in
c89)
    compiler=${CC:-cc}
    lang=c
    flags="-std=c89 -pedantic -Werror -Wall -Wextra"
    ;;
c++11)
    compiler=${CXX:-}
    lang=c++
    flags="-std=c++11 -pedantic -Werror -Wall -Wextra"
    if [ -z "$compiler" ]; then
        echo "no C++ compiler found; cannot check the header as C++" >&2
        exit 77
    fi
    ;;
*)
    echo "unknown standard: $std" >&2
    exit 2
    ;;
esac

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# $compiler may be a command with arguments (e.g. "ccache cc"): split it.
# shellcheck disable=SC2086
if ! $compiler -x "$lang" $flags -I "$incdir" -c "$src" -o "$tmp/use.o"; then
    echo "FAIL: behavtarget.h does not compile as $std with: $compiler $flags" >&2
    exit 1
fi
echo "behavtarget.h compiles as $std ($compiler $flags)"
