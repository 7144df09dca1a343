#!/usr/bin/env bash
# Kill -9 and restart of the server under load (issue 13, item 7; results in docs/serving.md "Restarts").
#  1. `cleave serve` of MobileNetV2 split at expanded_conv_5/add; `cleave loadtest` 16 clients for 30 s (default
#     retries: until each request's 60 s deadline); the server is killed with SIGKILL ~10 s into the test and a new
#     one started on the same port 3 s later. Prints the loadtest's figures: lost, duplicates, outage, retries,
#     reconnects, and one line per server process.
#  2. `cleave serve-lm` of stories260K (split layer 2); 16 workers each run `cleave generate --server` over and over
#     (16 sessions in flight at a time, each its own process and prompt) for GEN_SECONDS; the server is killed
#     ~GEN_KILL_AT s in and restarted 3 s later. Every run's tokens are compared with `cleave generate --local`
#     (whole model, greedy) for the same prompt; prints runs, failures, runs that resumed, and mismatches.
# Usage: docs/restart-test.sh [WORKDIR]   (from the repository root, after `dotnet build src/Cleave.Cli -c Release`)
# Exit status 0 when nothing was lost or duplicated, every generation run succeeded and equals local greedy.
set -uo pipefail
assets="${ASSETS:-../shared/assets}"
dll="${CLEAVE_DLL:-src/Cleave.Cli/bin/Release/net10.0/cleave.dll}"
work="${1:-$(mktemp -d)}"
port="${PORT:-7191}"
lm_port="${LM_PORT:-50191}"
gen_seconds="${GEN_SECONDS:-20}"
gen_kill_at="${GEN_KILL_AT:-7}"
mkdir -p "$work"
cleave() { dotnet "$dll" "$@"; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
wait_port() { # until something accepts connections on the port (the servers bind only after loading their models)
  for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  log "nothing listens on port $1"; return 1
}
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null' EXIT
status=0

# --- 1. loadtest across a kill -9 -------------------------------------------------------------------------------
[ -f "$work/mnv2.onnx" ] || cleave import "$assets/vision/mobilenet_v2_1.0_224_quant.tflite" -o "$work/mnv2.onnx" >&2
[ -d "$work/split5" ] || cleave split "$work/mnv2.onnx" --at MobilenetV2/expanded_conv_5/add -o "$work/split5" >&2
cleave serve "$work/split5" --port "$port" > "$work/serve-1.log" 2>&1 &
server_pid=$!
wait_port "$port" || exit 1
log "server 1 (pid $server_pid) up; loadtest starts"
cleave loadtest --server "http://127.0.0.1:$port" --split "$work/split5" --images "$assets/imagenet-sample" \
  --clients 16 --duration 30 --json > "$work/loadtest.json" 2> "$work/loadtest.err" &
loadtest_pid=$!
until grep -q "in flight for" "$work/loadtest.err" 2>/dev/null; do sleep 0.1; done # frames prepared, sending starts
sleep 10
kill -9 "$server_pid"; log "server 1 killed (SIGKILL) 10 s into the test"
sleep 3
cleave serve "$work/split5" --port "$port" > "$work/serve-2.log" 2>&1 &
server_pid=$!
log "server 2 (pid $server_pid) starting 3 s after the kill"
wait "$loadtest_pid" || status=1
kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=""
python3 - "$work/loadtest.json" <<'EOF' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
print(f"loadtest: {r['sent']} sent, {r['answered']} answered, {r['lost']} lost, {r['duplicates']} duplicates, {r['replayed']} replayed, "
      f"{r['failed_tries']} failed tries, {r['retries']} retries, {r['reconnects']} reconnects, errors {r['errors_by_kind']}")
print(f"  throughput {r['throughput_per_second']:.1f}/s over {r['seconds']:.1f} s; latency p50 {r['latency_p50_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms")
for o in r["outages"]:
    print(f"  outage {o['start_seconds']:.2f}-{o['end_seconds']:.2f} s: {o['seconds']:.2f} s{'' if o['resolved'] else ' (unresolved)'}")
for p in r["server_processes"]:
    print(f"  server process {p['server_id']}: seen {p['first_seen_seconds']:.1f}-{p['last_seen_seconds']:.1f} s, {p['answered']} answered, "
          f"{p['executed']} executed, {1000 * p['cpu_seconds_per_request']:.2f} ms CPU/request, mean batch {p['mean_batch_size']:.2f}")
sys.exit(0 if r["lost"] == 0 and r["duplicates"] == 0 and r["sent"] == r["answered"] else 1)
EOF

# --- 2. 16 generate --server sessions across a kill -9 -------------------------------------------------------------
[ -f "$work/llm/config.json" ] || cleave import "$assets/llm/stories260K.bin" --tokenizer "$assets/llm/tok512.bin" -o "$work/llm" --splits >&2
prompts=("" "Tim and his dog" "The sun was hot" "Lily had a red ball" "Once there was a cat" "Sam liked to run"
         "The bird sang" "Mom made a cake" "A little boy" "The tree was tall" "Sue found a box" "The car was fast"
         "Ben and Mia" "It was a rainy day" "The fish swam" "A big bear")
mkdir -p "$work/gen"
for i in "${!prompts[@]}"; do
  [ -f "$work/gen/local-$i.json" ] || cleave generate --model "$work/llm" --local --prompt "${prompts[$i]}" --max-tokens 300 --json > "$work/gen/local-$i.json"
done
rm -f "$work"/gen/run-*
cleave serve-lm --model "$work/llm" --split-layer 2 --port "$lm_port" > "$work/serve-lm-1.log" 2>&1 &
server_pid=$!
wait_port "$lm_port" || exit 1
log "serve-lm 1 (pid $server_pid) up; 16 generation workers start"
worker() { # runs generate --server for prompt $1 until the time is up; one JSON (and exit status) per run
  local i=$1 n=0 until=$(( $(date +%s) + gen_seconds ))
  while [ "$(date +%s)" -lt "$until" ]; do
    cleave generate --model "$work/llm" --server "http://127.0.0.1:$lm_port" --split-layer 2 --prompt "${prompts[$i]}" \
      --max-tokens 300 --json > "$work/gen/run-$i-$n.json" 2> "$work/gen/run-$i-$n.err"
    echo $? > "$work/gen/run-$i-$n.rc"
    n=$((n + 1))
  done
}
workers=()
for i in "${!prompts[@]}"; do worker "$i" & workers+=($!); done
sleep "$gen_kill_at"
kill -9 "$server_pid"; log "serve-lm 1 killed (SIGKILL) ${gen_kill_at} s after the workers started"
sleep 3
cleave serve-lm --model "$work/llm" --split-layer 2 --port "$lm_port" > "$work/serve-lm-2.log" 2>&1 &
server_pid=$!
log "serve-lm 2 (pid $server_pid) starting 3 s after the kill"
for w in "${workers[@]}"; do wait "$w"; done
kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=""
python3 - "$work/gen" <<'EOF' || status=1
import glob, json, os, sys
d = sys.argv[1]
runs = failed = resumed = reconnected = mismatched = 0
for rc_path in sorted(glob.glob(os.path.join(d, "run-*.rc"))):
    base = rc_path[:-3]
    i = int(os.path.basename(base).split("-")[1])
    runs += 1
    if open(rc_path).read().strip() != "0":
        failed += 1
        print(f"  {os.path.basename(base)} failed: {open(base + '.err').read().strip()[-300:]}")
        continue
    r = json.load(open(base + ".json"))
    local = json.load(open(os.path.join(d, f"local-{i}.json")))
    resumed += r["resumes"] > 0
    reconnected += r["reconnects"] > 0
    if r["tokens"] != local["tokens"]:
        mismatched += 1
        print(f"  {os.path.basename(base)} differs from local greedy")
print(f"generate: {runs} runs (16 workers), {failed} failed, {reconnected} retried while the server was down, "
      f"{resumed} resumed a session from its history, {mismatched} differ from --local greedy")
sys.exit(0 if failed == 0 and mismatched == 0 and resumed > 0 else 1)
EOF
log "done (status $status); files in $work"
exit $status
