#!/usr/bin/env bash
# Runs `cleave split --verify` at every candidate split point `cleave inspect` lists for a model and prints one line
# per cut plus a summary. Usage: docs/split-sweep.sh MODEL.onnx [extra inspect/split options...]
set -uo pipefail
model="$1"; shift
cli="${CLEAVE:-dotnet run --project src/Cleave.Cli -c Release --}"
out="$(mktemp -d)"
cuts=$($cli inspect "$model" --json "$@" | python3 -c 'import json,sys; [print(",".join(p["tensors"])) for p in json.load(sys.stdin)["split_points"]]')
pass=0; fail=0; start=$(date +%s)
for cut in $cuts; do
  line=$($cli split "$model" --at "$cut" -o "$out/s" --verify "$@" 2>&1 | grep -E "^verify|cannot|failed")
  if echo "$line" | grep -q "^verify    passed"; then pass=$((pass+1)); else fail=$((fail+1)); fi
  echo "$cut: $line"
done
echo "$pass passed, $fail failed at $(echo "$cuts" | wc -l) candidate cuts in $(( $(date +%s) - start )) s"
rm -rf "$out"
