#!/bin/sh
# Runs `go test` on the binding from meson: run-go-test.sh SRCDIR [go test flags...]
# GO is the go tool meson found, empty when there is none.
set -eu
srcdir=$1
shift
if [ -z "${GO:-}" ]; then
    echo "run-go-test: no 'go' tool found; install golang-go (>= 1.19) to test the Go binding" >&2
    exit 1
fi
if ! pkg-config --exists behavtarget; then
    echo "run-go-test: pkg-config cannot find behavtarget (PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-})" >&2
    exit 1
fi
cd "$srcdir"
exec "$GO" test -count=1 "$@" ./...
