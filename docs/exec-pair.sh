#!/usr/bin/env bash
# Execution plans head to head (issue 18, item 2): a fresh `cleave serve SPLIT` per run, configurations alternated
# round by round, each run `cleave loadtest --clients 32 --duration S --json`; prints one line per run and the medians.
# Usage: docs/exec-pair.sh SPLIT_DIR [ROUNDS=3] [SECONDS=60] [OUT=exec-pair-out]
#   CLEAVE="dotnet path/to/cleave.dll" (default: cleave on PATH); IMAGES (default ../shared/assets/imagenet-sample);
#   CONFIGS: "name|serve options;name|serve options;..." (default: one session x 1 thread x batch 1; --exec auto;
#   --max-batch 1, the best hand-picked setting of the earlier measurements in docs/serving.md).
set -euo pipefail
SPLIT=$1; ROUNDS=${2:-3}; SECONDS_PER_RUN=${3:-60}; OUT=${4:-exec-pair-out}
CLEAVE=${CLEAVE:-cleave}; IMAGES=${IMAGES:-../shared/assets/imagenet-sample}
CONFIGS=${CONFIGS:-"one|--exec streams=1,threads=1,batch=1,delay-ms=0;auto|--exec auto;hand|--max-batch 1"}
mkdir -p "$OUT"
IFS=';' read -r -a configs <<< "$CONFIGS"
for round in $(seq 1 "$ROUNDS"); do
  for config in "${configs[@]}"; do
    name=${config%%|*}; args=${config#*|}
    port=$((20000 + RANDOM % 20000))
    # shellcheck disable=SC2086
    $CLEAVE serve "$SPLIT" --port "$port" $args > "$OUT/$name-$round.serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 240); do grep -q "listening on" "$OUT/$name-$round.serve.log" && break; sleep 0.5; done
    echo "$(date -u +%H:%M:%S) round $round $name ($args): $(grep 'execution plan' "$OUT/$name-$round.serve.log"); load $(cut -d' ' -f1-3 /proc/loadavg)"
    $CLEAVE loadtest --server "http://127.0.0.1:$port" --split "$SPLIT" --images "$IMAGES" --clients 32 \
      --duration "$SECONDS_PER_RUN" --json > "$OUT/$name-$round.json" 2> "$OUT/$name-$round.loadtest.log" || true
    kill -TERM "$server"; wait "$server" || true  # SIGTERM: a background job of a script ignores SIGINT
  done
done
python3 - "$OUT" <<'PY'
import json, sys, glob, statistics, os
out = sys.argv[1]; runs = {}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    name = os.path.basename(path).rsplit("-", 1)[0]
    try: r = json.load(open(path))
    except Exception as e: print(path, "unreadable:", e); continue
    runs.setdefault(name, []).append(r)
    print(f"{os.path.basename(path)}: {r['throughput_per_second']:.1f} req/s, lost {r['lost']}, refused {r['refused']}, "
          f"server CPU {1000*r['server_cpu_seconds_per_request']:.2f} ms/req, alloc {r.get('server_allocated_bytes_per_request',0)/1024:.1f} KiB/req, "
          f"mean batch {r['mean_batch_size']:.2f}, p50 {r['latency_p50_ms']:.0f} ms")
med = {n: statistics.median(x['throughput_per_second'] for x in rs) for n, rs in runs.items()}
for n, rs in runs.items():
    print(f"median {n}: {med[n]:.1f} req/s over {len(rs)} runs; server CPU {statistics.median(1000*x['server_cpu_seconds_per_request'] for x in rs):.2f} ms/req; lost {sum(x['lost'] for x in rs)}")
if "one" in med:
    for n in med:
        if n != "one": print(f"{n} / one = {med[n] / med['one']:.2f}")
PY
