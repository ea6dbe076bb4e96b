#!/bin/sh
# Rank latency in C (tests/bench/bench-rank) and through the Go binding,
# on the same scenario: bench-compare.sh BUILDDIR [USERS]
# Not a test: the numbers depend on the machine.
set -eu
build=$(cd "$1" && pwd)
users=${2:-100000}
here=$(cd "$(dirname "$0")" && pwd)
export PKG_CONFIG_PATH="$build/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$build/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GOFLAGS=-mod=mod GOPROXY=off GOENV=off
export GOCACHE="$build/bindings/go/gocache" GOPATH="$build/bindings/go/gopath"
echo "== C: bench-rank -u $users -p greedy (median per call)"
for o in 1 100; do
    "$build/tests/bench/bench-rank" -u "$users" -c 20000 -p greedy -o "$o" | grep scored
done
echo "== Go: BenchmarkRank (greedy, k = 4: mean ns/op, median and p99 per call)"
cd "$here"
BVT_BENCH_USERS=$users go test -run '^$' -bench BenchmarkRank -benchtime 20000x ./...
