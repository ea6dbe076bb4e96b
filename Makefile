# The two commands: `make test` and `make demo`.  Both work on a fresh
# Debian 12 machine: `deps` installs what is missing first.
#
#   make build   configure build/ (once) and compile
#   make demo    run the demo program
#   make test    every test stage (scripts/run-tests); last line "N passed, N failed"
#   make bench   the benchmarks (tests/bench/run-all.sh)
#   make fuzz    long libFuzzer runs: FUZZ_SECONDS per harness (default 300)
#   make docs    the API reference from the header (Doxygen) in build/docs/html
#   make clean   remove every build directory

# Compilers, the build system, the libraries, Check, and libFuzzer's runtime
# (clang 14 on Debian ships it separately); llvm gives llvm-symbolizer for
# readable sanitizer stacks, binutils nm/readelf for the ABI test; golang-go
# for the Go binding's tests; pytest, numpy, pandas and matplotlib for the
# Python binding's tests and example; libmicrohttpd and chromium for the
# decision-server example and its browser test; abigail-tools for the ABI
# guard (abidiff against abi/libbehavtarget-1.0.abi).
DEPS = meson ninja-build pkg-config gcc g++ clang libclang-rt-14-dev llvm binutils \
       libzstd-dev libxxhash-dev check golang-go \
       python3-pytest python3-numpy python3-pandas python3-matplotlib \
       libmicrohttpd-dev chromium abigail-tools
BENCH_DEPS = python3-pandas redis-server
DOCS_DEPS = doxygen

FUZZ_SECONDS ?= 300
BUILD_DIRS = build build-asan build-tsan build-fuzz

.PHONY: all deps deps-bench deps-docs build demo test bench fuzz docs clean

all: build

deps:
	@scripts/install-deps $(DEPS)

deps-bench:
	@scripts/install-deps $(BENCH_DEPS)

deps-docs:
	@scripts/install-deps $(DOCS_DEPS)

build: deps
	@test -f build/build.ninja || meson setup build
	@ninja -C build

demo: build
	@build/examples/demo

test: deps
	@scripts/run-tests

bench: deps deps-bench build
	@tests/bench/run-all.sh build

docs: deps-docs
	@scripts/make-docs

fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-tests fuzz

clean:
	rm -rf $(BUILD_DIRS)
