#!/bin/sh
# Claude Governor installer, served by the Governor server with its address and the client's SHA-256 baked in.
#   curl -fsSL https://SERVER/install.sh | sudo sh -s -- --code CLM-alice-1f3a9c [--yes] [--user NAME]
# Finds a Python 3.9+, downloads the hook client, checks its SHA-256 and runs its `setup`.
set -eu

SERVER=@@SERVER_URL@@
CLIENT_SHA256="@@CLIENT_SHA256@@"

fail() { echo "claude-governor install: $*" >&2; exit 1; }

find_python() {
    for candidate in "${GOVERNOR_PYTHON:-}" python3 /usr/bin/python3 /usr/local/bin/python3 /opt/homebrew/bin/python3 \
        python3.13 python3.12 python3.11 python3.10 python3.9; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -I -S -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
            # The real interpreter, not a pyenv shim or a symlink: it is what the hook will be started with.
            "$candidate" -I -S -c 'import os, sys; print(os.path.realpath(sys.executable))'
            return 0
        fi
    done
    return 1
}

PYTHON=$(find_python) || fail "Python 3.9 or later is required (python3 not found)."

WORK=$(mktemp -d 2>/dev/null || mktemp -d -t claude-governor)
trap 'rm -rf "$WORK"' EXIT INT TERM
CLIENT="$WORK/governor_hook.py"

if command -v curl >/dev/null 2>&1; then
    curl -fsSL "$SERVER/api/v1/client.py" -o "$CLIENT" || fail "cannot download the client from $SERVER"
elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$CLIENT" "$SERVER/api/v1/client.py" || fail "cannot download the client from $SERVER"
else
    "$PYTHON" -I -S -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=30).read())' \
        "$SERVER/api/v1/client.py" "$CLIENT" || fail "cannot download the client from $SERVER"
fi

ACTUAL=$("$PYTHON" -I -S -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$CLIENT")
[ "$ACTUAL" = "$CLIENT_SHA256" ] || fail "the downloaded client does not match its SHA-256 ($ACTUAL); not installing."

"$PYTHON" -I -S "$CLIENT" setup --server "$SERVER" "$@"
