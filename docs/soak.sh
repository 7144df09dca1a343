#!/usr/bin/env bash
# Soak: N clients against one `cleave serve` for D seconds; samples the server's RSS and its bounded structures
# (idempotency cache entries and bytes, queue depth, open streams) from /metrics every 10 s, and reports RSS growth
# from the first minute to the end (issue 13 target: < 5 %).
# Usage: docs/soak.sh [CLIENTS=32] [DURATION_S=600]
#   env: CLEAVE=path/to/cleave, ASSETS=../shared/assets, SERVE_ARGS="--idempotency-age-s 60" (more `serve` options)
set -euo pipefail
clients="${1:-32}"; duration="${2:-600}"
cli="${CLEAVE:-dotnet src/Cleave.Cli/bin/Release/net10.0/cleave.dll}"
assets="${ASSETS:-../shared/assets}"
work="$(mktemp -d)"; port=7191; metrics_port=9191
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
$cli import "$assets/vision/mobilenet_v2_1.0_224_quant.tflite" -o "$work/mnv2.onnx" >/dev/null
$cli split "$work/mnv2.onnx" --at MobilenetV2/expanded_conv_5/add -o "$work/split5" >/dev/null
$cli serve "$work/split5" --port $port --metrics-port $metrics_port ${SERVE_ARGS:-} >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$metrics_port/metrics" >/dev/null && break; sleep 1; done
sample() {
  local rss; rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
  curl -sf "http://127.0.0.1:$metrics_port/metrics" | awk -v t="$1" -v rss="$rss" '
    /^cleave_idempotency_entries / {e=$2} /^cleave_idempotency_bytes / {b=$2} /^cleave_queue_depth/ {q=$2}
    /^cleave_streams_active / {s=$2} /^cleave_requests_executed_total/ {x=$2} /^dotnet_gc_heap_bytes / {h=$2}
    END {printf "t=%ss rss_mib=%.1f gc_heap_mib=%.1f cache_entries=%d cache_mib=%.2f queue=%d streams=%d executed=%d\n", t, rss/1024, h/1048576, e, b/1048576, q, s, x}'
}
start=$(date +%s)
$cli loadtest --server "http://127.0.0.1:$port" --metrics-url "http://127.0.0.1:$metrics_port" --split "$work/split5" \
  --images "$assets/imagenet-sample" --limit 32 --clients "$clients" --duration "$duration" --json >"$work/load.json" 2>"$work/load.log" &
load=$!
while kill -0 "$load" 2>/dev/null; do
  t=$(( $(date +%s) - start ))
  sample "$t" | tee -a "$work/samples"
  sleep 10
done
wait "$load"
sample "$(( $(date +%s) - start ))" | tee -a "$work/samples"
python3 - "$work/load.json" "$work/samples" <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1]))
rows = [dict(re.findall(r"(\w+)=([\d.]+)", l)) for l in open(sys.argv[2])]
first = next(r for r in rows if float(r["t"].rstrip("s")) >= 60)
last = rows[-1]
growth = (float(last["rss_mib"]) / float(first["rss_mib"]) - 1) * 100
print(f"answered {report['answered']} refused {report['refused']} lost {report['lost']} p99 {report['latency_p99_ms']:.0f} ms throughput {report['throughput_per_second']:.1f}/s; "
      f"RSS at {first['t']}s {first['rss_mib']} MiB -> end {last['rss_mib']} MiB ({growth:+.1f} %); "
      f"GC heap {first.get('gc_heap_mib', '?')} -> {last.get('gc_heap_mib', '?')} MiB; "
      f"max cache entries {max(int(r['cache_entries']) for r in rows)}, max cache MiB {max(float(r['cache_mib']) for r in rows):.2f}, "
      f"max queue {max(int(r['queue']) for r in rows)}")
PY
