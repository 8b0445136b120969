#!/usr/bin/env bash
#
# The demo with federated login: starts the test OpenID Connect providers (tools/oidc-provider,
# one like FranceConnect v2, one like ProConnect) on loopback, runs `liasse demo`, and registers
# both providers for the demo tenant, as a commune does with its own services.
#
# Usage: scripts/demo-franceconnect.sh [--listen 127.0.0.1:8080] [--data-dir DIR]
#   then open http://127.0.0.1:8080/connexion and click "S'identifier avec FranceConnect":
#   citizens angela, pierre, lucie; on ProConnect the agent agent@blois.fr (a staff account
#   `jmartin` is created for it); every password is liasse-test. Ctrl-C stops everything.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/services.sh
source "$REPO/scripts/lib/services.sh"

listen="127.0.0.1:8080"
data_dir=""
while [ "$#" -gt 0 ]; do
    case "$1" in
        --listen) listen="$2"; shift ;;
        --data-dir) data_dir="$2"; shift ;;
        -h | --help) sed -n '3,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) fail "unknown argument $1"; exit 2 ;;
    esac
    shift
done

services_init
liasse_pid=""
cleanup() {
    if [ -n "$liasse_pid" ]; then kill "$liasse_pid" 2>/dev/null || true; fi
    stop_all
}
trap cleanup EXIT
start_oidc

cd "$REPO"
say "Building liasse (release)"
cargo build --release --locked -p liasse
bin="$REPO/target/release/liasse"
[ -n "$data_dir" ] || data_dir="$RUN_DIR/data"
args=(--data-dir "$data_dir")
"$bin" "${args[@]}" demo --listen "$listen" &
liasse_pid=$!
wait_for_port "${listen##*:}" 60 "$liasse_pid" || { fail "liasse demo did not start"; exit 1; }

printf '%s\n' "$LIASSE_TEST_OIDC_CLIENT_SECRET" >"$RUN_DIR/client-secret"
chmod 600 "$RUN_DIR/client-secret"
"$bin" "${args[@]}" tenant identity-provider set demo franceconnect --issuer "$LIASSE_TEST_FC_ISSUER" \
    --client-id "$LIASSE_TEST_OIDC_CLIENT_ID" --client-secret-file "$RUN_DIR/client-secret"
"$bin" "${args[@]}" tenant identity-provider set demo proconnect --issuer "$LIASSE_TEST_PC_ISSUER" \
    --client-id "$LIASSE_TEST_OIDC_CLIENT_ID" --client-secret-file "$RUN_DIR/client-secret"
"$bin" "${args[@]}" user create --tenant demo --login jmartin --role agent --name "Jean MARTIN" \
    --email agent@blois.fr --service "Scolarité" --right scolaire=modify >/dev/null 2>&1 || true

say "Open http://$listen/connexion — FranceConnect: angela, pierre or lucie; ProConnect: agent@blois.fr; password liasse-test"
say "Press Ctrl-C to stop."
wait "$liasse_pid"
