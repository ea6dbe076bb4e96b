#!/bin/sh
# Run a libFuzzer harness for a short time from a seed corpus.
#   run-fuzz.sh FUZZER SEED_DIR [DICT]
# FUZZ_SECONDS (default 20) sets the run time.  New inputs go to a temporary
# folder so the checked-in seeds are never modified; a crashing input is
# saved in the current folder as crash-* (meson runs this in the build dir).
# -error_exitcode=1: libFuzzer's default, 77, is meson's "skipped", so a
# failed check (abort), leak or deadly signal would not fail the test.
set -eu
fuzzer=$1
seeds=$2
dict=${3:-}
case $fuzzer in */*) ;; *) fuzzer=./$fuzzer ;; esac
secs=${FUZZ_SECONDS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
if [ -n "$dict" ]; then
    "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
        -print_final_stats=1 -artifact_prefix=./ -dict="$dict" "$work" "$seeds"
else
    "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
        -print_final_stats=1 -artifact_prefix=./ "$work" "$seeds"
fi
