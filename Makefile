# The two commands: `make test` and `make demo`.  Both work on a fresh
# Debian 12 machine: `deps` installs what is missing first.
#
#   make build   configure build/ (once) and compile
#   make demo    run the demo program
#   make test    every test stage (scripts/run-tests); last line "N passed, N failed"
#   make bench   the benchmarks (tests/bench/run-all.sh)
#   make fuzz    long libFuzzer runs: FUZZ_SECONDS per harness (default 300)
#   make clean   remove every build directory

# Compilers, the build system, the libraries, Check, and libFuzzer's runtime
# (clang 14 on Debian ships it separately); llvm gives llvm-symbolizer for
# readable sanitizer stacks, binutils nm/readelf for the ABI test; golang-go
# for the Go binding's tests; pytest, numpy, pandas and matplotlib for the
# Python binding's tests and example; libmicrohttpd and chromium for the
# decision-server example and its browser test.
DEPS = meson ninja-build pkg-config gcc g++ clang libclang-rt-14-dev llvm binutils \
       libzstd-dev libxxhash-dev check golang-go \
       python3-pytest python3-numpy python3-pandas python3-matplotlib \
       libmicrohttpd-dev chromium
BENCH_DEPS = python3-pandas redis-server

FUZZ_SECONDS ?= 300
BUILD_DIRS = build build-asan build-tsan build-fuzz

.PHONY: all deps deps-bench build demo test bench fuzz clean

all: build

deps:
	@scripts/install-deps $(DEPS)

deps-bench:
	@scripts/install-deps $(BENCH_DEPS)

build: deps
	@test -f build/build.ninja || meson setup build
	@ninja -C build

demo: build
	@build/examples/demo

test: deps
	@scripts/run-tests

bench: deps deps-bench build
	@tests/bench/run-all.sh build

fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-tests fuzz

clean:
	rm -rf $(BUILD_DIRS)
