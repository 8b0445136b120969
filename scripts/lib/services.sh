# shellcheck shell=bash
#
# Helpers to install, start and stop the real servers that Liasse's tests and
# benchmarks run against (see DESIGN.md, "Testing with real parts").
#
# Source this file from a bash script; it sets no shell options of its own and
# works under `set -euo pipefail`.  Typical use:
#
#     source "$(dirname "$0")/lib/services.sh"
#     services_init            # creates $RUN_DIR, installs the traps
#     start_postgres           # exports LIASSE_TEST_PG_URL
#     start_s3                 # exports LIASSE_TEST_S3_*
#     start_smtp               # exports LIASSE_TEST_SMTP_URL, LIASSE_TEST_SMTP_DIR
#     start_oidc               # exports LIASSE_TEST_FC_ISSUER, LIASSE_TEST_PC_ISSUER, ...
#     ...                      # stop_all runs on exit, Ctrl-C or TERM
#
# Public functions:
#   free_port                  print a free TCP port on 127.0.0.1
#   ensure_apt_packages PKG..  install the Debian packages that are missing
#   services_init              create $RUN_DIR and install the EXIT/INT/TERM traps
#   start_postgres             throw-away PostgreSQL 15 on a free loopback port
#   start_s3                   s3s-fs on a free loopback port, bucket created
#   s3_request METHOD PATH [FILE]  SigV4-signed request to the S3 server
#   start_smtp                 an SMTP sink (aiosmtpd) on a free loopback port that
#                              writes each message into a directory
#   start_oidc                 two OpenID Connect providers (tools/oidc-provider: like
#                              FranceConnect v2 and like ProConnect) on free loopback ports
#   start_clamd                Debian's clamd on a free loopback port, with a signature
#                              database generated here (no download): a test file's MD5
#                              and the EICAR test string
#   print_service_exports      print the `export ...` lines of the started services
#   stop_all [ARTIFACT_DIR]    stop every server, copy logs to ARTIFACT_DIR if
#                              given, remove $RUN_DIR (idempotent)
#
# Settings (environment):
#   LIASSE_CACHE_DIR   where built tools are kept (default: ~/.cache/liasse, or
#                      $XDG_CACHE_HOME/liasse; $REPO/.cache when there is no home)
#   LIASSE_PG_BIN      PostgreSQL binaries (default: /usr/lib/postgresql/15/bin)
#   LIASSE_KEEP_RUN_DIR=1  keep $RUN_DIR after stopping (for debugging)

SERVICES_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Tools are pinned by version and checked before use, so one cache serves every clone on the
# machine: a fresh clone does not rebuild s3s-fs or cargo-fuzz (minutes each on 2 cores).
if [ -n "${LIASSE_CACHE_DIR:-}" ]; then
    CACHE="$LIASSE_CACHE_DIR"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
    CACHE="$XDG_CACHE_HOME/liasse"
elif [ -n "${HOME:-}" ] && [ -d "$HOME" ] && [ -w "$HOME" ]; then
    CACHE="$HOME/.cache/liasse"
else
    CACHE="$SERVICES_REPO/.cache"
fi
PG_BIN="${LIASSE_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_APT_PACKAGE="postgresql-15"
S3S_FS_VERSION="0.14.1"
S3_BUCKET="liasse-test"
S3_REGION="us-east-1"
# The SMTP sink's Python packages, pinned (installed once into a venv under $CACHE).
SMTP_PIP_PACKAGES=("aiosmtpd==1.4.6" "atpublic==9.0.0" "attrs==26.1.0")

RUN_DIR="${RUN_DIR:-}"
SERVICES_STOPPED=0
SERVICES_STARTED=()      # names, in start order
PG_OS_USER=""            # user the PostgreSQL server runs as ("" = current user)
PG_DATA=""
PG_PORT=""
S3_PORT=""
S3_PGID=""
SMTP_PGID=""
SMTP_PORT=""
OIDC_PGID=""
CLAMD_PGID=""
# Debian 12's ClamAV (the package's version is checked before use).
CLAMD_APT_PACKAGES=(clamav-daemon clamav)

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
fail() { printf '==> ERROR: %s\n' "$*" >&2; return 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        fail "need root to run '$*', and sudo is not installed"
    fi
}

# ensure_apt_packages PKG...: install (from Debian's packages) those of PKG
# that are not installed yet.  Does nothing when all are installed.
ensure_apt_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 ||
        fail "missing packages (${missing[*]}) and apt-get is not available; install them by hand"
    say "Installing system packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        fail "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        fail "apt-get install ${missing[*]} failed"
}

# ensure_command CMD PKG: install PKG when CMD is not on the PATH.
ensure_command() {
    command -v "$1" >/dev/null 2>&1 || ensure_apt_packages "$2"
}

# free_port: print a TCP port that is free on 127.0.0.1 right now.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
        return
    fi
    # Fallback: a random high port that nothing answers on.
    local port i
    for i in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
        : "$i"
    done
    fail "could not find a free port"
}

# wait_for_port PORT SECONDS [PID]: wait until something accepts connections
# on 127.0.0.1:PORT; give up early if PID dies.
wait_for_port() {
    local port="$1" timeout="$2" pid="${3:-}" i
    for ((i = 0; i < timeout * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
    return 1
}

random_hex() { # random_hex NBYTES
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# services_init: create $RUN_DIR and install traps so that stop_all runs on
# exit, Ctrl-C and TERM.  Call once, before starting anything.  A script that
# needs its own EXIT trap should call stop_all from it instead.
services_init() {
    if [ -z "$RUN_DIR" ]; then
        RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/liasse-test.XXXXXX")"
    fi
    mkdir -p "$RUN_DIR"
    export RUN_DIR
    trap 'stop_all' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# ---------------------------------------------------------------- PostgreSQL

pg_run() { # run a PostgreSQL binary as the server's user
    if [ -n "$PG_OS_USER" ]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

# start_postgres: initdb + start a PostgreSQL 15 server in $RUN_DIR/pg, on a
# free port of 127.0.0.1, user `liasse` with trust auth, fsync off.
# Exports LIASSE_TEST_PG_URL; sets PG_PORT, PG_DATA, PG_SOCKET_DIR.
start_postgres() {
    [ -n "$RUN_DIR" ] || fail "start_postgres: call services_init first" || return 1
    if [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/pg_isready" ]; then
        ensure_apt_packages "$PG_APT_PACKAGE" || return 1
        [ -x "$PG_BIN/postgres" ] || fail "no PostgreSQL server in $PG_BIN after installing $PG_APT_PACKAGE" || return 1
    fi

    local pgdir="$RUN_DIR/pg"
    mkdir -p "$pgdir"
    PG_OS_USER=""
    if is_root; then
        # PostgreSQL refuses to run as root: use the Debian package's user, or a
        # dedicated system user when that does not exist.
        if id -u postgres >/dev/null 2>&1; then
            PG_OS_USER=postgres
        else
            PG_OS_USER=liasse-pg
            if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
                say "Creating system user $PG_OS_USER to run PostgreSQL"
                useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER" ||
                    fail "could not create user $PG_OS_USER" || return 1
            fi
        fi
        chmod 711 "$RUN_DIR"
        chown "$PG_OS_USER" "$pgdir"
        runuser -u "$PG_OS_USER" -- test -w "$pgdir" ||
            fail "user $PG_OS_USER cannot reach $pgdir (is TMPDIR=${TMPDIR:-/tmp} private?)" || return 1
    fi

    PG_DATA="$pgdir/data"
    PG_SOCKET_DIR="$pgdir"
    PG_PORT="$(free_port)" || return 1
    SERVICES_STARTED+=(postgres)

    say "Starting PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (data in $PG_DATA)"
    if ! pg_run "$PG_BIN/initdb" --pgdata="$PG_DATA" --username=liasse --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$pgdir/initdb.log" 2>&1; then
        cat "$pgdir/initdb.log" >&2
        fail "initdb failed (log: $pgdir/initdb.log)"
        return 1
    fi
    if ! pg_run "$PG_BIN/pg_ctl" start --pgdata="$PG_DATA" --log="$pgdir/postgres.log" \
        --wait --timeout=60 --silent \
        -o "-p $PG_PORT -k $PG_SOCKET_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"; then
        tail -n 50 "$pgdir/postgres.log" >&2 || true
        fail "PostgreSQL did not start (log: $pgdir/postgres.log)"
        return 1
    fi
    local i
    for ((i = 0; i < 300; i++)); do
        if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U liasse -d postgres; then
            break
        fi
        sleep 0.1
    done
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U liasse -d postgres ||
        fail "PostgreSQL is not ready on port $PG_PORT (log: $pgdir/postgres.log)" || return 1

    export PG_PORT PG_DATA PG_SOCKET_DIR
    export LIASSE_TEST_PG_URL="postgres://liasse@127.0.0.1:$PG_PORT/postgres"
    # Where the server keeps its files (tests look into them for clear bytes).
    export LIASSE_TEST_PG_DATA="$PG_DATA"
}

stop_postgres() {
    [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
    local pid
    pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
    say "Stopping PostgreSQL"
    if ! pg_run "$PG_BIN/pg_ctl" stop --pgdata="$PG_DATA" --mode=fast --wait --timeout=30 --silent 2>/dev/null; then
        warn "pg_ctl stop failed; killing PostgreSQL"
        # pg_ctl starts the postmaster in its own session: kill the whole group.
        if [ -n "$pid" ]; then
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
}

# ----------------------------------------------------------------------- S3

# ensure_s3s_fs: build s3s-fs once into $CACHE/tools and print its path.
ensure_s3s_fs() {
    local bin="$CACHE/tools/bin/s3s-fs"
    if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -qxF "s3s-fs $S3S_FS_VERSION"; then
        say "Building s3s-fs $S3S_FS_VERSION into $CACHE/tools (once; about 8 minutes on 2 cores)"
        # A test server needs no peak speed: a lighter release profile shortens the build.
        CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
        CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=false \
        cargo install s3s-fs --version "$S3S_FS_VERSION" --locked --features binary \
            --root "$CACHE/tools" --force >&2 ||
            fail "cargo install s3s-fs failed" || return 1
    fi
    echo "$bin"
}

# s3_request METHOD PATH [BODY_FILE]: a SigV4-signed path-style request to the
# S3 server started by start_s3 (python3 standard library only).  Prints the
# response body; fails on an HTTP status >= 300.
#   s3_request GET "/$LIASSE_TEST_S3_BUCKET?list-type=2"
s3_request() {
    python3 - "$@" <<'PY'
import datetime, hashlib, hmac, os, sys, urllib.error, urllib.parse, urllib.request

method, path = sys.argv[1], sys.argv[2]
body = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else b""
endpoint = os.environ["LIASSE_TEST_S3_ENDPOINT"]
region = os.environ["LIASSE_TEST_S3_REGION"]
ak = os.environ["LIASSE_TEST_S3_ACCESS_KEY"]
sk = os.environ["LIASSE_TEST_S3_SECRET_KEY"]

url = urllib.parse.urlsplit(endpoint + path)
host = url.netloc
now = datetime.datetime.now(datetime.timezone.utc)
amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
payload_hash = hashlib.sha256(body).hexdigest()
quote = lambda s, safe: urllib.parse.quote(s, safe=safe)
canonical_uri = quote(urllib.parse.unquote(url.path or "/"), "/-_.~")
query = sorted(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
canonical_query = "&".join(f"{quote(k, '-_.~')}={quote(v, '-_.~')}" for k, v in query)
headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
signed = ";".join(sorted(headers))
canonical_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers))
canonical = "\n".join([method, canonical_uri, canonical_query, canonical_headers, signed, payload_hash])
scope = f"{day}/{region}/s3/aws4_request"
to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
key = ("AWS4" + sk).encode()
for part in (day, region, "s3", "aws4_request"):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
headers["authorization"] = (
    f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders={signed}, Signature={signature}"
)
del headers["host"]
target = urllib.parse.urlunsplit((url.scheme, url.netloc, canonical_uri, canonical_query, ""))
req = urllib.request.Request(target, data=body if body or method in ("PUT", "POST") else None,
                             method=method, headers=headers)
try:
    with urllib.request.urlopen(req, timeout=30) as resp:
        sys.stdout.buffer.write(resp.read())
except urllib.error.HTTPError as e:
    sys.stderr.write(f"S3 {method} {path}: HTTP {e.code}\n{e.read().decode(errors='replace')}\n")
    sys.exit(1)
PY
}

# start_s3: start s3s-fs serving $RUN_DIR/s3 on a free port of 127.0.0.1 with
# random keys, and create the bucket.  Exports LIASSE_TEST_S3_ENDPOINT,
# LIASSE_TEST_S3_BUCKET, LIASSE_TEST_S3_ACCESS_KEY, LIASSE_TEST_S3_SECRET_KEY,
# LIASSE_TEST_S3_REGION.
start_s3() {
    [ -n "$RUN_DIR" ] || fail "start_s3: call services_init first" || return 1
    ensure_command python3 python3 || return 1
    local bin
    bin="$(ensure_s3s_fs)" || return 1

    local dir="$RUN_DIR/s3" log="$RUN_DIR/s3s-fs.log"
    mkdir -p "$dir/$S3_BUCKET" # for s3s-fs a bucket is a sub-directory of its root
    S3_PORT="$(free_port)" || return 1
    local access_key secret_key
    access_key="LIASSE$(random_hex 7 | tr 'a-f' 'A-F')"
    secret_key="$(random_hex 20)"
    SERVICES_STARTED+=(s3)

    say "Starting s3s-fs on 127.0.0.1:$S3_PORT (data in $dir)"
    # A new session, so that stop_all can kill the whole process group.  The
    # wrapper writes its own pid (= the group id) before exec'ing the server.
    # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
    RUST_LOG="${RUST_LOG_S3:-info}" setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ \
        "$RUN_DIR/s3s-fs.pid" "$bin" --host 127.0.0.1 --port "$S3_PORT" \
        --access-key "$access_key" --secret-key "$secret_key" "$dir" \
        </dev/null >"$log" 2>&1 &
    local i
    for ((i = 0; i < 50; i++)); do
        [ -s "$RUN_DIR/s3s-fs.pid" ] && break
        sleep 0.1
    done
    S3_PGID="$(cat "$RUN_DIR/s3s-fs.pid" 2>/dev/null || true)"
    if ! wait_for_port "$S3_PORT" 30 "$S3_PGID"; then
        tail -n 50 "$log" >&2 || true
        fail "s3s-fs did not start (log: $log)"
        return 1
    fi

    export S3_PORT
    export LIASSE_TEST_S3_DIR="$dir"
    export LIASSE_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
    export LIASSE_TEST_S3_BUCKET="$S3_BUCKET"
    export LIASSE_TEST_S3_ACCESS_KEY="$access_key"
    export LIASSE_TEST_S3_SECRET_KEY="$secret_key"
    export LIASSE_TEST_S3_REGION="$S3_REGION"

    # Check that the keys work and the bucket exists.
    s3_request HEAD "/$S3_BUCKET" >/dev/null ||
        fail "signed HEAD /$S3_BUCKET to s3s-fs failed (log: $log)" || return 1
}

stop_s3() {
    [ -n "$S3_PGID" ] || return 0
    kill -0 -- "-$S3_PGID" 2>/dev/null || { S3_PGID=""; return 0; }
    say "Stopping s3s-fs"
    kill -TERM -- "-$S3_PGID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 -- "-$S3_PGID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$S3_PGID" 2>/dev/null || true
    S3_PGID=""
}

# --------------------------------------------------------------------- SMTP

# ensure_smtp_venv: create $CACHE/tools/smtp-venv with the pinned aiosmtpd once,
# and print its python.
ensure_smtp_venv() {
    local venv="$CACHE/tools/smtp-venv"
    local py="$venv/bin/python"
    if [ -x "$py" ] && "$py" -c 'import sys, aiosmtpd; sys.exit(aiosmtpd.__version__ != "1.4.6")' 2>/dev/null; then
        echo "$py"
        return 0
    fi
    ensure_command python3 python3 || return 1
    say "Installing ${SMTP_PIP_PACKAGES[*]} into $venv (once)"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >&2; then
        ensure_apt_packages python3-venv || return 1
        python3 -m venv "$venv" >&2 || fail "python3 -m venv $venv failed" || return 1
    fi
    "$venv/bin/python" -m pip install --quiet "${SMTP_PIP_PACKAGES[@]}" >&2 ||
        fail "pip install ${SMTP_PIP_PACKAGES[*]} failed" || return 1
    echo "$py"
}

# start_smtp: start scripts/lib/smtp_sink.py on a free port of 127.0.0.1; every
# message it accepts is written into $RUN_DIR/smtp/mail.  Exports
# LIASSE_TEST_SMTP_URL (smtp://127.0.0.1:PORT, no TLS) and LIASSE_TEST_SMTP_DIR.
start_smtp() {
    [ -n "$RUN_DIR" ] || fail "start_smtp: call services_init first" || return 1
    local py
    py="$(ensure_smtp_venv)" || return 1
    local dir="$RUN_DIR/smtp/mail" log="$RUN_DIR/smtp.log"
    mkdir -p "$dir"
    SMTP_PORT="$(free_port)" || return 1
    SERVICES_STARTED+=(smtp)
    say "Starting the SMTP sink (aiosmtpd) on 127.0.0.1:$SMTP_PORT (mail in $dir)"
    # A new session, so that stop_smtp can kill the whole process group.
    # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ \
        "$RUN_DIR/smtp.pid" "$py" "$SERVICES_REPO/scripts/lib/smtp_sink.py" \
        --port "$SMTP_PORT" --dir "$dir" </dev/null >"$log" 2>&1 &
    local i
    for ((i = 0; i < 50; i++)); do
        [ -s "$RUN_DIR/smtp.pid" ] && break
        sleep 0.1
    done
    SMTP_PGID="$(cat "$RUN_DIR/smtp.pid" 2>/dev/null || true)"
    if ! wait_for_port "$SMTP_PORT" 30 "$SMTP_PGID"; then
        tail -n 50 "$log" >&2 || true
        fail "the SMTP sink did not start (log: $log)"
        return 1
    fi
    export SMTP_PORT
    export LIASSE_TEST_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
    export LIASSE_TEST_SMTP_DIR="$dir"
}

stop_smtp() {
    [ -n "$SMTP_PGID" ] || return 0
    kill -0 -- "-$SMTP_PGID" 2>/dev/null || { SMTP_PGID=""; return 0; }
    say "Stopping the SMTP sink"
    kill -TERM -- "-$SMTP_PGID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 -- "-$SMTP_PGID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$SMTP_PGID" 2>/dev/null || true
    SMTP_PGID=""
}

# --------------------------------------------------------------------- OIDC

# start_oidc: `npm ci` tools/oidc-provider (its package-lock.json pins oidc-provider; npm's
# cache makes later runs offline), then start its two providers on free ports of 127.0.0.1
# with one client registered on both. Exports:
#   LIASSE_TEST_FC_ISSUER, LIASSE_TEST_PC_ISSUER   the issuers (http://127.0.0.1:PORT/api/v2)
#   LIASSE_TEST_OIDC_CLIENT_ID, LIASSE_TEST_OIDC_CLIENT_SECRET   the client (secret random per run)
#   LIASSE_TEST_OIDC_PASSWORD   the test users' password
# The client is a "native" one: its loopback redirect URIs match on any port (RFC 8252).
# Misbehaviours: log in as USER+MODE (tools/oidc-provider/server.mjs lists the modes).
start_oidc() {
    [ -n "$RUN_DIR" ] || fail "start_oidc: call services_init first" || return 1
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
        ensure_apt_packages nodejs npm || return 1
    local dir="$SERVICES_REPO/tools/oidc-provider" log="$RUN_DIR/oidc-provider.log"
    if ! [ -f "$dir/node_modules/.package-lock.json" ] ||
        ! cmp -s <(sed -n '/"node_modules\/oidc-provider"/,/}/p' "$dir/package-lock.json") \
            <(sed -n '/"node_modules\/oidc-provider"/,/}/p' "$dir/node_modules/.package-lock.json"); then
        say "Installing tools/oidc-provider (npm ci, pinned by its package-lock.json)"
        (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2) ||
            fail "npm ci in $dir failed" || return 1
    fi
    local fc_port pc_port
    fc_port="$(free_port)" || return 1
    pc_port="$(free_port)" || return 1
    LIASSE_TEST_OIDC_CLIENT_ID="liasse-test"
    LIASSE_TEST_OIDC_CLIENT_SECRET="$(random_hex 24)"
    local clients
    clients="$(printf '[{"client_id":"%s","client_secret":"%s","redirect_uris":%s,"post_logout_redirect_uris":%s}]' \
        "$LIASSE_TEST_OIDC_CLIENT_ID" "$LIASSE_TEST_OIDC_CLIENT_SECRET" \
        '["http://127.0.0.1/oidc/callback","http://127.0.0.1/auth/franceconnect/callback","http://127.0.0.1/auth/proconnect/callback"]' \
        '["http://127.0.0.1/","http://127.0.0.1/oidc/logged-out","http://127.0.0.1/auth/logged-out"]')"
    SERVICES_STARTED+=(oidc)
    say "Starting the OpenID Connect providers (oidc-provider) on 127.0.0.1:$fc_port (FranceConnect-like) and :$pc_port (ProConnect-like)"
    # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
    OIDC_CLIENTS="$clients" setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ \
        "$RUN_DIR/oidc.pid" node "$dir/server.mjs" --fc-port "$fc_port" --pc-port "$pc_port" \
        </dev/null >"$log" 2>&1 &
    local i
    for ((i = 0; i < 50; i++)); do
        [ -s "$RUN_DIR/oidc.pid" ] && break
        sleep 0.1
    done
    OIDC_PGID="$(cat "$RUN_DIR/oidc.pid" 2>/dev/null || true)"
    if ! wait_for_port "$fc_port" 30 "$OIDC_PGID" || ! wait_for_port "$pc_port" 30 "$OIDC_PGID"; then
        tail -n 50 "$log" >&2 || true
        fail "the OpenID Connect providers did not start (log: $log)"
        return 1
    fi
    export LIASSE_TEST_OIDC_CLIENT_ID LIASSE_TEST_OIDC_CLIENT_SECRET
    export LIASSE_TEST_FC_ISSUER="http://127.0.0.1:$fc_port/api/v2"
    export LIASSE_TEST_PC_ISSUER="http://127.0.0.1:$pc_port/api/v2"
    export LIASSE_TEST_OIDC_PASSWORD="liasse-test"
}

stop_oidc() {
    [ -n "$OIDC_PGID" ] || return 0
    kill -0 -- "-$OIDC_PGID" 2>/dev/null || { OIDC_PGID=""; return 0; }
    say "Stopping the OpenID Connect providers"
    kill -TERM -- "-$OIDC_PGID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 -- "-$OIDC_PGID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$OIDC_PGID" 2>/dev/null || true
    OIDC_PGID=""
}

# ------------------------------------------------------------------- clamd

# start_clamd: Debian's clamd in the foreground on a free port of 127.0.0.1, with its own
# configuration and a signature database generated offline in $RUN_DIR/clamd:
#   liasse-test.hdb   the MD5 of a PNG made here with a random text chunk (`sigtool --md5`),
#                     and of the EICAR test file itself
#   liasse-test.ndb   the EICAR test string's body, found anywhere in a file (so an EICAR
#                     string inside a PDF, past Liasse's own inspection, is caught)
# Exports LIASSE_TEST_CLAMD_ADDR (127.0.0.1:PORT) and LIASSE_TEST_CLAMD_SIGNED_FILE (the PNG
# whose signature the database holds).
start_clamd() {
    [ -n "$RUN_DIR" ] || fail "start_clamd: call services_init first" || return 1
    if ! command -v clamd >/dev/null 2>&1 && ! [ -x /usr/sbin/clamd ]; then
        ensure_apt_packages "${CLAMD_APT_PACKAGES[@]}" || return 1
    fi
    local clamd_bin sigtool_bin
    clamd_bin="$(command -v clamd || echo /usr/sbin/clamd)"
    sigtool_bin="$(command -v sigtool)" || fail "sigtool is missing (package clamav)" || return 1
    local dir="$RUN_DIR/clamd" log="$RUN_DIR/clamd.log"
    mkdir -p "$dir/db" "$dir/tmp"
    # The signed test file: a valid 1x1 PNG whose tEXt chunk makes it unique to this run.
    python3 - "$dir/signed.png" "$(random_hex 16)" <<'PY' || fail "could not write the signed test file" || return 1
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n"
png += chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
png += chunk(b"tEXt", b"Comment\0liasse-clamd-signed-" + sys.argv[2].encode())
png += chunk(b"IDAT", zlib.compress(b"\0\xff\x00\x00"))
png += chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
    # The EICAR test file, assembled here rather than stored in the repository.
    printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$dir/eicar.com"
    {
        (cd "$dir" && "$sigtool_bin" --md5 signed.png) | sed 's/:signed\.png$/:Liasse.Test.Signed/'
        (cd "$dir" && "$sigtool_bin" --md5 eicar.com) | sed 's/:eicar\.com$/:Liasse.Test.Eicar.File/'
    } >"$dir/db/liasse-test.hdb" || fail "sigtool --md5 failed" || return 1
    grep -q 'Liasse.Test.Signed' "$dir/db/liasse-test.hdb" || fail "sigtool wrote no signature" || return 1
    printf 'Liasse.Test.Eicar:0:*:%s\n' \
        "$(printf '%s' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' | od -An -tx1 | tr -d ' \n')" \
        >"$dir/db/liasse-test.ndb"
    CLAMD_PORT="$(free_port)" || return 1
    cat >"$dir/clamd.conf" <<CONF
Foreground yes
TCPSocket $CLAMD_PORT
TCPAddr 127.0.0.1
DatabaseDirectory $dir/db
TemporaryDirectory $dir/tmp
LogFile $log
LogTime yes
# Large enough for the tests' and the benchmark's uploads.
StreamMaxLength 1100M
MaxFileSize 1100M
MaxScanSize 1100M
MaxThreads 8
ReadTimeout 60
CONF
    if is_root; then
        # clamd drops to the user it is told to, which must own what it reads and writes.
        printf 'User root\n' >>"$dir/clamd.conf"
    fi
    SERVICES_STARTED+=(clamd)
    say "Starting clamd $("$clamd_bin" --version | awk '{print $2}' | cut -d/ -f1) on 127.0.0.1:$CLAMD_PORT (signatures generated in $dir/db)"
    # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ \
        "$RUN_DIR/clamd.pid" "$clamd_bin" --config-file="$dir/clamd.conf" \
        </dev/null >>"$log" 2>&1 &
    local i
    for ((i = 0; i < 50; i++)); do
        [ -s "$RUN_DIR/clamd.pid" ] && break
        sleep 0.1
    done
    CLAMD_PGID="$(cat "$RUN_DIR/clamd.pid" 2>/dev/null || true)"
    if ! wait_for_port "$CLAMD_PORT" 60 "$CLAMD_PGID"; then
        tail -n 50 "$log" >&2 || true
        fail "clamd did not start (log: $log)"
        return 1
    fi
    export CLAMD_PORT
    export LIASSE_TEST_CLAMD_ADDR="127.0.0.1:$CLAMD_PORT"
    export LIASSE_TEST_CLAMD_SIGNED_FILE="$dir/signed.png"
}

stop_clamd() {
    [ -n "$CLAMD_PGID" ] || return 0
    kill -0 -- "-$CLAMD_PGID" 2>/dev/null || { CLAMD_PGID=""; return 0; }
    say "Stopping clamd"
    kill -TERM -- "-$CLAMD_PGID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 -- "-$CLAMD_PGID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$CLAMD_PGID" 2>/dev/null || true
    CLAMD_PGID=""
}

# ------------------------------------------------------------------ common

# print_service_exports: the `export` lines a developer can paste in a shell.
print_service_exports() {
    local v
    for v in LIASSE_TEST_PG_URL LIASSE_TEST_S3_ENDPOINT LIASSE_TEST_S3_BUCKET \
        LIASSE_TEST_S3_ACCESS_KEY LIASSE_TEST_S3_SECRET_KEY LIASSE_TEST_S3_REGION \
        LIASSE_TEST_SMTP_URL LIASSE_TEST_SMTP_DIR LIASSE_TEST_FC_ISSUER LIASSE_TEST_PC_ISSUER \
        LIASSE_TEST_OIDC_CLIENT_ID LIASSE_TEST_OIDC_CLIENT_SECRET LIASSE_TEST_OIDC_PASSWORD \
        LIASSE_TEST_CLAMD_ADDR LIASSE_TEST_CLAMD_SIGNED_FILE LIASSE_TEST_PG_DATA LIASSE_TEST_S3_DIR \
        LIASSE_TEST_REQUIRE_SERVERS; do
        if [ -n "${!v:-}" ]; then
            printf 'export %s=%q\n' "$v" "${!v}"
        fi
    done
}

# stop_all [ARTIFACT_DIR]: stop every server started here (newest first), copy
# their logs into ARTIFACT_DIR when one is given, and remove $RUN_DIR.
stop_all() {
    local artifacts="${1:-}"
    [ "$SERVICES_STOPPED" -eq 1 ] && return 0
    SERVICES_STOPPED=1
    local i
    for ((i = ${#SERVICES_STARTED[@]} - 1; i >= 0; i--)); do
        case "${SERVICES_STARTED[$i]}" in
            postgres) stop_postgres || true ;;
            s3) stop_s3 || true ;;
            smtp) stop_smtp || true ;;
            oidc) stop_oidc || true ;;
            clamd) stop_clamd || true ;;
        esac
    done
    [ -n "$RUN_DIR" ] && [ -d "$RUN_DIR" ] || return 0
    if [ -n "$artifacts" ]; then
        mkdir -p "$artifacts"
        local f
        for f in "$RUN_DIR/pg/initdb.log" "$RUN_DIR/pg/postgres.log" "$RUN_DIR/s3s-fs.log" "$RUN_DIR/smtp.log" \
            "$RUN_DIR/oidc-provider.log" "$RUN_DIR/clamd.log"; do
            if [ -f "$f" ]; then cp "$f" "$artifacts/" || true; fi
        done
        say "Server logs copied to $artifacts/"
    fi
    if [ "${LIASSE_KEEP_RUN_DIR:-0}" = 1 ]; then
        say "Keeping $RUN_DIR (LIASSE_KEEP_RUN_DIR=1)"
    else
        rm -rf "$RUN_DIR"
    fi
    return 0
}
