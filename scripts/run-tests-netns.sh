#!/usr/bin/env bash
# Run the e2e suite inside a private network namespace whose only interface is loopback
# (`unshare --net`, needs root): nothing can reach another address and ports never clash
# with other runs. Arguments go to pytest; CONFAB_TARGET / CONFAB_BIN are passed through.
#
#   scripts/run-tests-netns.sh                  # all tests against Confab
#   CONFAB_TARGET=janus scripts/run-tests-netns.sh -x
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
exec unshare --net -- bash -c 'ip link set lo up && exec python3 -m pytest tests "$@"' bash "$@"
