#!/usr/bin/env bash
# Multi-task serving measurement (docs/trained-architectures.md, "Multi-task"): one server with the MobileNetV2 split
# at expanded_conv_9/add and two task tails (the pretrained 1000-class tail "default" and the trained WordNet
# coarse tail "coarse"); three client runs over the same eval500 images: both tasks in one request, and each task
# alone. Usage: docs/multitask-measure.sh CLEAVE SPLIT_DIR EVAL_DIR LIMIT OUT_DIR
set -euo pipefail
cleave=$1 split=$2 images=$3 limit=$4 out=$5
mkdir -p "$out"
port=7391
"$cleave" serve "$split" --port $port --max-batch 1 --threads 2 > "$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q "listening\|serving\|http://" "$out/serve.log" 2>/dev/null && break; sleep 1; done
sleep 2
uptime > "$out/uptime.txt"
for tasks in default,coarse default coarse; do
  "$cleave" client --server http://127.0.0.1:$port --split "$split" --images "$images" --limit "$limit" --in-flight 1 \
    --tasks "$tasks" --json > "$out/client-${tasks/,/+}.json" 2> "$out/client-${tasks/,/+}.err"
  uptime >> "$out/uptime.txt"
done
