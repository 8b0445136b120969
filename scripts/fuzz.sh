#!/usr/bin/env bash
#
# Builds Liasse's fuzz targets (fuzz/, cargo-fuzz + libFuzzer on the nightly toolchain, with
# AddressSanitizer and debug assertions) and runs each one for a while. Any input that makes
# a target crash, time out or run out of memory is copied into fuzz/regressions/TARGET/ and
# the script fails; inputs already there are replayed first on every run.
#
# Usage:
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   scripts/fuzz.sh --build-only           install what is missing and build the targets
#       SECONDS_PER_TARGET   default 30 (what scripts/test.sh runs); the long runs use 600
#       TARGET...            default: every target (cargo fuzz list)
#
# Environment:
#   LIASSE_CACHE_DIR=DIR     where cargo-fuzz is installed, under tools/ (default:
#                            ~/.cache/liasse, see scripts/lib/services.sh)
#   LIASSE_FUZZ_JOBS=N       libFuzzer processes per target (default 1)
#   LIASSE_FUZZ_RSS_MB=N     memory limit per process before an input counts as a crash
#                            (default 4096; the inspector's own budget is 512 MiB)
#   LIASSE_FUZZ_TIMEOUT=S    seconds one input may take before it counts as a crash (default 30)
#   LIASSE_FUZZ_RECORD=FILE  also record the results in FILE (Markdown): one row per target,
#                            with its date, commit and load; rows of targets not run this time
#                            are kept. How bench/FUZZ.md is made.
#
# Corpora grow in fuzz/corpus/TARGET (not committed); fuzz/seeds/TARGET holds the committed
# starting inputs. Logs and artifacts go to fuzz/artifacts/. At the end the script prints a
# Markdown table of the runs (for bench/reliability.md).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/services.sh
source "$REPO/scripts/lib/services.sh"

CARGO_FUZZ_VERSION="0.13.1"
FUZZ_DIR="$REPO/fuzz"

usage() { sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

seconds=30
build_only=0
if [ "$#" -gt 0 ]; then
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --build-only) build_only=1; shift ;;
        *[!0-9]* | "") fail "SECONDS_PER_TARGET must be a number, not '$1'"; usage >&2; exit 2 ;;
        *) seconds="$1"; shift ;;
    esac
fi
jobs="${LIASSE_FUZZ_JOBS:-1}"
rss_mb="${LIASSE_FUZZ_RSS_MB:-4096}"
timeout_s="${LIASSE_FUZZ_TIMEOUT:-30}"

# ------------------------------------------------------------------ tools
command -v rustup >/dev/null 2>&1 || { fail "rustup is needed for the nightly toolchain"; exit 1; }
if ! rustup toolchain list | grep -q '^nightly'; then
    say "Installing the nightly toolchain (cargo-fuzz needs it)"
    rustup toolchain install nightly --profile minimal
fi
fuzz_bin="$CACHE/tools/bin/cargo-fuzz"
if [ ! -x "$fuzz_bin" ] || ! "$fuzz_bin" --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    say "Installing cargo-fuzz $CARGO_FUZZ_VERSION into $CACHE/tools (once, about 2 minutes)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked \
        --root "$CACHE/tools" --force >&2 || { fail "cargo install cargo-fuzz failed"; exit 1; }
fi
export PATH="$CACHE/tools/bin:$PATH"

cd "$FUZZ_DIR"
# The same flags for build and run, so that `cargo fuzz run` does not rebuild.
build_flags=(+nightly fuzz build --debug-assertions)
run_flags=(+nightly fuzz run --debug-assertions)

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$REPO" diff --quiet HEAD -- crates fuzz 2>/dev/null || commit="$commit+changes"

start=$SECONDS
say "Building the fuzz targets (release, AddressSanitizer, debug assertions)"
cargo "${build_flags[@]}" >&2
build_secs=$((SECONDS - start))
say "Fuzz targets built in ${build_secs}s"
[ "$build_only" -eq 0 ] || exit 0

# -------------------------------------------------------------------- runs
mkdir -p artifacts
failed=()
rows=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    inputs=("corpus/$t")
    [ -d "seeds/$t" ] && inputs+=("seeds/$t")
    [ -d "regressions/$t" ] && inputs+=("regressions/$t")
    log="artifacts/$t.log"
    say "Fuzzing $t for ${seconds}s (log: fuzz/$log)"
    started="$(date -u +%Y-%m-%dT%H:%MZ)"
    load="$(cut -d' ' -f1 /proc/loadavg)"
    parallel=()
    [ "$jobs" -gt 1 ] && parallel=(-fork="$jobs")
    rc=0
    cargo "${run_flags[@]}" "$t" "${inputs[@]}" -- \
        -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" \
        "${parallel[@]}" -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || rc=$?
    runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')"
    [ "$runs" -gt 0 ] || runs="$(grep -Eo '#[0-9]+' "$log" | tail -n 1 | tr -d '#')"
    corpus="$(find "corpus/$t" -type f | wc -l)"
    found=()
    for a in "artifacts/$t"/crash-* "artifacts/$t"/timeout-* "artifacts/$t"/oom-* "artifacts/$t"/leak-*; do
        [ -f "$a" ] || continue
        mkdir -p "regressions/$t"
        cp "$a" "regressions/$t/"
        found+=("fuzz/regressions/$t/$(basename "$a")")
        rm -f "$a"
    done
    if [ "$rc" -ne 0 ] || [ "${#found[@]}" -gt 0 ]; then
        grep -E 'panicked|ERROR: |SUMMARY' "$log" | head -n 5 >&2 || true
        failed+=("$t (exit $rc; ${found[*]:-no artifact, see fuzz/$log})")
        status="FAILED: ${#found[@]} input(s)"
    else
        status="clean"
    fi
    rows+=("| $t | $started | \`$commit\` | $seconds | $runs | $((runs / (seconds > 0 ? seconds : 1))) | $corpus | $load | $status |")
    say "$t: $runs runs, corpus $corpus, $status"
done

HEADER="| target | started (UTC) | commit | seconds | runs | runs/s | corpus | load at start | result |"
table() {
    echo "$HEADER"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "$@"
}
echo
echo "Fuzzing on $(nproc) CPU(s), ${jobs} process(es) per target, build ${build_secs}s:"
echo
table "${rows[@]}"
echo
if [ -n "${LIASSE_FUZZ_RECORD:-}" ]; then
    # Rows of targets not run this time stay as they were.
    kept=()
    if [ -f "$LIASSE_FUZZ_RECORD" ]; then
        while IFS= read -r line; do
            name="$(echo "$line" | cut -d'|' -f2 | tr -d ' ')"
            case " ${targets[*]} " in *" $name "*) continue ;; esac
            kept+=("$line")
        done < <(grep -E '^\| [a-z_]+ \| [0-9]{4}-' "$LIASSE_FUZZ_RECORD")
    fi
    mapfile -t all < <(printf '%s\n' "${kept[@]}" "${rows[@]}" | grep . | sort)
    {
        echo "# Fuzzing: last long runs"
        echo
        echo "Written by \`LIASSE_FUZZ_RECORD=bench/$(basename "$LIASSE_FUZZ_RECORD") scripts/fuzz.sh SECONDS [TARGET...]\`:"
        echo "one row per target, from the last run of that target; every figure comes from that run."
        echo "Each target is a cargo-fuzz (libFuzzer) target built with AddressSanitizer and debug"
        echo "assertions; \"clean\" means no crash, no timeout (${timeout_s} s per input), no input over"
        echo "${rss_mb} MB and no leak. Runs/s depends on what else ran on the machine (load at start)."
        echo "Machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')."
        echo "How to run them: [reliability.md](reliability.md#fuzzing)."
        echo
        table "${all[@]}"
    } >"$LIASSE_FUZZ_RECORD"
    say "Results recorded in $LIASSE_FUZZ_RECORD"
fi

if [ "${#failed[@]}" -gt 0 ]; then
    for f in "${failed[@]}"; do fail "fuzz target $f" || true; done
    fail "reproduce with: cd fuzz && cargo +nightly fuzz run --debug-assertions TARGET regressions/TARGET/FILE; then fix, and add the input to the crate's regression tests"
    exit 1
fi
say "Fuzzing OK in $((SECONDS - start))s"
