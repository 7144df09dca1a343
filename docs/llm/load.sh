#!/usr/bin/env bash
# Throughput of one generation server under 32 sessions at once vs one session at a time (docs/llm.md),
# best of 3 alternating rounds each.
# usage: CLEAVE=path/to/cleave bash docs/llm/load.sh MODEL_DIR [WORKERS] [CODEC] [TOKENS] [BATCH_DECODE on|off]
set -euo pipefail
CLEAVE=${CLEAVE:-cleave}
MODEL=$1; WORKERS=${2:-2}; CODEC=${3:-tq:levels=24,clip=5}; TOKENS=${4:-64}; BATCH=${5:-off}
PORT=$((50200 + RANDOM % 500))
$CLEAVE serve-lm --model "$MODEL" --split-layer 2 --port $PORT --workers "$WORKERS" --batch-decode "$BATCH" 2>/dev/null &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
sleep 3
$CLEAVE generate --model "$MODEL" --server http://127.0.0.1:$PORT --split-layer 2 --codec "$CODEC" --max-tokens "$TOKENS" \
  --sessions 32 --compare-serial --rounds 3 --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
c, s = d['concurrent'], d['serial']
print(f\"workers $WORKERS, batch-decode $BATCH, $CODEC: 32 at once {c['steps_per_second']:.0f} tokens/s ({c['seconds']:.2f} s, server {c['server_ms_per_token']:.3f} ms/token); \"
      f\"one at a time {s['steps_per_second']:.0f} tokens/s ({s['seconds']:.2f} s, server {s['server_ms_per_token']:.3f} ms/token); ratio {d['speedup']:.2f}\")"
