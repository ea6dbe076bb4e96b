#!/usr/bin/env bash
# run-all.sh — run every benchmark several times and print medians.
#
# Usage: tests/bench/run-all.sh BUILD_DIR
# Environment: RUNS (default 5) runs per benchmark; RUNS_10M (default 3) for
# the 10M-user ingest runs; SKIP_10M=1 skips those.
#
# Installs nothing.  It needs /usr/bin/python3 with pandas (Debian
# python3-pandas) for the RFM peer and redis-server (Debian redis-server)
# for the Redis peer; when one is missing it says so, skips that peer and
# exits non-zero at the end.  The CDNOW data (../shared/data/cdnow next to
# the source tree) is optional: without it the RFM peer is skipped.
# Logs and generated data go to BUILD_DIR/bench-results, never the source tree.
set -u

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 BUILD_DIR   (a configured and built meson build directory)" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BENCH="$BUILD/tests/bench"
OUT="$BUILD/bench-results"
RUNS=${RUNS:-5}
RUNS_10M=${RUNS_10M:-3}
DATA="$SRC/../shared/data"
mkdir -p "$OUT"
RESULTS="$OUT/results.txt"
: > "$RESULTS"
status=0

say() { printf '%s\n' "$*"; }
fail() { printf 'ERROR: %s\n' "$*" >&2; status=1; }

# ---- prerequisites ---------------------------------------------------------
for exe in bench-memlat bench-ingest bench-redis bench-memory bench-segments bench-rank bench-experiment bench-snapshot; do
    if [ ! -x "$BENCH/$exe" ]; then
        fail "$BENCH/$exe is missing: build first (ninja -C $BUILD)"
        exit 1
    fi
done
if [ ! -x "$BUILD/examples/bvt" ]; then
    fail "$BUILD/examples/bvt is missing: build first (ninja -C $BUILD)"
    exit 1
fi
have_pandas=1
if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
    have_pandas=0
    fail "/usr/bin/python3 with pandas not found (Debian package python3-pandas): the RFM peer will be skipped"
fi
have_redis=1
if ! command -v redis-server >/dev/null 2>&1; then
    have_redis=0
    fail "redis-server not found (Debian package redis-server): the Redis peer will be skipped"
fi

buildtype=$(meson configure "$BUILD" 2>/dev/null | awk '$1 == "buildtype" {print $2; exit}')
[ -n "$buildtype" ] || buildtype="unknown"
say "libbehavtarget benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
say "build: $BUILD (buildtype $buildtype); runs: $RUNS (10M users: $RUNS_10M)"
say ""

# Run one benchmark program N times, keeping its "@ name value" lines.
bench() {
    local tag=$1 n=$2
    shift 2
    local i
    for i in $(seq 1 "$n"); do
        local log="$OUT/$tag.$i.log"
        say "== $tag run $i/$n: $*"
        if "$@" > "$log" 2>&1; then
            grep -v '^@ ' "$log" | sed 's/^/   /'
            grep '^@ ' "$log" >> "$RESULTS"
        else
            sed 's/^/   /' "$log"
            fail "$tag run $i failed (log: $log)"
        fi
    done
}

mem_available_gib() {
    awk '/MemAvailable/ {printf "%d", $2/1048576}' /proc/meminfo
}

# ---- the machine: random-read latency, to read the ingest figures against ----
bench "memlat" "$RUNS" "$BENCH/bench-memlat" -m 1024

# ---- ingest ----------------------------------------------------------------
for mode in batch single; do
    for t in 1 2; do
        bench "ingest-$mode-t$t-1M" "$RUNS" "$BENCH/bench-ingest" -u 1000000 -t "$t" -m "$mode" -e 2000000 -p 3
    done
done
bench "ingest-batch-t1-1M-skewed" "$RUNS" "$BENCH/bench-ingest" -u 1000000 -t 1 -m batch -d skewed -e 2000000 -p 3

if [ "${SKIP_10M:-0}" = 1 ]; then
    say "== 10M users: skipped (SKIP_10M=1)"
elif [ "$(mem_available_gib)" -lt 10 ]; then
    say "== 10M users: skipped, only $(mem_available_gib) GiB available (needs about 8)"
else
    for mode in batch single; do
        for t in 1 2; do
            bench "ingest-$mode-t$t-10M" "$RUNS_10M" "$BENCH/bench-ingest" -u 10000000 -t "$t" -m "$mode" -e 4000000 -p 2
        done
    done
    bench "ingest-batch-t1-10M-skewed" "$RUNS_10M" "$BENCH/bench-ingest" -u 10000000 -t 1 -m batch -d skewed -e 4000000 -p 2
fi

# ---- per-user memory on the shop's data -------------------------------------
# The demo's data (seed 42, 50,000 users, 1M events, 30 days); deterministic,
# so one run is enough.
bench "memory-demo" 1 "$BENCH/bench-memory"

# ---- segments: 50 rules for one user, counting members, compiling rules ------
bench "segments-1M" "$RUNS" "$BENCH/bench-segments" -u 1000000 -e 8

# ---- ranking: 100 and 1,000 offers for a known user, each policy ----------------
bench "rank" "$RUNS" "$BENCH/bench-rank" -u 100000 -c 20000

# ---- experiments: variant_of per second, XXH3 and GrowthBook v2 -------------
bench "experiment-1M" "$RUNS" "$BENCH/bench-experiment" -u 1000000 -p 7

# ---- peer (a): RFM summary vs pandas ----------------------------------------
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# Wall time in seconds of one process whose stdout goes to file $1.
walltime() {
    local out=$1
    shift
    local t0=$EPOCHREALTIME
    "$@" > "$out" || return 1
    local t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", b - a}'
}

cdnow="$DATA/cdnow/CDNOW_sample.txt"
if [ ! -f "$cdnow" ]; then
    say "== peer RFM: skipped, $cdnow is absent"
elif [ "$have_pandas" = 0 ]; then
    say "== peer RFM: skipped, no pandas (see above)"
else
    csv="$OUT/cdnow-x100.csv"
    # 100 copies of CDNOW; customer ids made unique per copy (copy * 10000 + id).
    awk 'BEGIN {print "customer_id,date,value"}
         {d = $3; row[NR] = ($2 + 0) "," substr(d,1,4) "-" substr(d,5,2) "-" substr(d,7,2) "," $5}
         END {for (c = 0; c < 100; c++) for (i = 1; i <= NR; i++) {
                split(row[i], p, ","); print c * 10000 + p[1] "," p[2] "," p[3] }}' \
        "$cdnow" > "$csv"
    rows=$(($(wc -l < "$csv") - 1))
    say "== peer RFM: lifetimes summary of $rows transactions (CDNOW x100), end 1997-09-30, weeks"
    : > "$OUT/rfm-bvt.times"
    : > "$OUT/rfm-pandas.times"
    ok=1
    for i in $(seq 1 "$RUNS"); do
        if ! walltime "$OUT/rfm-bvt.csv" "$BUILD/examples/bvt" rfm --input "$csv" \
                --end 1997-09-30 --unit-days 7 >> "$OUT/rfm-bvt.times"; then
            fail "bvt rfm failed"; ok=0; break
        fi
        if ! walltime /dev/null /usr/bin/python3 "$SRC/tests/bench/rfm_pandas.py" "$csv" \
                1997-09-30 7 "$OUT/rfm-pandas.csv" >> "$OUT/rfm-pandas.times"; then
            fail "the pandas peer failed"; ok=0; break
        fi
    done
    if [ "$ok" = 1 ]; then
        say "   bvt rfm seconds:    $(tr '\n' ' ' < "$OUT/rfm-bvt.times")"
        say "   pandas seconds:     $(tr '\n' ' ' < "$OUT/rfm-pandas.times")"
        if cmp=$(/usr/bin/python3 "$SRC/tests/bench/rfm_compare.py" "$OUT/rfm-bvt.csv" "$OUT/rfm-pandas.csv" 0.01 2>&1); then
            say "   $cmp"
        else
            fail "RFM peer: $cmp"
        fi
        b=$(median < "$OUT/rfm-bvt.times")
        p=$(median < "$OUT/rfm-pandas.times")
        r=$(awk -v b="$b" -v p="$p" 'BEGIN {printf "%.1f", p / b}')
        say "   median: bvt rfm $b s, pandas $p s: bvt is ${r}x faster (target >= 20x)"
        {
            echo "@ peer_rfm.bvt.seconds $b"
            echo "@ peer_rfm.pandas.seconds $p"
            echo "@ peer_rfm.ratio $r"
        } >> "$RESULTS"
    fi
fi

# ---- peer (b): Redis --------------------------------------------------------
redis_pid=
stop_redis() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null
        wait "$redis_pid" 2>/dev/null
        redis_pid=
    fi
}
trap stop_redis EXIT

start_redis() {
    local try port
    for try in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        # A port that accepts a connection is taken.
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue
        fi
        redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
            --daemonize no --dir "$OUT" --logfile "$OUT/redis.log" &
        redis_pid=$!
        local w
        for w in $(seq 1 50); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                REDIS_PORT=$port
                return 0
            fi
            kill -0 "$redis_pid" 2>/dev/null || break
            sleep 0.1
        done
        stop_redis
    done
    return 1
}

if [ "$have_redis" = 1 ]; then
    if start_redis; then
        say "== peer Redis: $(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$REDIS_PORT (no persistence)"
        bench "peer-redis" "$RUNS" "$BENCH/bench-redis" -P "$REDIS_PORT" -e 1000000 -u 100000 -k 1000
        stop_redis
    else
        fail "could not start redis-server on a free loopback port (log: $OUT/redis.log)"
    fi
fi

# ---- snapshots and the journal ---------------------------------------------
bench "snapshot-1M" "$RUNS" "$BENCH/bench-snapshot" -u 1000000 -e 4
if [ "${SKIP_10M:-0}" != 1 ] && [ "$(mem_available_gib)" -ge 14 ]; then
    bench "snapshot-10M" "$RUNS_10M" "$BENCH/bench-snapshot" -u 10000000 -e 4
fi
bench "journal-batch" "$RUNS" "$BENCH/bench-snapshot" -j -n 2000000
bench "journal-single" "$RUNS" "$BENCH/bench-snapshot" -j -n 100000 -m single

# ---- medians ----------------------------------------------------------------
say ""
say "== medians over runs (name, median, min, max, runs)"
awk '$1 == "@" {print $2, $3}' "$RESULTS" | sort -k1,1 -k2,2g | awk '
    function flush() {
        if (n == 0) return
        med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        printf "%-58s %14.6g %14.6g %14.6g %3d\n", name, med, v[1], v[n], n
    }
    $1 != name { flush(); name = $1; n = 0 }
    { v[++n] = $2 }
    END { flush() }'
say ""
say "logs: $OUT"
exit $status
