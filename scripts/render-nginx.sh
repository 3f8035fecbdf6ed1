#!/usr/bin/env bash
# Renders nginx/templates and nginx/stream-templates the way the official nginx image does
# (envsubst, replacing only Confab's variables) into OUT/conf.d and OUT/stream-conf.d.
#   CONFAB_SERVER_NAME=meet.example.org CONFAB_UPSTREAM_HTTP=127.0.0.1:8088 \
#   CONFAB_UPSTREAM_TURN=127.0.0.1:3478 CONFAB_CERT_DIR=/etc/nginx/certs scripts/render-nginx.sh OUT
set -euo pipefail
out="${1:?usage: render-nginx.sh OUTPUT_DIR}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vars='${CONFAB_SERVER_NAME} ${CONFAB_UPSTREAM_HTTP} ${CONFAB_UPSTREAM_TURN} ${CONFAB_CERT_DIR}'
mkdir -p "$out/conf.d" "$out/stream-conf.d"
for t in "$repo"/nginx/templates/*.template; do
    envsubst "$vars" < "$t" > "$out/conf.d/$(basename "${t%.template}")"
done
for t in "$repo"/nginx/stream-templates/*.template; do
    envsubst "$vars" < "$t" > "$out/stream-conf.d/$(basename "${t%.template}")"
done
