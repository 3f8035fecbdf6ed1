#!/bin/sh
# Runs in the official nginx image before nginx starts: when no certificate is mounted, make a
# self-signed one so the first `docker compose up` works on a fresh box (browsers will warn;
# drop in real certificates as the README shows).
set -eu
dir="${CONFAB_CERT_DIR:-/etc/nginx/certs}"
if [ -s "$dir/fullchain.pem" ] && [ -s "$dir/privkey.pem" ]; then
    exit 0
fi
mkdir -p "$dir"
name="${CONFAB_SERVER_NAME:-localhost}"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=$name" -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
echo "confab: generated a self-signed certificate for $name in $dir"
