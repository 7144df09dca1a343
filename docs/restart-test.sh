#!/usr/bin/env bash
# Kill -9 and restart of the server under load (issue 13, item 7; results in docs/serving.md "Restarts").
#  1. `cleave serve` of MobileNetV2 split at expanded_conv_5/add; `cleave loadtest` 16 clients for 30 s (default
#     retries: until each request's 60 s deadline); the server is killed with SIGKILL ~10 s into the test and a new
#     one started on the same port 3 s later. Prints the loadtest's figures: lost, duplicates, outage, retries,
#     reconnects, and one line per server process.
#  2. `cleave serve-lm` of stories260K (split layer 2); 16 `cleave generate --server` sessions (each its own process
#     and prompt, GEN_TOKENS tokens, default 500); the server is killed when all 16 are generating and restarted 3 s
#     later. Every session's text is compared with `cleave generate --local` (whole model, greedy) for its prompt;
#     prints failures, sessions that resumed from their history, and mismatches.
# Usage: docs/restart-test.sh [WORKDIR]   (from the repository root, after `dotnet build src/Cleave.Cli -c Release`)
# Exit status 0 when nothing was lost or duplicated, every generation run succeeded and equals local greedy.
set -uo pipefail
assets="${ASSETS:-../shared/assets}"
dll="${CLEAVE_DLL:-src/Cleave.Cli/bin/Release/net10.0/cleave.dll}"
work="${1:-$(mktemp -d)}"
port="${PORT:-7191}"
lm_port="${LM_PORT:-50191}"
mkdir -p "$work"
cleave() { dotnet "$dll" "$@"; }
# A server in the background as its own process (exec: $! is the server's pid, so kill -9 reaches the server itself).
serve_bg() { local log=$1; shift; ( exec dotnet "$dll" "$@" > "$log" 2>&1 ) & server_pid=$!; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
wait_port() { # until something accepts connections on the port (the servers bind only after loading their models)
  for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  log "nothing listens on port $1"; return 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || { log "port $1 is already in use"; exit 1; }; }
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null' EXIT
status=0

# --- 1. loadtest across a kill -9 -------------------------------------------------------------------------------
port_free "$port"; port_free "$lm_port"
[ -f "$work/mnv2.onnx" ] || cleave import "$assets/vision/mobilenet_v2_1.0_224_quant.tflite" -o "$work/mnv2.onnx" >&2
[ -d "$work/split5" ] || cleave split "$work/mnv2.onnx" --at MobilenetV2/expanded_conv_5/add -o "$work/split5" >&2
serve_bg "$work/serve-1.log" serve "$work/split5" --port "$port"
wait_port "$port" || exit 1
log "server 1 (pid $server_pid) up; loadtest starts"
cleave loadtest --server "http://127.0.0.1:$port" --split "$work/split5" --images "$assets/imagenet-sample" \
  --clients 16 --duration 30 --json > "$work/loadtest.json" 2> "$work/loadtest.err" &
loadtest_pid=$!
until grep -q "in flight for" "$work/loadtest.err" 2>/dev/null; do sleep 0.1; done # frames prepared, sending starts
sleep 10
kill -9 "$server_pid"; log "server 1 killed (SIGKILL) 10 s into the test"
sleep 3
serve_bg "$work/serve-2.log" serve "$work/split5" --port "$port"
log "server 2 (pid $server_pid) starting 3 s after the kill"
wait "$loadtest_pid" || status=1
grep -q "listening on" "$work/serve-2.log" || { log "server 2 did not start: $(cat "$work/serve-2.log")"; status=1; }
kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=""
python3 - "$work/loadtest.json" <<'EOF' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
print(f"loadtest: {r['sent']} sent, {r['answered']} answered, {r['lost']} lost, {r['duplicates']} duplicates, {r['replayed']} replayed, "
      f"{r['failed_tries']} failed tries, {r['retries']} retries, {r['reconnects']} reconnects, errors {r['errors_by_kind']}")
print(f"  failed tries by kind: {r['failed_tries_by_kind']}")
print(f"  throughput {r['throughput_per_second']:.1f}/s over {r['seconds']:.1f} s; latency p50 {r['latency_p50_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms")
for o in r["outages"]:
    print(f"  outage {o['start_seconds']:.2f}-{o['end_seconds']:.2f} s: {o['seconds']:.2f} s{'' if o['resolved'] else ' (unresolved)'}")
for p in r["server_processes"]:
    print(f"  server process {p['server_id']}: seen {p['first_seen_seconds']:.1f}-{p['last_seen_seconds']:.1f} s, {p['answered']} answered, "
          f"{p['executed']} executed, {1000 * p['cpu_seconds_per_request']:.2f} ms CPU/request, mean batch {p['mean_batch_size']:.2f}")
sys.exit(0 if r["lost"] == 0 and r["duplicates"] == 0 and r["sent"] == r["answered"] else 1)
EOF

# --- 2. 16 generate --server sessions across a kill -9 -------------------------------------------------------------
# Each session is its own `cleave generate --server` process with its own prompt; its text streams to a file, so the
# kill comes when all 16 are generating (or one already finished). The streamed text is compared with the whole
# model's greedy text from `cleave generate --local` (the same printing: prompt, continuation, newline).
[ -f "$work/llm/config.json" ] || cleave import "$assets/llm/stories260K.bin" --tokenizer "$assets/llm/tok512.bin" -o "$work/llm" --splits >&2
prompts=("" "Tim and his dog" "The sun was hot" "Lily had a red ball" "Once there was a cat" "Sam liked to run"
         "The bird sang" "Mom made a cake" "A little boy" "The tree was tall" "Sue found a box" "The car was fast"
         "Ben and Mia" "It was a rainy day" "The fish swam" "A big bear")
tokens="${GEN_TOKENS:-500}"
mkdir -p "$work/gen"
for i in "${!prompts[@]}"; do
  [ -s "$work/gen/local-$i-$tokens.txt" ] || cleave generate --model "$work/llm" --local --prompt "${prompts[$i]}" --max-tokens "$tokens" \
    > "$work/gen/local-$i-$tokens.txt" 2>/dev/null
done
rm -f "$work"/gen/run-*
serve_bg "$work/serve-lm-1.log" serve-lm --model "$work/llm" --split-layer 2 --port "$lm_port"
wait_port "$lm_port" || exit 1
log "serve-lm 1 (pid $server_pid) up; 16 generate --server sessions start"
workers=()
for i in "${!prompts[@]}"; do
  ( cleave generate --model "$work/llm" --server "http://127.0.0.1:$lm_port" --split-layer 2 --prompt "${prompts[$i]}" \
      --max-tokens "$tokens" > "$work/gen/run-$i.txt" 2> "$work/gen/run-$i.err"; echo $? > "$work/gen/run-$i.rc" ) &
  workers+=($!)
done
generating() { # sessions whose text has grown 20 bytes past their prompt and that have not finished
  local n=0
  for i in "${!prompts[@]}"; do
    [ ! -f "$work/gen/run-$i.rc" ] && [ "$(stat -c %s "$work/gen/run-$i.txt" 2>/dev/null || echo 0)" -gt $(( ${#prompts[$i]} + 20 )) ] && n=$((n + 1))
  done
  echo $n
}
for _ in $(seq 1 1800); do
  g=$(generating)
  [ "$g" -ge 16 ] && break
  ls "$work"/gen/run-*.rc > /dev/null 2>&1 && [ "$g" -ge 1 ] && break # one finished already: kill now
  sleep 0.1
done
kill -9 "$server_pid"; log "serve-lm 1 killed (SIGKILL) with $g of 16 sessions generating"
sleep 3
serve_bg "$work/serve-lm-2.log" serve-lm --model "$work/llm" --split-layer 2 --port "$lm_port"
log "serve-lm 2 (pid $server_pid) starting 3 s after the kill"
for w in "${workers[@]}"; do wait "$w"; done
kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=""
python3 - "$work/gen" "$tokens" "$g" <<'EOF' || status=1
import glob, os, re, sys
d, tokens, at_kill = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = failed = resumed = retried = mismatched = 0
waits = []
for rc_path in sorted(glob.glob(os.path.join(d, "run-*.rc"))):
    base = rc_path[:-3]
    i = base.rsplit("-", 1)[1]
    runs += 1
    err = open(base + ".err").read()
    if open(rc_path).read().strip() != "0":
        failed += 1
        print(f"  session {i} failed: {err.strip()[-300:]}")
        continue
    resumed += bool(re.search(r"\b[1-9]\d* resumes", err))
    retried += bool(re.search(r"\b[1-9]\d* retries", err))
    if m := re.search(r"over ([0-9.]+) s\)", err): waits.append(float(m.group(1)))
    if open(base + ".txt").read() != open(os.path.join(d, f"local-{i}-{tokens}.txt")).read():
        mismatched += 1
        print(f"  session {i} differs from --local greedy")
print(f"generate: {runs} sessions ({at_kill} generating at the kill), {failed} failed, {retried} retried while the server was down, "
      f"{resumed} resumed from their history, {mismatched} differ from --local greedy ({tokens} tokens at most); "
      f"retrying took {min(waits, default=0):.1f}-{max(waits, default=0):.1f} s per session")
sys.exit(0 if runs == 16 and failed == 0 and mismatched == 0 and resumed >= at_kill else 1)
EOF
log "done (status $status); files in $work"
exit $status
