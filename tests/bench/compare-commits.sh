#!/usr/bin/env bash
# compare-commits.sh — measure two commits side by side, in the same run.
#
# Usage: tests/bench/compare-commits.sh BASE [HEAD]
#   BASE, HEAD: any commit names git understands (HEAD defaults to this
#   checkout's HEAD; uncommitted changes are not measured).
# Environment:
#   RUNS  runs per side and benchmark (default 5)
#   ONLY  comma-separated subset of: ingest,rank,segments,snapshot (default all)
#   RANK_POLICIES  bench-rank policies to report, comma-separated (default
#         greedy; "all" for greedy,epsilon-greedy,softmax,ucb1,thompson)
#   OUT   work area (default build/bench-compare in this checkout)
#
# For refactorings that must not cost speed: both commits are checked out
# as temporary worktrees, built alike (meson --buildtype=release, default
# options otherwise) and their benchmarks run interleaved, so whatever else
# the machine is doing hits both sides alike.  Each benchmark runs base and
# head back to back, the order swapping every run (AB BA AB ...) so a
# drift in machine load favours neither.  It prints one table of medians.
#
# Installs nothing.  The worktrees and builds live in a temporary directory
# under OUT and are removed on exit, failure or interrupt included; the
# logs and raw figures of the last run stay in OUT/last.
set -u
set -o pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
ONLY=${ONLY:-ingest,rank,segments,snapshot}
RANK_POLICIES=${RANK_POLICIES:-greedy}
[ "$RANK_POLICIES" = all ] && RANK_POLICIES=greedy,epsilon-greedy,softmax,ucb1,thompson
NOISE_FLOOR=3 # percent: below this, run-to-run spread is not believed

die() { printf 'compare-commits: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
case $RUNS in '' | *[!0-9]* | 0) die "RUNS must be a positive integer" ;; esac
for b in ${ONLY//,/ }; do
    case $b in ingest | rank | segments | snapshot) ;; *) die "ONLY: unknown benchmark '$b'" ;; esac
done
wanted() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

BASE_ID=$(git -C "$SRC" rev-parse --verify --quiet "$1^{commit}") || die "not a commit: $1"
HEAD_ID=$(git -C "$SRC" rev-parse --verify --quiet "${2:-HEAD}^{commit}") || die "not a commit: ${2:-HEAD}"

OUT=${OUT:-$SRC/build/bench-compare}
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
LAST="$OUT/last"
rm -rf "$LAST"
mkdir -p "$LAST"
RAW="$LAST/raw.txt" # one line per figure and run: side run name value
: > "$RAW"
TMP=$(mktemp -d "$OUT/tmp.XXXXXX") || die "mktemp failed"
status=0

# ---- worktrees: made here, always removed ------------------------------------
WORKTREES=()
# shellcheck disable=SC2317 # (called by the trap)
cleanup() {
    local wt
    for wt in "${WORKTREES[@]}"; do
        git -C "$SRC" worktree remove --force "$wt" >/dev/null 2>&1 ||
            say "compare-commits: could not remove worktree $wt" >&2
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- building ----------------------------------------------------------------
# The programs the selected benchmarks need, as ninja targets.
targets() {
    local t=()
    wanted ingest && t+=(tests/bench/bench-ingest)
    wanted rank && t+=(tests/bench/bench-rank)
    wanted segments && t+=(tests/bench/bench-segments)
    wanted snapshot && t+=(tests/bench/bench-snapshot)
    printf '%s\n' "${t[@]}"
}

# Check out commit $2 as side $1 and build the benchmark programs it needs.
# Each side's programs are its own commit's, linked to its own library
# (meson's build rpath).
prepare() {
    local side=$1 id=$2 src="$TMP/$1" build="$TMP/$1-build"
    WORKTREES+=("$src")
    mkdir -p "$TMP/snap-$side"
    git -C "$SRC" worktree add --quiet --detach "$src" "$id" > "$LAST/$side-build.log" 2>&1 ||
        { cat "$LAST/$side-build.log" >&2; die "git worktree add $id failed"; }
    # The normal build's options (Makefile: plain `meson setup build`), but release.
    meson setup --buildtype=release "$build" "$src" >> "$LAST/$side-build.log" 2>&1 ||
        die "meson setup failed for $side ($id): see $LAST/$side-build.log"
    # shellcheck disable=SC2046
    ninja -C "$build" $(targets) >> "$LAST/$side-build.log" 2>&1 ||
        die "build failed for $side ($id): see $LAST/$side-build.log (ONLY= leaves out a program a commit lacks)"
}

# ---- running -------------------------------------------------------------------
# The command line of benchmark $1 for side $2, into the array CMD.
command_of() {
    local bench=$1 side=$2 dir="$TMP/$2-build/tests/bench"
    case $bench in
    # The headline ingest case (batch calls, one thread, 1M users): the
    # insert pass creates every profile, the steady passes hit known users.
    ingest) CMD=("$dir/bench-ingest" -u 1000000 -t 1 -m batch -e 2000000 -p 3) ;;
    rank)
        CMD=("$dir/bench-rank" -u 100000 -c 20000)
        # One policy: -p skips the others (the propensity case alone takes
        # seconds); several: run them all and keep the chosen ones.
        case $RANK_POLICIES in *,*) ;; *) CMD+=(-p "$RANK_POLICIES") ;; esac
        ;;
    segments) CMD=("$dir/bench-segments" -u 1000000 -e 8) ;;
    # The snapshot file goes to this run's temporary directory, not /tmp;
    # without KEEP in the environment the load half deletes it.
    snapshot) CMD=(env -u KEEP "$dir/bench-snapshot" -u 1000000 -e 4 -d "$TMP/snap-$side") ;;
    esac
}

# Run benchmark $1 once for side $2 (run $3), keeping its "@ name value" lines.
run_one() {
    local bench=$1 side=$2 run=$3 log="$LAST/$1.$2.$3.log" t0=$EPOCHREALTIME
    command_of "$bench" "$side"
    if "${CMD[@]}" > "$log" 2>&1; then
        awk -v s="$side" -v r="$run" '$1 == "@" {print s, r, $2, $3}' "$log" >> "$RAW"
        # The load average says how much else the machine was doing.
        printf '  %-8s %-4s %6.1f s   load %s\n' "$bench" "$side" \
            "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}')" "$(cut -d' ' -f1 /proc/loadavg)"
    else
        printf '  %-8s %-4s FAILED (log: %s)\n' "$bench" "$side" "$log"
        status=1
    fi
}

# ---- the figures in the table ----------------------------------------------------
# One line per figure: result name | label | unit | scale | better (up/down).
# The names are the programs' "@ name value" lines (bench.h); a name that
# changes in either commit shows as n/a.
figures() {
    if wanted ingest; then
        echo "ingest.batch.t1.1M.uniform.insert.events_per_s|ingest insert (new users), batch, 1 thread, 1M|M ev/s|1e-6|up"
        echo "ingest.batch.t1.1M.uniform.steady.events_per_s|ingest steady (known users), batch, 1 thread, 1M|M ev/s|1e-6|up"
    fi
    if wanted rank; then
        local p n c stat
        for p in ${RANK_POLICIES//,/ }; do
            for n in 100 1000; do
                for c in scored rules; do
                    for stat in median p99; do
                        # p99 of greedy only: the policies differ in their medians
                        [ "$stat" = p99 ] && [ "$p" != greedy ] && continue
                        echo "rank-$n-$c-$p-$stat-us|rank $n offers, $c, $p, $stat|us|1|down"
                    done
                done
            done
        done
    fi
    if wanted segments; then
        echo "segments_of_us|segments_of, one user (50 rules + built-ins)|us|1|down"
        echo "members_musers_per_s|segment members over 1M users|M users/s|1|up"
        echo "compile_1000_rules_ms|compile 1,000 rules|ms|1|down"
    fi
    if wanted snapshot; then
        echo "snapshot_1000k_load_s|snapshot load, 1M users (fresh process)|s|1|down"
    fi
}

# Print the table from RAW.  Per figure and side: the median over runs and
# the spread (max - min) / median.  The noise band is the larger spread of
# the two sides, at least NOISE_FLOOR; within it the verdict is "same".
table() {
    figures | awk -F'|' -v raw="$RAW" -v floor="$NOISE_FLOOR" '
        function median(a, n) { return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        function sortn(a, n,   i, j, t) {
            for (i = 2; i <= n; i++)
                for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        }
        # stats of one side: sets M (median) and S (spread, %); 0 if no runs
        function stats(side, name,   a, n, i) {
            n = cnt[side, name]
            if (n == 0) return 0
            for (i = 1; i <= n; i++) a[i] = val[side, name, i]
            sortn(a, n)
            M = median(a, n)
            S = M != 0 ? 100 * (a[n] - a[1]) / M : 0
            return n
        }
        BEGIN {
            while ((getline line < raw) > 0) {
                split(line, f, " ")
                val[f[1], f[3], ++cnt[f[1], f[3]]] = f[4]
            }
            printf "%-52s %-9s %10s %10s %6s %6s  %s\n", "figure", "unit", "base", "head", "ratio", "noise", "verdict"
        }
        {
            name = $1; label = $2; unit = $3; scale = $4 + 0; better = $5
            nb = stats("base", name); bm = M; bs = S
            nh = stats("head", name); hm = M; hs = S
            if (nb == 0 || nh == 0 || bm == 0) {
                printf "%-52s %-9s %10s %10s %6s %6s  %s\n", label, unit,
                       nb ? sprintf("%.4g", bm * scale) : "n/a", nh ? sprintf("%.4g", hm * scale) : "n/a",
                       "", "", "n/a (no figure: see the logs)"
                missing++
                next
            }
            r = hm / bm
            noise = bs > hs ? bs : hs
            if (noise < floor) noise = floor
            dev = 100 * (r - 1)
            if (dev <= noise && -dev <= noise) verdict = "same"
            else if ((r > 1) == (better == "up")) verdict = "faster"
            else verdict = "slower"
            count[verdict]++
            printf "%-52s %-9s %10.4g %10.4g %6.3f %5.1f%%  %s\n", label, unit, bm * scale, hm * scale, r, noise, verdict
        }
        END {
            printf "\n%d same, %d faster, %d slower, %d missing\n", count["same"], count["faster"], count["slower"], missing
            exit missing > 0
        }'
}

# ---- main ------------------------------------------------------------------------
describe() { git -C "$SRC" log -1 --format='%h %s' "$1" | cut -c1-90; }

started=$EPOCHREALTIME
say "compare-commits — $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: nproc $(nproc), $(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)," \
    "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "base: $(describe "$BASE_ID")  ($BASE_ID)"
say "head: $(describe "$HEAD_ID")  ($HEAD_ID)"
say "runs: $RUNS per side, interleaved (AB BA ...); benchmarks: $ONLY"
say ""

say "== building (release) in $TMP"
prepare base "$BASE_ID"
prepare head "$HEAD_ID"
say "   built in $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}') s"

for run in $(seq 1 "$RUNS"); do
    say "== run $run/$RUNS"
    if [ $((run % 2)) = 1 ]; then order="base head"; else order="head base"; fi
    for bench in ${ONLY//,/ }; do
        for side in $order; do
            run_one "$bench" "$side" "$run"
        done
    done
done

say ""
say "== medians of $RUNS runs; ratio = head / base; noise = the larger (max - min) / median"
say "   of the two sides, at least $NOISE_FLOOR%; verdict \"same\" when the ratio is within 1 ± noise,"
say "   else faster or slower (higher is better for /s figures, lower for times)"
say "   base $(git -C "$SRC" rev-parse --short "$BASE_ID"), head $(git -C "$SRC" rev-parse --short "$HEAD_ID");" \
    "load average now $(cut -d' ' -f1-3 /proc/loadavg)"
say ""
table || status=1
say ""
say "total $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}') s; logs and raw figures: $LAST"
exit $status
