#!/usr/bin/env bash
# Confab's TURN server and coturn side by side under the same turnutils_uclient load, on loopback in a
# private network namespace. Prints, per server and mode, what uclient reports (sent/received, loss)
# and the server's CPU time (utime+stime from /proc) and peak RSS.
#
#   sudo unshare --net -- bash scripts/bench_turn.sh            # defaults: 50 clients x 1000 messages, 5 ms
#   CONFAB_BIN=.build/release/confab CLIENTS=200 MESSAGES=2000 INTERVAL=1 unshare --net -- bash scripts/bench_turn.sh
#
# Every uclient message is relayed twice (client -> peer and back), so packets relayed = 2 x messages.
set -euo pipefail
ip link set lo up
CONFAB_BIN=${CONFAB_BIN:-$(dirname "$0")/../.build/release/confab}
CLIENTS=${CLIENTS:-50} MESSAGES=${MESSAGES:-1000} INTERVAL=${INTERVAL:-5} SIZE=${SIZE:-120}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }

turnutils_peer -L 127.0.0.1 -p 3480 >/dev/null 2>&1 &
cat > "$work/confab.cfg" <<CFG
http: { bind = "127.0.0.1"; port = 18088; };
websockets: { bind = "127.0.0.1"; port = 18188; };
media: { udp_port = 11000; interfaces = ("127.0.0.1"); };
turn: { bind = "127.0.0.1"; port = 13478; realm = "bench"; users = ("bench:pw"); allow_peers = ("127.0.0.0/8");
        user_quota = 0; relay_port_range = "50000-50999"; };
site: { enabled = false; };
CFG

run() {  # server-name pid port
  for mode in "udp-channels:" "udp-indications:-s" "tcp-channels:-t" "tcp-indications:-t -s"; do
    name=${mode%%:*} flags=${mode#*:}
    c0=$(cpu "$2")
    # shellcheck disable=SC2086
    out=$(turnutils_uclient -c $flags -e 127.0.0.1 -r 3480 -p "$3" -u bench -w pw -m "$CLIENTS" -n "$MESSAGES" \
          -l "$SIZE" -z "$INTERVAL" 127.0.0.1 2>&1)
    c1=$(cpu "$2")
    totals=$(echo "$out" | grep -oE 'tot_send_msgs=[0-9]+, tot_recv_msgs=[0-9]+$' | tail -1)
    lost=$(echo "$out" | grep -oE 'Total lost packets [0-9]+ \([0-9.]+%\)' | tail -1)
    recv=$(echo "$totals" | sed -E 's/.*tot_recv_msgs=([0-9]+)/\1/')
    awk -v s="$1" -v m="$name" -v t="$totals" -v l="$lost" -v c=$((c1 - c0)) -v hz="$hz" -v r="${recv:-0}" \
      'BEGIN { printf "%-7s %-16s %s | %s | %.2f s CPU | %.2f s CPU per 100,000 relayed packets\n",
               s, m, t, l, c / hz, (r > 0 ? c / hz / (2 * r) * 100000 : 0) }'
  done
  echo "$1 peak RSS: $(grep VmHWM "/proc/$2/status" | awk '{print $2, $3}')"
}

"$CONFAB_BIN" --config "$work/confab.cfg" >"$work/confab.log" 2>&1 &
confab=$!
sleep 2
run confab "$confab" 13478
kill "$confab"

turnserver -n --no-cli --listening-ip=127.0.0.1 --listening-port=13479 --relay-ip=127.0.0.1 --user=bench:pw \
  --realm=bench --lt-cred-mech --allow-loopback-peers --no-tls --no-dtls --min-port=51000 --max-port=51999 \
  --log-file="$work/coturn.log" >/dev/null 2>&1 &
coturn=$!
sleep 2
run coturn "$coturn" 13479
