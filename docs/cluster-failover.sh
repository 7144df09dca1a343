#!/usr/bin/env bash
# Classification failover across three servers under load (issue 14, item 1; results in docs/scaling.md).
# Three `cleave serve` processes of MobileNetV2 split at expanded_conv_5/add on three loopback ports (plain servers:
# a classification request is stateless, so any of them answers any request; `serve --cluster` silos behave the same
# for it). `cleave loadtest --server A,B,C` with CLIENTS clients (default 32) for DURATION s (default 60); client i
# starts on address i mod 3 and fails back to it (SplitClientOptions.FailBackAfter). A is killed with SIGKILL at KILL_AT s (default 20) into the test and restarted on its port at
# RESTART_AT s (default 40). Prints lost, duplicates, the outage the clients saw (the failover time: from the first
# try the transport lost to the next answer), retries, reconnects and one line per server process.
# CLUSTER=redis runs the three as silos of one cluster with Redis membership instead (`serve --cluster
# redis://127.0.0.1:REDIS_PORT`, each with its own silo and gateway port; a redis-server from .ci/redis-server is
# started on REDIS_PORT, default 6391, without persistence, and stopped at the end); the killed silo restarts on the
# same ports and rejoins, and `/cluster` of silo B is printed before the kill, after it and at the end.
# Usage: docs/cluster-failover.sh [WORKDIR]   (from the repository root, after `dotnet build src/Cleave.Cli -c Release`)
# Exit status 0 when nothing was lost or duplicated.
set -uo pipefail
assets="${ASSETS:-../shared/assets}"
dll="${CLEAVE_DLL:-src/Cleave.Cli/bin/Release/net10.0/cleave.dll}"
work="${1:-$(mktemp -d)}"
base="${PORT:-7291}"
clients="${CLIENTS:-32}"; duration="${DURATION:-60}"; kill_at="${KILL_AT:-20}"; restart_at="${RESTART_AT:-40}"
ports=("$base" "$((base + 1))" "$((base + 2))")
cluster="${CLUSTER:-}"; redis_port="${REDIS_PORT:-6391}"; redis_pid=""
mkdir -p "$work"
cleave() { dotnet "$dll" "$@"; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
wait_port() { # until something accepts connections on the port (a server binds only after loading its model)
  for _ in $(seq 1 3000); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  log "nothing listens on port $1"; return 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || { log "port $1 is already in use"; exit 1; }; }
pids=("" "" "")
# A server in the background as its own process (exec: its pid is the server's, so kill -9 reaches the server itself).
cluster_args() { # the silo options of server $1 in CLUSTER=redis mode (none otherwise)
  [ "$cluster" = redis ] && echo "--cluster redis://127.0.0.1:$redis_port --cluster-id failover --silo-port $((11391 + $1)) --gateway-port $((30391 + $1)) --join-timeout-s 300"
}
serve_bg() { ( exec dotnet "$dll" serve "$work/split5" --port "${ports[$1]}" $(cluster_args "$1") > "$work/serve-$1-$2.log" 2>&1 ) & pids[$1]=$!; }
cleanup() { # servers first (a silo leaves through Redis), then Redis
  for p in "${pids[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do [ -n "$p" ] && timeout 30 tail --pid="$p" -f /dev/null; done
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
}
cluster_status() { # silo B's view of the cluster (CLUSTER=redis only)
  [ "$cluster" = redis ] && { log "cluster as silo B sees it ($1):"; cleave cluster status --server "http://127.0.0.1:${ports[1]}" >&2 || true; }
}
trap cleanup EXIT

for p in "${ports[@]}"; do port_free "$p"; done
if [ "$cluster" = redis ]; then
  port_free "$redis_port"
  redis="$(.ci/redis-server)" || exit 1
  "$redis" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no > "$work/redis.log" 2>&1 & redis_pid=$!
  wait_port "$redis_port" || exit 1
  log "redis-server up on $redis_port (pid $redis_pid)"
elif [ -n "$cluster" ]; then log "CLUSTER must be empty or redis, not '$cluster'"; exit 2; fi
[ -f "$work/mnv2.onnx" ] || cleave import "$assets/vision/mobilenet_v2_1.0_224_quant.tflite" -o "$work/mnv2.onnx" >&2
[ -d "$work/split5" ] || cleave split "$work/mnv2.onnx" --at MobilenetV2/expanded_conv_5/add -o "$work/split5" >&2
# Silos join one after the other (three joining at once on a loaded 2-core machine took past a minute); plain servers
# start together.
for i in 0 1 2; do serve_bg "$i" 1; [ "$cluster" = redis ] && { wait_port "${ports[$i]}" || exit 1; }; done
for p in "${ports[@]}"; do wait_port "$p" || exit 1; done
servers="http://127.0.0.1:${ports[0]},http://127.0.0.1:${ports[1]},http://127.0.0.1:${ports[2]}"
log "3 servers up (pids ${pids[*]}); load: $(uptime)"
cluster_status "before the load"
cleave loadtest --server "$servers" --split "$work/split5" --images "$assets/imagenet-sample" \
  --clients "$clients" --duration "$duration" --json > "$work/loadtest.json" 2> "$work/loadtest.err" &
loadtest_pid=$!
until grep -q "in flight for" "$work/loadtest.err" 2>/dev/null; do sleep 0.1; done # frames prepared, sending starts
sleep "$kill_at"
kill -9 "${pids[0]}"; log "server A (pid ${pids[0]}) killed (SIGKILL) at $kill_at s; load: $(uptime)"
sleep 3; cluster_status "3 s after the kill"
sleep "$((restart_at - kill_at - 3))"
serve_bg 0 2; log "server A restarted (pid ${pids[0]}) at $restart_at s"
status=0
wait "$loadtest_pid" || status=1
log "load: $(uptime)"
cluster_status "at the end"
python3 - "$work/loadtest.json" <<'EOF' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
print(f"loadtest: {r['sent']} sent, {r['answered']} answered, {r['lost']} lost, {r['duplicates']} duplicates, {r['replayed']} replayed, "
      f"{r['failed_tries']} failed tries, {r['retries']} retries, {r['reconnects']} reconnects, {r.get('failovers', 0)} failovers, {r.get('fail_backs', 0)} fail-backs, errors {r['errors_by_kind']}")
print(f"  failed tries by kind: {r['failed_tries_by_kind']}")
print(f"  throughput {r['throughput_per_second']:.1f}/s over {r['seconds']:.1f} s; latency p50 {r['latency_p50_ms']:.1f} ms, "
      f"p95 {r['latency_p95_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms")
for w in r["latency_windows"]:
    print(f"  answered {w['start_seconds']:.0f}-{w['end_seconds']:.0f} s: {w['answered']}, p50 {w['p50_ms']:.0f} ms, p99 {w['p99_ms']:.0f} ms")
for o in r["outages"]:
    print(f"  outage {o['start_seconds']:.2f}-{o['end_seconds']:.2f} s: {o['seconds']:.2f} s{'' if o['resolved'] else ' (unresolved)'}")
for p in r["server_processes"]:
    print(f"  server process {p['server_id']}: seen {p['first_seen_seconds']:.1f}-{p['last_seen_seconds']:.1f} s, {p['answered']} answered, "
          f"{p['executed']} executed, mean batch {p['mean_batch_size']:.2f}")
sys.exit(0 if r["lost"] == 0 and r["duplicates"] == 0 and r["sent"] == r["answered"] else 1)
EOF
log "done (status $status); files in $work"
exit $status
