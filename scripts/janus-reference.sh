#!/usr/bin/env bash
# Start Debian's real Janus 1.1.2 on loopback with the same private config the tests use
# (free ports, HTTP + WebSocket transports, Admin API with secret "adminpw", VideoRoom with
# demo room 1234, LD_PRELOAD loopback shim), print its URLs as JSON, and run until Ctrl-C.
# Nothing in /etc/janus is touched: configs are written to a temp dir that is kept for diffing.
#
#   scripts/janus-reference.sh                       # defaults
#   scripts/janus-reference.sh --api-secret s3cret --token-auth --session-timeout 10
#   scripts/janus-reference.sh confab                # same, for the Confab binary
#
# Then e.g.:  curl -s http://127.0.0.1:PORT/janus/info
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
which="janus"
if [[ "${1:-}" == "janus" || "${1:-}" == "confab" ]]; then which="$1"; shift; fi
exec python3 "$here/../tests/harness.py" "$which" "$@"
