#!/usr/bin/env bash
#
# Fuzzes the HTTP API against its own OpenAPI document (/api/v1/openapi.json) with
# schemathesis: every operation, once per token (citizen, agent, manager, admin), on a
# throw-away `liasse serve` loaded with demo-like data. Writes bench/api-fuzz.md and
# bench/api-fuzz.json and exits non-zero when any failure remains.
#
# Usage:
#   scripts/api-fuzz.sh [options]
#       --max-examples N   test cases per operation and phase (default 40)
#       --seed N           schemathesis/hypothesis seed (default 20261126)
#       --only ROLES       comma-separated subset of: citizen,agent,manager,admin (the report
#                          then goes to bench/out/api-fuzz/ only)
#       --no-build         use target/release/liasse as it is
#       --keep             keep the data directory (bench/out/api-fuzz/data)
#
# What it does: builds `liasse` (cargo build --release --locked), creates a Python venv under
# ~/.cache/liasse/tools/api-fuzz-venv with schemathesis and its dependencies pinned (below), creates a
# fresh data directory with a tenant `fuzz` (French catalogue), a citizen, an agent
# (scolaire=modify, etat-civil=consult), a manager (scolaire=manage) and an admin, each with a
# token (`liasse tenant create`, `liasse user create`, `liasse token create`), starts
# `liasse serve` on a free loopback port, and loads data through the API
# (scripts/lib/api_fuzz.py seed): the demo procedures, a household with a child, documents
# (PDF and PNG, one with two versions), two shares, a request submitted to the agent's domain
# and a draft. The real ids go into a schemathesis configuration that feeds them to the path
# parameters (75 % of the cases; the rest are generated), DELETE routes getting their own
# throw-away ids. Then one schemathesis run per token, in the order citizen, agent, manager,
# admin (the admin may withdraw document types, so it comes last), with every phase
# (examples, coverage, fuzzing, stateful).
#
# Checks: all of schemathesis's checks except
#   positive_data_acceptance  it expects every schema-valid request to succeed, but the server
#                             also checks what a JSON schema cannot say: that a procedure,
#                             document or household member exists, that a share names a
#                             domain or a client but not both, that dates lie in the future, that
#                             a condition parses, that a file's bytes are a PDF or an image. Such
#                             requests are rightly refused with a 400/415/422 problem.
#   max_response_time         a benchmark matter (bench/run.sh), not a conformance one.
# object_level_authorization stays in the list but only acts when one run holds several
# identities; each run here has one token, so cross-account reads are left to the access walk
# of crates/liasse/tests/it/access.rs (every route, every foreign identity).
# Every operation of the document is run, destructive ones included (it is a throw-away data
# directory). No operation can invalidate the bearer tokens (the API has no route that
# revokes a token or deletes an account; DELETE /session only ends a cookie session), so none
# is excluded.
#
# Results: bench/api-fuzz.md (for people) and bench/api-fuzz.json (for programs); logs and
# schemathesis's own reports per token in bench/out/api-fuzz/ (not committed). A run takes
# about 5 minutes on 2 cores once the binary is built (about a minute per token).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/services.sh
source "$REPO/scripts/lib/services.sh"

usage() { sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

SCHEMATHESIS_VERSION="4.32.5"
# schemathesis and everything it pulls in, pinned, so that a seed gives the same cases.
PIP_PACKAGES=(
    "schemathesis==$SCHEMATHESIS_VERSION" "anyio==4.16.0" "certifi==2026.10.19.post1"
    "charset-normalizer==3.5.3" "click==8.5.1" "graphql-core==3.3.2" "harfile==0.6.0"
    "hypothesis==6.170.17" "hypothesis-graphql==0.13.5" "idna==3.20" "iniconfig==2.3.1"
    "jsonschema_rs==0.60.3" "markdown-it-py==4.3.0" "MarkupSafe==3.0.4" "mdurl==0.1.2"
    "packaging==26.4" "pluggy==1.7.0" "Pygments==2.21.0" "pyrate-limiter==4.5.1"
    "pytest==9.2.0" "PyYAML==6.0.4" "requests==2.34.2" "rich==15.0.0"
    "sortedcontainers==2.4.0" "typing_extensions==4.16.0" "urllib3==2.8.0" "Werkzeug==3.1.9"
)
ALL_ROLES="citizen agent manager admin"
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,missing_required_header,unsupported_method,allow_header_conformance,use_after_free,ensure_resource_availability,ignored_auth,object_level_authorization"
EXCLUDED="positive_data_acceptance,max_response_time"
PHASES="examples,coverage,fuzzing,stateful"

MAX_EXAMPLES=40 SEED=20261126 ONLY="" BUILD=1 KEEP=0
while [ "$#" -gt 0 ]; do
    case "$1" in
        --max-examples) MAX_EXAMPLES="$2"; shift ;;
        --seed) SEED="$2"; shift ;;
        --only) ONLY="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) printf '==> ERROR: unknown argument %q\n' "$1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case "$MAX_EXAMPLES$SEED" in *[!0-9]*) fail "--max-examples and --seed take numbers"; exit 2 ;; esac
ROLES="$ALL_ROLES"
if [ -n "$ONLY" ]; then
    ROLES="${ONLY//,/ }"
    for r in $ROLES; do
        case " $ALL_ROLES " in *" $r "*) ;; *) fail "unknown role '$r' (one of: $ALL_ROLES)"; exit 2 ;; esac
    done
fi

OUT="${LIASSE_API_FUZZ_OUT:-$REPO/bench/out/api-fuzz}"
RESULT_DIR="$REPO/bench"
[ -z "$ONLY" ] || RESULT_DIR="$OUT"
STARTED=$SECONDS
DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
# The machine, for the report (the bench report quotes it: when, at which commit, where).
MACHINE="$(
    cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
    mem="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null)"
    printf '%s, %s cores, %s memory, Linux %s, load average %s at the start' \
        "${cpu:-unknown CPU}" "$(nproc 2>/dev/null || echo '?')" "${mem:-?}" "$(uname -r)" \
        "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
)"

rm -rf "$OUT"
mkdir -p "$OUT"
DATA="$(mktemp -d "${TMPDIR:-/tmp}/liasse-api-fuzz.XXXXXX")"
TOKENS="$OUT/tokens"
mkdir -p "$TOKENS"
chmod 700 "$TOKENS"
LOG="$OUT/liasse.log"

SERVER_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TOKENS"
    if [ "$KEEP" -eq 1 ]; then
        mv "$DATA" "$OUT/data" && say "Data directory kept: $OUT/data"
    else
        rm -rf "$DATA"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ tools
VENV="$CACHE/tools/api-fuzz-venv"
if [ ! -x "$VENV/bin/schemathesis" ] ||
    [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
    ensure_command python3 python3
    say "Installing schemathesis $SCHEMATHESIS_VERSION into $VENV (once, under a minute)"
    rm -rf "$VENV"
    mkdir -p "$CACHE/tools"
    if ! python3 -m venv "$VENV" >&2; then
        ensure_apt_packages python3-venv
        python3 -m venv "$VENV" >&2 || { fail "python3 -m venv $VENV failed"; exit 1; }
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}" >&2 ||
        { fail "pip install schemathesis==$SCHEMATHESIS_VERSION failed"; exit 1; }
fi
PY="$VENV/bin/python"
ST="$VENV/bin/schemathesis"

if [ "$BUILD" -eq 1 ]; then
    say "Building liasse (release)"
    (cd "$REPO" && cargo build --release --locked -p liasse --bin liasse)
fi
LIASSE_BIN="$REPO/target/release/liasse"
[ -x "$LIASSE_BIN" ] || { fail "no $LIASSE_BIN (run without --no-build)"; exit 1; }
COMMIT="$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
# Uncommitted changes under crates/ change the binary under test: the report lists where.
DIRTY="$(git -C "$REPO" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null |
    awk '{print $NF}' | cut -d/ -f1-2 | sort -u | paste -sd, -)"

# ------------------------------------------------------------------ set-up
liasse() { LIASSE_LOG_FORMAT=text RUST_LOG=warn "$LIASSE_BIN" --data-dir "$DATA" "$@"; }

say "Creating the tenant, accounts and tokens with the CLI (data in $DATA)"
liasse tenant create fuzz --name "Ville de Fuzz" --with-catalogue >/dev/null 2>&1
liasse user create --tenant fuzz --login camille --role citizen --name "Camille Martin" \
    --email camille@example.org >/dev/null
liasse user create --tenant fuzz --login agent --role agent --name "Dominique Petit" \
    --service "Service scolaire" --right scolaire=modify --right etat-civil=consult >/dev/null
liasse user create --tenant fuzz --login responsable --role manager --name "Alix Robert" \
    --service "Service scolaire" --right scolaire=manage >/dev/null
liasse user create --tenant fuzz --login admin --role admin --name "Administratrice" >/dev/null
liasse token create --tenant fuzz --login camille >"$TOKENS/citizen"
liasse token create --tenant fuzz --login agent >"$TOKENS/agent"
liasse token create --tenant fuzz --login responsable >"$TOKENS/manager"
liasse token create --tenant fuzz --login admin >"$TOKENS/admin"

PORT="$(free_port)"
SERVER="http://127.0.0.1:$PORT"
say "Starting liasse serve on $SERVER"
LIASSE_RUNNER_INTERVAL_SECS=0 RUST_LOG=warn LIASSE_LOG_FORMAT=text \
    "$LIASSE_BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SERVER_PID=$!
if ! wait_for_port "$PORT" 30 "$SERVER_PID"; then
    tail -n 20 "$LOG" >&2 || true
    fail "liasse serve did not start (log: $LOG)"
    exit 1
fi

say "Loading demo-like data through the API"
"$PY" "$REPO/scripts/lib/api_fuzz.py" seed --server "$SERVER" --tokens "$TOKENS" \
    --procedures "$REPO/crates/liasse-domain/src/procedures.json" \
    --out "$OUT/seed.json" --config "$OUT/schemathesis.toml"

# ------------------------------------------------------------------ runs
metrics() { curl -fsS "$SERVER/metrics" >"$1" || : >"$1"; }
FAILED=0
for role in $ROLES; do
    dir="$OUT/$role"
    mkdir -p "$dir"
    say "schemathesis, $role token ($MAX_EXAMPLES examples per operation and phase, seed $SEED)"
    metrics "$dir/metrics.before"
    rc=0
    (
        cd "$dir"
        "$ST" --config-file "$OUT/schemathesis.toml" run "$SERVER/api/v1/openapi.json" \
            -H "Authorization: Bearer $(cat "$TOKENS/$role")" \
            --checks "$CHECKS" --phases "$PHASES" \
            --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 \
            --generation-database none --request-timeout 60 --no-color \
            --report json --report-dir "$dir/report"
    ) >"$dir/schemathesis.log" 2>&1 || rc=$?
    metrics "$dir/metrics.after"
    sed -n '/= SUMMARY =/,$p' "$dir/schemathesis.log" | grep -v '^ *$' >&2 || true
    if [ "$rc" -ne 0 ]; then
        warn "$role: schemathesis exited with $rc (log: $dir/schemathesis.log)"
        FAILED=1
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { fail "liasse serve died during the $role run (log: $LOG)"; exit 1; }
done

# ------------------------------------------------------------------ report
mkdir -p "$RESULT_DIR"
"$PY" "$REPO/scripts/lib/api_fuzz.py" report --runs "$OUT" --roles "${ROLES// /,}" \
    --out-md "$RESULT_DIR/api-fuzz.md" --out-json "$RESULT_DIR/api-fuzz.json" --seed "$OUT/seed.json" \
    --commit "$COMMIT" --dirty "$DIRTY" --version "$SCHEMATHESIS_VERSION" --date "$DATE" \
    --seed-value "$SEED" --max-examples "$MAX_EXAMPLES" --checks "$CHECKS" --excluded "$EXCLUDED" \
    --phases "$PHASES" --wall-seconds "$((SECONDS - STARTED))" --machine "$MACHINE"
say "Results: $RESULT_DIR/api-fuzz.md and $RESULT_DIR/api-fuzz.json (logs in $OUT)"
if grep -qi 'ERROR\|panicked' "$LOG"; then
    warn "the server logged errors during the run (see $LOG)"
fi
if [ "$FAILED" -ne 0 ]; then
    fail "failures remain (see $RESULT_DIR/api-fuzz.md)"
    exit 1
fi
say "No failure"
