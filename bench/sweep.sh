#!/usr/bin/env bash
#
# The sweep benchmark: one day's sweep on SQLite vaults of 100 000 and 1 000 000
# documents with the same number due that day, to show that the sweep's cost follows
# the due documents, not the vault (see crates/liasse-bench/src/sweep.rs).
# Writes bench/out/sweep.md.  About a minute on 2 cores once built.
#
# Usage: bench/sweep.sh [--sizes N,N,...] [--due N]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
mkdir -p bench/out
# Built with the same packages as bench/run.sh, so that neither rebuilds the other's crates.
cargo build --release --locked -p liasse -p liasse-bench
"$REPO/target/release/liasse-bench" sweep --out "$REPO/bench/out/sweep.md" "$@"
