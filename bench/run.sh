#!/usr/bin/env bash
#
# Liasse's benchmarks, in one command: builds `liasse` and `liasse-bench` in release, starts
# `liasse serve` on its embedded default in a fresh data directory, measures every figure
# beside the machine's own limit measured in the same run, and writes bench/out/REPORT.md and
# bench/out/report.json (copied to bench/REPORT.md and bench/report.json after a run of
# every benchmark).
#
# Usage:
#   bench/run.sh                         every benchmark at the issue's sizes (< 15 min)
#   bench/run.sh --only small-uploads    one benchmark (or a comma-separated list) of:
#                                        large-upload download small-uploads list-match
#                                        memory load sweep
#   bench/run.sh --quick                 small sizes and short durations, for development
#                                        (the report says REDUCED)
#
# Sizes and durations (defaults are the issue's targets; smaller values mark the report REDUCED):
#   --large-mib N       large upload size in MiB (1024); --fallback-mib N (500): measured
#                       when the large size is refused
#   --small-secs N      small uploads duration (30); --small-clients N (32); --fsync-secs N (10)
#   --rows N            documents in the database for list-match (1000000)
#   --citizens N        citizens in the database (rows / 10)
#   --lm-docs N         the measured citizen's real documents (50); --lm-iterations N (500)
#   --mem-clients N     concurrent 100 MB uploads (50); --mem-mb N (100)
#   --load-clients N    (200); --load-secs N (60)
# Other options:
#   --no-s3             skip the plain S3 baseline (no s3s-fs)
#   --no-build          use the binaries already built (with --bin-dir DIR, default target/release)
#   --keep              keep the work directory (data dir, logs) under bench/out/
#   --no-copy           do not copy the report to bench/REPORT.md and bench/report.json
#                       (--quick and --only imply it; --copy copies a reduced run anyway)
#
# Needs: cargo, dd, cat, curl, and sqlite3 or python3 (for the bulk rows). The S3 baseline
# uses s3s-fs from scripts/lib/services.sh, built once into ~/.cache/liasse/tools (minutes on
# 2 cores) when scripts/test.sh has not built it yet.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
OUT="${LIASSE_BENCH_OUT:-$BENCH/out}"
RESULTS="$OUT/results"
# shellcheck source=scripts/lib/services.sh
source "$REPO/scripts/lib/services.sh"

usage() { sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

ALL_BENCHES="large-upload download small-uploads list-match memory load sweep"
# The issue's targets.
FULL_LARGE_MIB=1024 FULL_SMALL_SECS=30 FULL_SMALL_CLIENTS=32 FULL_FSYNC_SECS=10
FULL_ROWS=1000000 FULL_LM_DOCS=50 FULL_MEM_CLIENTS=50 FULL_MEM_MB=100
FULL_LOAD_CLIENTS=200 FULL_LOAD_SECS=60

LARGE_MIB=$FULL_LARGE_MIB FALLBACK_MIB=500
SMALL_SECS=$FULL_SMALL_SECS SMALL_CLIENTS=$FULL_SMALL_CLIENTS FSYNC_SECS=$FULL_FSYNC_SECS
ROWS=$FULL_ROWS CITIZENS="" LM_DOCS=$FULL_LM_DOCS LM_ITER=500
MEM_CLIENTS=$FULL_MEM_CLIENTS MEM_MB=$FULL_MEM_MB
LOAD_CLIENTS=$FULL_LOAD_CLIENTS LOAD_SECS=$FULL_LOAD_SECS
ONLY="all" USE_S3=1 BUILD=1 BIN_DIR="" KEEP=0 COPY=1 QUICK=0 FORCE_COPY=0

ARGS=("$@")
while [ "$#" -gt 0 ]; do
    case "$1" in
        --only) ONLY="$2"; shift ;;
        --quick)
            LARGE_MIB=64 FALLBACK_MIB=32 SMALL_SECS=5 SMALL_CLIENTS=8 FSYNC_SECS=2
            ROWS=10000 LM_DOCS=20 LM_ITER=50 MEM_CLIENTS=4 MEM_MB=10
            LOAD_CLIENTS=20 LOAD_SECS=5 QUICK=1 ;;
        --large-mib) LARGE_MIB="$2"; shift ;;
        --fallback-mib) FALLBACK_MIB="$2"; shift ;;
        --small-secs) SMALL_SECS="$2"; shift ;;
        --small-clients) SMALL_CLIENTS="$2"; shift ;;
        --fsync-secs) FSYNC_SECS="$2"; shift ;;
        --rows) ROWS="$2"; shift ;;
        --citizens) CITIZENS="$2"; shift ;;
        --lm-docs) LM_DOCS="$2"; shift ;;
        --lm-iterations) LM_ITER="$2"; shift ;;
        --mem-clients) MEM_CLIENTS="$2"; shift ;;
        --mem-mb) MEM_MB="$2"; shift ;;
        --load-clients) LOAD_CLIENTS="$2"; shift ;;
        --load-secs) LOAD_SECS="$2"; shift ;;
        --no-s3) USE_S3=0 ;;
        --no-build) BUILD=0 ;;
        --bin-dir) BIN_DIR="$2"; shift ;;
        --keep) KEEP=1 ;;
        --no-copy) COPY=0 ;;
        --copy) FORCE_COPY=1 ;;
        -h | --help) usage; exit 0 ;;
        *) printf '==> ERROR: unknown argument %q\n' "$1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
CITIZENS="${CITIZENS:-$((ROWS / 10))}"
# A development run does not replace the committed report unless asked to.
if [ "$QUICK" -eq 1 ]; then COPY=0; fi
if [ "$FORCE_COPY" -eq 1 ]; then COPY=1; fi
[ "$CITIZENS" -ge 1 ] || CITIZENS=1

if [ "$ONLY" = all ]; then
    SELECTED="$ALL_BENCHES"
else
    SELECTED="${ONLY//,/ }"
    for b in $SELECTED; do
        case " $ALL_BENCHES " in *" $b "*) ;; *) fail "unknown benchmark '$b' (one of: $ALL_BENCHES)"; exit 2 ;; esac
    done
    COPY=0
fi
selected() { case " $SELECTED " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# The download measures the large upload's document.
if selected download && ! selected large-upload; then SELECTED="large-upload $SELECTED"; fi

# What is below the issue's targets, for the report's REDUCED label.
REDUCTIONS=()
reduced_if() { # reduced_if BENCH VALUE TARGET LABEL
    if selected "$1" && [ "$2" -lt "$3" ]; then REDUCTIONS+=("$4 $2 (target $3)"); fi
}
reduced_if large-upload "$LARGE_MIB" "$FULL_LARGE_MIB" "large upload MiB"
reduced_if small-uploads "$SMALL_SECS" "$FULL_SMALL_SECS" "small-upload seconds"
reduced_if small-uploads "$SMALL_CLIENTS" "$FULL_SMALL_CLIENTS" "small-upload clients"
reduced_if small-uploads "$FSYNC_SECS" "$FULL_FSYNC_SECS" "fsync baseline seconds"
reduced_if list-match "$ROWS" "$FULL_ROWS" "documents in the database"
reduced_if list-match "$CITIZENS" "$((FULL_ROWS / 10))" "citizens in the database"
reduced_if list-match "$LM_DOCS" "$FULL_LM_DOCS" "measured citizen's documents"
reduced_if memory "$MEM_CLIENTS" "$FULL_MEM_CLIENTS" "memory clients"
reduced_if memory "$MEM_MB" "$FULL_MEM_MB" "memory upload MB"
reduced_if load "$LOAD_CLIENTS" "$FULL_LOAD_CLIENTS" "load clients"
reduced_if load "$LOAD_SECS" "$FULL_LOAD_SECS" "load seconds"
if selected small-uploads && [ "$USE_S3" -eq 0 ]; then REDUCTIONS+=("no S3 baseline (--no-s3)"); fi

RUN_START=$SECONDS
STAGES=()
stage_start=0
stage() { say "$*"; stage_start=$SECONDS; }
stage_done() { STAGES+=("$1 $((SECONDS - stage_start))s"); say "$1 done in $((SECONDS - stage_start))s"; }
# bench_step NAME COMMAND...: a failing benchmark is reported as failed; the others still run.
FAILED=()
bench_step() {
    local name="$1"
    shift
    if ! "$@" 2> >(tee "$RESULTS/$name.log" >&2); then
        warn "$name failed (see $RESULTS/$name.log)"
        sleep 0.2
        tail -n 5 "$RESULTS/$name.log" >"$RESULTS/$name.failed" || true
        FAILED+=("$name")
    fi
}

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
WORK="$(mktemp -d "$OUT/work.XXXXXX")"
DATA="$WORK/data"
LOG="$WORK/liasse.log"
TOKENS="$WORK/tokens"
mkdir -p "$DATA" "$TOKENS"
chmod 700 "$TOKENS"

SERVER_PID=""
PORT=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server || true
    stop_all || true
    if [ "$rc" -ne 0 ] && [ -f "$LOG" ]; then
        warn "the run failed (exit $rc); last lines of the server log:"
        tail -n 20 "$LOG" >&2 || true
    fi
    if [ "$KEEP" -eq 1 ] || [ "$rc" -ne 0 ]; then
        say "Work directory kept: $WORK"
        rm -f "$WORK"/*.pdf 2>/dev/null || true
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
services_init
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ build
stage "Building liasse and liasse-bench (release)"
# s3s-fs (the S3 server of the tests, for the plain-PUT baseline) builds beside the workspace
# when it is not cached yet: the long single-threaded phases of each build leave a core free.
S3S_BUILD_PID=""
if selected small-uploads && [ "$USE_S3" -eq 1 ]; then
    ensure_s3s_fs >"$OUT/s3s-fs-build.log" 2>&1 &
    S3S_BUILD_PID=$!
fi
if [ "$BUILD" -eq 1 ]; then
    (cd "$REPO" && cargo build --release --locked --timings -p liasse -p liasse-bench)
fi
# The longest single crate of that build (cargo's timing report), for the report's build line.
BUILD_LONGEST=""
if [ "$BUILD" -eq 1 ] && [ -f "$REPO/target/cargo-timings/cargo-timing.html" ]; then
    BUILD_LONGEST="$(python3 - "$REPO/target/cargo-timings/cargo-timing.html" <<'PY' || true
import json, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S)
units = json.loads(m.group(1)) if m else []
units = [u for u in units if u.get("mode") != "run-custom-build"]
if units:
    u = max(units, key=lambda u: u["duration"])
    print(f"{u['name']} {u['duration']:.0f} s")
PY
)"
fi
BIN_DIR="${BIN_DIR:-$REPO/target/release}"
LIASSE="$BIN_DIR/liasse"
LB="$BIN_DIR/liasse-bench"
if [ ! -x "$LIASSE" ] || [ ! -x "$LB" ]; then fail "no liasse or liasse-bench in $BIN_DIR" || exit 1; fi
if [ -n "$S3S_BUILD_PID" ] && ! wait "$S3S_BUILD_PID"; then
    tail -n 20 "$OUT/s3s-fs-build.log" >&2
    fail "building s3s-fs failed (log: $OUT/s3s-fs-build.log); --no-s3 skips the S3 baseline" || exit 1
fi
stage_done build
BUILD_SECS=$((SECONDS - stage_start))

"$LB" machine --dir "$DATA" --out "$RESULTS/machine.json"

# ------------------------------------------------------------------ set-up
liasse() { LIASSE_LOG_FORMAT=text RUST_LOG=warn "$LIASSE" --data-dir "$DATA" "$@"; }

stage "Creating the tenant, accounts and tokens with the CLI"
NEED_CITIZENS=1
for n in "$SMALL_CLIENTS:small-uploads" "$MEM_CLIENTS:memory" "$LOAD_CLIENTS:load"; do
    if selected "${n#*:}" && [ "${n%%:*}" -gt "$NEED_CITIZENS" ]; then NEED_CITIZENS="${n%%:*}"; fi
done
liasse tenant create bench --name "Ville de Banc-d'Essai" --with-catalogue >/dev/null
liasse user create --tenant bench --login admin --role admin >/dev/null
liasse token create --tenant bench --login admin >"$TOKENS/admin"
liasse user create --tenant bench --login agent --role agent --right bench=modify \
    --name "Agent du banc d'essai" --service "Service des démarches" >/dev/null
liasse token create --tenant bench --login agent >"$TOKENS/agent"
liasse user create --tenant bench --login mesure --role citizen >/dev/null
liasse token create --tenant bench --login mesure >"$TOKENS/measured"
: >"$TOKENS/citizens"
for ((i = 0; i < NEED_CITIZENS; i++)); do
    login="$(printf 'citoyen-%03d' "$i")"
    liasse user create --tenant bench --login "$login" --role citizen >/dev/null
    liasse token create --tenant bench --login "$login" >>"$TOKENS/citizens"
done
head -n 1 "$TOKENS/citizens" >"$TOKENS/large"
stage_done "setup ($NEED_CITIZENS citizens)"

sql() { # sql QUERY: one value from the database
    if command -v sqlite3 >/dev/null 2>&1; then
        sqlite3 "$DATA/liasse.db" "$1"
    else
        python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])' "$DATA/liasse.db" "$1"
    fi
}

SEED_SECS=0
if selected list-match; then
    stage "Inserting $CITIZENS citizens and $ROWS documents in bulk (bench/seed.sql)"
    tenant_id="$(sql "SELECT id FROM tenants WHERE slug = 'bench'")"
    script="$(sed -e "s/@TENANT@/$tenant_id/g" -e "s/@CITIZENS@/$CITIZENS/g" -e "s/@DOCUMENTS@/$ROWS/g" "$BENCH/seed.sql")"
    if command -v sqlite3 >/dev/null 2>&1; then
        printf '%s\n' "$script" | sqlite3 -bail "$DATA/liasse.db" >/dev/null
    else
        printf '%s\n' "$script" | python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None); c.executescript(sys.stdin.read()); c.close()' "$DATA/liasse.db"
    fi
    SEED_SECS=$((SECONDS - stage_start))
    stage_done "bulk rows"
fi

# ------------------------------------------------------------------ server
start_server() {
    PORT="$(free_port)"
    # Every bench client is 127.0.0.1, standing for many users: lift the per-client cap.
    LIASSE_MAX_UPLOAD_BYTES=2147483648 LIASSE_RUNNER_INTERVAL_SECS=0 RUST_LOG=warn \
        LIASSE_MAX_IN_FLIGHT_PER_CLIENT=100000 \
        "$LIASSE" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" >>"$LOG" 2>&1 &
    SERVER_PID=$!
    local i
    for ((i = 0; i < 300; i++)); do
        if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
            SERVER="http://127.0.0.1:$PORT"
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "liasse serve did not start (log: $LOG)"
    return 1
}
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        local i
        for ((i = 0; i < 300; i++)); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
restart_server() { stop_server; start_server; }

start_server
"$LB" setup --server "$SERVER" --admin-token-file "$TOKENS/admin"

# ------------------------------------------------------------------ benchmarks
if selected large-upload; then
    stage "Large upload (${LARGE_MIB} MiB)"
    restart_server
    bench_step large-upload "$LB" large-upload --server "$SERVER" --token-file "$TOKENS/large" --dir "$WORK" \
        --size $((LARGE_MIB << 20)) --fallback-size $((FALLBACK_MIB << 20)) --pid "$SERVER_PID" \
        --out "$RESULTS/large-upload.json"
    stage_done large-upload
fi

if selected download; then
    stage "Download"
    bench_step download "$LB" download --server "$SERVER" --token-file "$TOKENS/large" \
        --from "$RESULTS/large-upload.json" --out "$RESULTS/download.json"
    stage_done download
fi
rm -f "$WORK"/*.pdf

if selected small-uploads; then
    stage "Small uploads ($SMALL_CLIENTS clients, ${SMALL_SECS}s)"
    restart_server
    if [ "$USE_S3" -eq 1 ]; then
        start_s3
    fi
    head -n "$SMALL_CLIENTS" "$TOKENS/citizens" >"$TOKENS/small"
    bench_step small-uploads "$LB" small-uploads --server "$SERVER" --tokens-file "$TOKENS/small" --dir "$WORK" \
        --clients "$SMALL_CLIENTS" --secs "$SMALL_SECS" --fsync-secs "$FSYNC_SECS" \
        --out "$RESULTS/small-uploads.json"
    if [ "$USE_S3" -eq 1 ]; then
        stop_s3
        rm -rf "${RUN_DIR:?}/s3"
    fi
    stage_done small-uploads
fi

if selected list-match; then
    stage "List and match"
    restart_server
    db_citizens="$(sql "SELECT count(*) FROM accounts WHERE role = 'citizen'")"
    db_documents="$(sql "SELECT count(*) FROM documents")"
    bench_step list-match "$LB" list-match --server "$SERVER" --token-file "$TOKENS/measured" --docs "$LM_DOCS" \
        --iterations "$LM_ITER" --db-citizens "$db_citizens" --db-documents "$db_documents" \
        --seed-secs "$SEED_SECS" --out "$RESULTS/list-match.json"
    stage_done list-match
fi

if selected memory; then
    stage "Memory ($MEM_CLIENTS × ${MEM_MB} MB)"
    restart_server
    bench_step memory "$LB" memory --server "$SERVER" --tokens-file "$TOKENS/citizens" --pid "$SERVER_PID" \
        --clients "$MEM_CLIENTS" --size $((MEM_MB * 1000000)) --out "$RESULTS/memory.json"
    stage_done memory
fi

if selected load; then
    stage "Load ($LOAD_CLIENTS clients, ${LOAD_SECS}s)"
    restart_server
    head -n "$LOAD_CLIENTS" "$TOKENS/citizens" >"$TOKENS/load"
    bench_step load "$LB" load --server "$SERVER" --tokens-file "$TOKENS/load" --agent-token-file "$TOKENS/agent" \
        --clients "$LOAD_CLIENTS" --secs "$LOAD_SECS" --grant-until "$(date -d '+30 days' +%F)" \
        --out "$RESULTS/load.json"
    stage_done load
fi
stop_server

if selected sweep; then
    # The expiry sweep benchmark of the life-cycle work (bench/sweep.sh alone), in-process on
    # generated SQLite vaults; its report goes to this run's results, so that a sweep run by
    # hand at the same time cannot mix its report with this one.
    stage "Expiry sweep (liasse-bench sweep, as bench/sweep.sh)"
    sweep_args=()
    if [ "$QUICK" -eq 1 ]; then
        sweep_args=(--sizes "10000,100000")
        REDUCTIONS+=("sweep vault sizes 10000,100000 (target 100000,1000000)")
    fi
    bench_step sweep "$LB" sweep --out "$RESULTS/sweep.md" "${sweep_args[@]}" >/dev/null
    stage_done sweep
fi

# ------------------------------------------------------------------ report
commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty=0
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then dirty=1; fi
reductions=""
if [ "${#REDUCTIONS[@]}" -gt 0 ]; then reductions="$(IFS=';'; echo "${REDUCTIONS[*]}" | sed 's/;/; /g')"; fi
{
    echo "command=bench/run.sh ${ARGS[*]}"
    echo "only=$ONLY"
    echo "commit=$commit"
    echo "dirty=$dirty"
    echo "finished_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "reduced=$([ "${#REDUCTIONS[@]}" -gt 0 ] && echo 1 || echo 0)"
    echo "reductions=$reductions"
    echo "build_secs=$BUILD_SECS"
    echo "build_longest=$BUILD_LONGEST"
    echo "built=$BUILD"
    echo "total_secs=$((SECONDS - RUN_START))"
    echo "stages=$(IFS=';'; echo "${STAGES[*]}" | sed 's/;/, /g')"
    echo "large_mib=$LARGE_MIB"
    echo "fallback_mib=$FALLBACK_MIB"
    echo "small_clients=$SMALL_CLIENTS"
    echo "small_secs=$SMALL_SECS"
    echo "rows=$ROWS"
    echo "citizens=$CITIZENS"
    echo "mem_clients=$MEM_CLIENTS"
    echo "mem_mb=$MEM_MB"
    echo "load_clients=$LOAD_CLIENTS"
    echo "load_secs=$LOAD_SECS"
} >"$RESULTS/run.txt"
# The last long fuzz run and API fuzzing run, recorded by their own scripts, go in the report
# under a heading that says they were not measured by this run.
for recorded in FUZZ.md:fuzz.md api-fuzz.md:api-fuzz.md; do
    if [ -f "$BENCH/${recorded%%:*}" ]; then cp "$BENCH/${recorded%%:*}" "$RESULTS/${recorded#*:}"; fi
done
"$LB" report --results "$RESULTS" --out "$OUT"
if [ "${#FAILED[@]}" -gt 0 ]; then
    warn "failed: ${FAILED[*]} (the report says so); not copying the report to bench/"
    COPY=0
fi
if [ "$COPY" -eq 1 ]; then
    cp "$OUT/REPORT.md" "$BENCH/REPORT.md"
    cp "$OUT/report.json" "$BENCH/report.json"
    say "Report: bench/REPORT.md (and bench/report.json), also in $OUT/"
else
    say "Report: $OUT/REPORT.md and $OUT/report.json (not copied to bench/: partial run or --no-copy)"
fi
say "Total time: $((SECONDS - RUN_START))s"
[ "${#FAILED[@]}" -eq 0 ]
