#!/usr/bin/env bash
# Confab's TURN server and coturn under the same turnutils_uclient load, on loopback in a private
# network namespace (issue 6's benchmark). Both servers are started afresh for each repeat; the runs
# alternate between them (confab, coturn, confab, coturn, ... per mode) so that whatever else the
# machine does drifts over both alike. Per run it prints what uclient reports (sent/received, loss)
# and the server's CPU time (utime+stime from /proc) per 100,000 relayed packets; then the median
# per server and mode, the ratio Confab/coturn, and each server's peak RSS (VmHWM).
#
#   unshare --net -- env CONFAB_BIN=.build/release/confab bash scripts/bench_turn.sh
#   # defaults: 200 clients x 2000 messages of 120 bytes, one every 1 ms per client, 3 repeats,
#   # modes udp-channels and tcp-channels; MODES="udp-channels udp-indications tcp-channels tcp-indications"
#
# Every uclient message is relayed twice (client -> peer and back), so packets relayed = 2 x received.
set -euo pipefail
ip link set lo up
CONFAB_BIN=${CONFAB_BIN:-$(dirname "$0")/../.build/release/confab}
CLIENTS=${CLIENTS:-200} MESSAGES=${MESSAGES:-2000} INTERVAL=${INTERVAL:-1} SIZE=${SIZE:-120}
REPEATS=${REPEATS:-3} MODES=${MODES:-udp-channels tcp-channels}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
# Datagrams the kernel dropped because a receiving socket's buffer was full (server, peer or uclient).
rcvbuf_errors() { awk '/^Udp:/ { if (seen++) print $6 }' /proc/net/snmp; }
flags() {
  case $1 in
    udp-channels) echo "" ;; udp-indications) echo "-s" ;; tcp-channels) echo "-t" ;; tcp-indications) echo "-t -s" ;;
    *) echo "unknown mode $1" >&2; exit 2 ;;
  esac
}

# The echo peer gets a bigger receive buffer (scripts/bench/peer_rcvbuf.c says why).
cc -shared -fPIC -O2 -o "$work/peer_rcvbuf.so" "$(dirname "$0")/bench/peer_rcvbuf.c" -ldl
LD_PRELOAD="$work/peer_rcvbuf.so" turnutils_peer -L 127.0.0.1 -p 3480 >/dev/null 2>&1 &
cat > "$work/confab.cfg" <<CFG
http: { bind = "127.0.0.1"; port = 18088; };
websockets: { bind = "127.0.0.1"; port = 18188; };
media: { udp_port = 11000; interfaces = ("127.0.0.1"); };
turn: { bind = "127.0.0.1"; port = 13478; realm = "bench"; users = ("bench:pw"); allow_peers = ("127.0.0.0/8");
        user_quota = 0; relay_port_range = "41000-50999"; };
site: { enabled = false; };
CFG
# Both servers start afresh for every repeat (FRESH=0 keeps them up for the whole benchmark): uclient
# leaves its UDP allocations to expire (10 minutes), and a server carrying the idle relays of earlier runs
# is not the state either started from. Peak RSS is the highest VmHWM any instance reached.
# VmHWM counts the pages of the executable and the shared libraries each process touched (for Confab
# about 42 MB: the Swift runtime, Foundation, OpenSSL, GLib...); RssAnon, read as each instance stops,
# is the memory the process itself holds (its heap, stacks and buffers), which does not shrink back.
confab='' coturn='' peak_confab=0 peak_coturn=0 anon_confab=0 anon_coturn=0
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
anon() { awk '/RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
stop_servers() {
  [ -n "$confab" ] || return 0
  local a b
  a=$(hwm "$confab") b=$(hwm "$coturn")
  peak_confab=$((a > peak_confab ? a : peak_confab)) peak_coturn=$((b > peak_coturn ? b : peak_coturn))
  a=$(anon "$confab") b=$(anon "$coturn")
  anon_confab=$((a > anon_confab ? a : anon_confab)) anon_coturn=$((b > anon_coturn ? b : anon_coturn))
  kill "$confab" "$coturn" 2>/dev/null || true
  wait "$confab" "$coturn" 2>/dev/null || true
  confab='' coturn=''
}
start_servers() {
  stop_servers
  "$CONFAB_BIN" --config "$work/confab.cfg" >>"$work/confab.log" 2>&1 &
  confab=$!
  turnserver -n --no-cli --listening-ip=127.0.0.1 --listening-port=13479 --relay-ip=127.0.0.1 --user=bench:pw \
    --realm=bench --lt-cred-mech --allow-loopback-peers --no-tls --no-dtls --min-port=51000 --max-port=60999 \
    --log-file="$work/coturn.log" >/dev/null 2>&1 &
  coturn=$!
  sleep 2
}
FRESH=${FRESH:-1}
start_servers

# uclient leaves its UDP allocations to expire (10 minutes), so each server's relay range above has room
# for every run's 200 relays. Receive-buffer drops on the sockets that outlive a run (listeners, relays,
# turnutils_peer) by local port; the rest of a run's drops were on uclient's own sockets.
socket_drops() {
  awk 'function hex(h,  i, v) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1; return v }
       NR > 1 { split($2, a, ":"); d[hex(a[2])] += $NF } END { for (p in d) print p, d[p] }' /proc/net/udp
}
# One uclient run against server $1 (pid $2, port $3) in mode $4; appends "server mode cpu_per_100k lost" to results.
run() {
  local c0 c1 out totals lost recv e0 e1
  e0=$(rcvbuf_errors)
  socket_drops > "$work/drops0"
  c0=$(cpu "$2")
  # shellcheck disable=SC2046
  out=$(turnutils_uclient -c $(flags "$4") -e 127.0.0.1 -r 3480 -p "$3" -u bench -w pw -m "$CLIENTS" -n "$MESSAGES" \
        -l "$SIZE" -z "$INTERVAL" 127.0.0.1 2>&1) || echo "uclient exited with $?" >&2
  c1=$(cpu "$2")
  e1=$(rcvbuf_errors)
  socket_drops > "$work/drops1"
  local where
  where=$(awk -v lo="${5:-0}" -v hi="${6:-0}" -v listen="$3" 'NR == FNR { d0[$1] = $2; next }
          { n = $2 - d0[$1]; if ($1 == listen) s += n; else if ($1 == 3480) p += n; else if ($1 >= lo && $1 <= hi) r += n }
          END { printf "server %d relays %d peer %d", s, r, p }' "$work/drops0" "$work/drops1")
  totals=$(echo "$out" | grep -oE 'tot_send_msgs=[0-9]+, tot_recv_msgs=[0-9]+$' | tail -1) || true
  lost=$(echo "$out" | grep -oE 'Total lost packets [0-9]+ \([0-9.]+%\)' | tail -1) || true
  [ -n "$totals" ] || echo "$out" | tail -5 >&2
  recv=$(echo "$totals" | sed -E 's/.*tot_recv_msgs=([0-9]+)/\1/')
  awk -v s="$1" -v m="$4" -v t="$totals" -v l="${lost:-no loss line}" -v c=$((c1 - c0)) -v hz="$hz" -v r="${recv:-0}" \
    -v out="$work/results" -v drops=$((e1 - e0)) -v w="$where" \
    'BEGIN { per = (r > 0 ? c / hz / (2 * r) * 100000 : 0); n = l; sub(/Total lost packets /, "", n); sub(/ .*/, "", n)
             printf "%-7s %-16s %s | %s | %d UDP receive-buffer drops (%s) | %.2f s CPU | %.3f s CPU per 100,000 relayed\n",
                    s, m, t, l, drops, w, c / hz, per
             # A run uclient gave up on (it can lose a race with its own reused local ports: 437,
             # then a ChannelBind the leftover allocation refuses) relayed nothing: not a figure.
             if (r > 0) printf "%s %s %.4f %s\n", s, m, per, (n == "" ? "?" : n) >> out
             else printf "%s %s failed\n", s, m >> out }'
}

for mode in $MODES; do
  for ((i = 1; i <= REPEATS; i++)); do
    if [ "$FRESH" = 1 ] && [ -n "${ran_once:-}" ]; then start_servers; fi
    ran_once=1
    run confab "$confab" 13478 "$mode" 41000 50999
    run coturn "$coturn" 13479 "$mode" 51000 60999
  done
done

echo
echo "medians over $REPEATS runs, $CLIENTS clients x $MESSAGES messages of $SIZE bytes, ${INTERVAL} ms interval:"
for mode in $MODES; do
  median() { awk -v s="$1" -v m="$2" '$1 == s && $2 == m && $3 != "failed" { print $3 }' "$work/results" | sort -g |
             awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
  lost() { awk -v s="$1" -v m="$2" '$1 == s && $2 == m { if ($3 == "failed") f++; else t += $4 }
                END { printf "%d%s", t, (f ? " (" f " failed run" (f > 1 ? "s" : "") " not counted)" : "") }' "$work/results"; }
  a=$(median confab "$mode") b=$(median coturn "$mode")
  awk -v m="$mode" -v a="$a" -v b="$b" -v la="$(lost confab "$mode")" -v lb="$(lost coturn "$mode")" \
    'BEGIN { printf "%-16s confab %.3f  coturn %.3f  s CPU / 100k relayed  ratio %.2f  lost: confab %s coturn %s\n",
             m, a, b, (b > 0 ? a / b : 0), la, lb }'
done
stop_servers
echo "peak RSS: confab $peak_confab kB, coturn $peak_coturn kB; of it anonymous (heap, stacks, buffers): confab $anon_confab kB, coturn $anon_coturn kB"
