#!/usr/bin/env bash
#
# Liasse's whole test run: formatting, clippy, then the workspace's tests
# against real servers (PostgreSQL 15, an S3 server, s3s-fs, an SMTP sink,
# aiosmtpd, two OpenID Connect providers, tools/oidc-provider, and Debian's
# clamd with a signature database generated offline) started here
# on loopback and stopped at the end.  Installs what is
# missing (Debian packages with apt-get, s3s-fs built once into ~/.cache/liasse/tools,
# aiosmtpd pinned in a venv there).
#
# Usage:
#   scripts/test.sh                    everything (what CI runs, via .ci/run)
#   scripts/test.sh -- ARGS...         pass ARGS to the test runner
#                                      (cargo nextest run / cargo test), e.g.
#                                      scripts/test.sh -- -p liasse-store some_test
#   scripts/test.sh --services-only    start the servers, print their `export`
#                                      lines and wait (Ctrl-C stops them), to run
#                                      `cargo test` by hand in another shell
#
# Environment:
#   LIASSE_SKIP_LINT=1       skip both cargo fmt and cargo clippy
#   LIASSE_SKIP_FMT=1        skip cargo fmt --check
#   LIASSE_SKIP_CLIPPY=1     skip cargo clippy
#   LIASSE_SKIP_TESTS=1      skip the tests (and the servers)
#   LIASSE_SKIP_E2E=1        skip the browser tests of the web pages (e2e/)
#   LIASSE_SKIP_FUZZ=1       skip the short fuzz run (scripts/fuzz.sh, 30 s per target;
#                            also skipped when test-runner arguments are given)
#   LIASSE_FUZZ_SECONDS=N    seconds per fuzz target (default 30)
#   LIASSE_SKIP_SERVICES=1   run the tests without starting servers (tests that
#                            need one then skip: LIASSE_TEST_REQUIRE_SERVERS unset)
#   LIASSE_TEST_RUNNER=nextest|cargo-test   force the test runner
#                            (default: nextest when installed)
#   LIASSE_CACHE_DIR=DIR     where built tools are kept (default: ~/.cache/liasse, shared by
#                            every clone; tools are pinned and checked before use)
#   LIASSE_KEEP_RUN_DIR=1    keep the servers' temp dir after the run
#
# Exported to the tests:
#   LIASSE_TEST_PG_URL           postgres://liasse@127.0.0.1:PORT/postgres
#   LIASSE_TEST_S3_ENDPOINT      http://127.0.0.1:PORT (path-style requests)
#   LIASSE_TEST_S3_BUCKET        liasse-test
#   LIASSE_TEST_S3_ACCESS_KEY    random per run
#   LIASSE_TEST_S3_SECRET_KEY    random per run
#   LIASSE_TEST_S3_REGION        us-east-1
#   LIASSE_TEST_SMTP_URL         smtp://127.0.0.1:PORT (accepts every message, no TLS)
#   LIASSE_TEST_SMTP_DIR         where the SMTP sink writes each message (NAME.json, NAME.eml)
#   LIASSE_TEST_FC_ISSUER        http://127.0.0.1:PORT/api/v2, an oidc-provider like FranceConnect v2
#   LIASSE_TEST_PC_ISSUER        http://127.0.0.1:PORT/api/v2, an oidc-provider like ProConnect
#   LIASSE_TEST_OIDC_CLIENT_ID   the client registered on both (loopback redirect URIs, any port;
#   LIASSE_TEST_OIDC_CLIENT_SECRET  see tools/oidc-provider/server.mjs for the users and the
#   LIASSE_TEST_OIDC_PASSWORD       USER+MODE logins that make the provider misbehave)
#   LIASSE_TEST_PG_DATA          PostgreSQL's data directory, and
#   LIASSE_TEST_S3_DIR           the S3 server's (s3s-fs) root: tests look into their files
#   LIASSE_TEST_CLAMD_ADDR       127.0.0.1:PORT, clamd (INSTREAM) with only the generated signatures:
#                                the EICAR test string (anywhere in a file) and the MD5 of
#   LIASSE_TEST_CLAMD_SIGNED_FILE   this file, a PNG made for the run
#   LIASSE_TEST_REQUIRE_SERVERS  1: a test that needs a server fails instead of skipping
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/services.sh
source "$REPO/scripts/lib/services.sh"
ARTIFACTS="$REPO/test-artifacts"

usage() { sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

services_only=0
runner_args=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --services-only) services_only=1 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; runner_args=("$@"); break ;;
        *) printf '==> ERROR: unknown argument %q (test-runner arguments go after --)\n' "$1" >&2
           usage >&2; exit 2 ;;
    esac
    shift
done

is_set() { [ "${!1:-0}" = 1 ]; }

step_start=0
step() { say "$*"; step_start=$SECONDS; }
step_done() { say "$1 done in $((SECONDS - step_start))s"; }

sleep_pid=""
e2e_pid=""
fuzz_pid=""
s3s_build_pid=""
stop_s3s_build() {
    if [ -n "$s3s_build_pid" ]; then
        pkill -P "$s3s_build_pid" 2>/dev/null || true
        kill "$s3s_build_pid" 2>/dev/null || true
    fi
}
on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    stop_s3s_build
    if [ -n "$sleep_pid" ]; then kill "$sleep_pid" 2>/dev/null || true; fi
    if [ -n "$e2e_pid" ]; then kill "$e2e_pid" 2>/dev/null || true; fi
    if [ -n "$fuzz_pid" ]; then kill -- "-$fuzz_pid" 2>/dev/null || true; fi
    if [ "$services_only" -eq 1 ] && { [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; }; then
        # --services-only: Ctrl-C / TERM is the normal way to end.
        stop_all
        say "Servers stopped"
        exit 0
    fi
    if [ "$rc" -ne 0 ] && [ "${#SERVICES_STARTED[@]}" -gt 0 ]; then
        stop_all "$ARTIFACTS"
        say "FAILED (exit code $rc); server logs are in $ARTIFACTS/"
    else
        stop_all
        if [ "$rc" -ne 0 ]; then say "FAILED (exit code $rc)"; fi
    fi
    exit "$rc"
}

cd "$REPO"
command -v cargo >/dev/null 2>&1 || { fail "cargo is not on the PATH (install Rust with rustup)"; exit 1; }
total_start=$SECONDS

if [ "$services_only" -eq 0 ]; then
    [ -f Cargo.lock ] || { fail "Cargo.lock is missing: the build uses --locked; run 'cargo generate-lockfile' and commit it"; exit 1; }

    # On a fresh clone the S3 server of the tests is built from source: start that build now,
    # beside fmt and clippy, whose single-threaded phases leave a core idle. start_s3 below
    # waits for it (ensure_s3s_fs finds the binary once it is there).
    if ! is_set LIASSE_SKIP_SERVICES && ! is_set LIASSE_SKIP_TESTS; then
        mkdir -p "$ARTIFACTS"
        ensure_s3s_fs >"$ARTIFACTS/s3s-fs-build.log" 2>&1 &
        s3s_build_pid=$!
        trap stop_s3s_build EXIT
    fi

    if ! is_set LIASSE_SKIP_LINT && ! is_set LIASSE_SKIP_FMT; then
        step "cargo fmt --all -- --check"
        cargo fmt --all -- --check || { fail "formatting differs: run 'cargo fmt --all'"; exit 1; }
        step_done "cargo fmt"
    fi
    if ! is_set LIASSE_SKIP_LINT && ! is_set LIASSE_SKIP_CLIPPY; then
        step "cargo clippy --workspace --all-targets --locked -- -D warnings"
        cargo clippy --workspace --all-targets --locked -- -D warnings
        step_done "cargo clippy"
    fi
    if is_set LIASSE_SKIP_TESTS; then
        say "Skipping tests (LIASSE_SKIP_TESTS=1)"
        say "OK in $((SECONDS - total_start))s"
        exit 0
    fi
fi

# ------------------------------------------------------------------ servers
if is_set LIASSE_SKIP_SERVICES && [ "$services_only" -eq 0 ]; then
    say "Not starting servers (LIASSE_SKIP_SERVICES=1): tests that need one will skip"
    unset LIASSE_TEST_REQUIRE_SERVERS
else
    rm -f "$ARTIFACTS/initdb.log" "$ARTIFACTS/postgres.log" "$ARTIFACTS/s3s-fs.log" "$ARTIFACTS/smtp.log" "$ARTIFACTS/clamd.log"
    services_init
    trap on_exit EXIT
    step "Starting servers in $RUN_DIR"
    start_postgres
    if [ -n "$s3s_build_pid" ]; then
        if ! wait "$s3s_build_pid"; then
            tail -n 30 "$ARTIFACTS/s3s-fs-build.log" >&2
            fail "building s3s-fs failed: see $ARTIFACTS/s3s-fs-build.log"
            exit 1
        fi
        s3s_build_pid=""
    fi
    start_s3
    start_smtp
    start_oidc
    start_clamd
    export LIASSE_TEST_REQUIRE_SERVERS=1
    step_done "Starting servers"
fi

if [ "$services_only" -eq 1 ]; then
    print_service_exports >"$RUN_DIR/env.sh"
    chmod 600 "$RUN_DIR/env.sh"
    say "Servers are running. In another shell, paste these lines (or: source $RUN_DIR/env.sh):"
    echo
    cat "$RUN_DIR/env.sh"
    echo
    say "Logs: $RUN_DIR/pg/postgres.log, $RUN_DIR/s3s-fs.log, $RUN_DIR/smtp.log, $RUN_DIR/oidc-provider.log"
    say "Press Ctrl-C to stop the servers."
    while true; do
        sleep 3600 &
        sleep_pid=$!
        wait "$sleep_pid" || true
    done
fi

# -------------------------------------------------------------------- tests
runner="${LIASSE_TEST_RUNNER:-}"
if [ -z "$runner" ]; then
    if cargo nextest --version >/dev/null 2>&1; then
        runner=nextest
    else
        runner=cargo-test
        say "cargo-nextest not found: using cargo test"
    fi
fi
case "$runner" in
    nextest) test_cmd=(cargo nextest run --workspace --locked) ;;
    cargo-test) test_cmd=(cargo test --workspace --locked) ;;
    *) fail "LIASSE_TEST_RUNNER must be nextest or cargo-test, not '$runner'"; exit 2 ;;
esac

step "${test_cmd[*]} ${runner_args[*]}"
"${test_cmd[@]}" "${runner_args[@]}"
step_done "Tests"

# ------------------------------------------------------------------ fuzzing
# A short run of every cargo-fuzz target (fuzz/, nightly, AddressSanitizer): a crash fails
# the run and is kept in fuzz/regressions/. The long runs are in fuzz/README.md. The targets
# are built here, with both cores; the runs (one process, one core) then go on in the
# background beside the browser tests below, and their result is awaited at the end.
fuzz_log="$ARTIFACTS/fuzz.log"
if is_set LIASSE_SKIP_FUZZ; then
    say "Skipping the fuzz run (LIASSE_SKIP_FUZZ=1)"
elif [ "${#runner_args[@]}" -gt 0 ]; then
    say "Skipping the fuzz run (test-runner arguments given)"
else
    step "Building the fuzz targets (scripts/fuzz.sh --build-only)"
    "$REPO/scripts/fuzz.sh" --build-only
    step_done "Fuzz build"
    say "Fuzzing, ${LIASSE_FUZZ_SECONDS:-30}s per target, in the background (log: $fuzz_log)"
    fuzz_started=$SECONDS
    mkdir -p "$ARTIFACTS"
    # Its own process group, so that a failure below stops the fuzzer too.
    setsid "$REPO/scripts/fuzz.sh" "${LIASSE_FUZZ_SECONDS:-30}" >"$fuzz_log" 2>&1 &
    fuzz_pid=$!
fi

# ------------------------------------------------------------ web pages (e2e)
# The citizen, agent and admin stories in headless Chromium (Debian's package:
# `npx playwright install` cannot run here), driven by playwright-core's library
# API, with axe-core on every page, on a phone and a desktop viewport, against
# `liasse demo` on a free port and a throw-away data directory. Screenshots and
# the report go to test-artifacts/e2e/.
if is_set LIASSE_SKIP_E2E; then
    say "Skipping the browser tests (LIASSE_SKIP_E2E=1)"
else
    step "End-to-end tests of the web pages (Playwright + axe-core)"
    ensure_apt_packages chromium
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || ensure_apt_packages nodejs npm
    (cd "$REPO/e2e" && npm ci --no-audit --no-fund --loglevel=error)
    # The `liasse` binary of the test build (the same command is a no-op after the tests; a
    # plain `cargo build -p liasse` would rebuild it with other features).
    cargo test --workspace --locked --no-run --quiet
    rm -rf "$ARTIFACTS/e2e"
    mkdir -p "$ARTIFACTS/e2e"
    e2e_data="$(mktemp -d)"
    e2e_port="$(free_port)"
    "$REPO/target/debug/liasse" --data-dir "$e2e_data" demo --listen "127.0.0.1:$e2e_port" \
        >"$ARTIFACTS/e2e/liasse.log" 2>&1 &
    e2e_pid=$!
    wait_for_port "$e2e_port" 60 "$e2e_pid" ||
        { fail "liasse demo did not start: see $ARTIFACTS/e2e/liasse.log"; exit 1; }
    # The demo tenant's FranceConnect service, at the test provider (the FranceConnect story).
    e2e_fc=()
    if [ -n "${LIASSE_TEST_FC_ISSUER:-}" ]; then
        printf '%s\n' "$LIASSE_TEST_OIDC_CLIENT_SECRET" >"$e2e_data/fc-secret"
        "$REPO/target/debug/liasse" --data-dir "$e2e_data" tenant identity-provider set demo franceconnect \
            --issuer "$LIASSE_TEST_FC_ISSUER" --client-id "$LIASSE_TEST_OIDC_CLIENT_ID" \
            --client-secret-file "$e2e_data/fc-secret" >>"$ARTIFACTS/e2e/liasse.log" 2>&1 ||
            { fail "could not register the test FranceConnect for the demo: see $ARTIFACTS/e2e/liasse.log"; exit 1; }
        e2e_fc=(E2E_FC_USER=lucie "E2E_FC_PASSWORD=${LIASSE_TEST_OIDC_PASSWORD:-liasse-test}")
    fi
    e2e_rc=0
    env "${e2e_fc[@]}" LIASSE_URL="http://127.0.0.1:$e2e_port" E2E_ARTIFACTS="$ARTIFACTS/e2e" CHROMIUM=/usr/bin/chromium \
        node "$REPO/e2e/run.js" || e2e_rc=$?
    kill "$e2e_pid" 2>/dev/null || true
    wait "$e2e_pid" 2>/dev/null || true
    e2e_pid=""
    rm -rf "$e2e_data"
    [ "$e2e_rc" -eq 0 ] || { fail "end-to-end tests failed: report and screenshots in $ARTIFACTS/e2e/"; exit 1; }
    step_done "End-to-end tests"
fi

if [ -n "$fuzz_pid" ]; then
    step "Waiting for the fuzz run"
    fuzz_rc=0
    wait "$fuzz_pid" || fuzz_rc=$?
    fuzz_pid=""
    grep -E '^\| |^==> ' "$fuzz_log" || true
    [ "$fuzz_rc" -eq 0 ] || { fail "the fuzz run failed (exit $fuzz_rc): see $fuzz_log"; exit 1; }
    say "Fuzzing done in $((SECONDS - fuzz_started))s (waited $((SECONDS - step_start))s)"
fi

say "OK in $((SECONDS - total_start))s"
