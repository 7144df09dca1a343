#!/usr/bin/env bash
# Regenerates the rate-distortion study of docs/codecs.md: imports MobileNetV2 and stories260K from the shared
# assets, dumps real intermediate features (100 ImageNet-sample images at four MobileNetV2 cuts; the five
# TinyStories documents' hidden states after layers 1 and 3), runs every codec family over them, and writes the
# per-level verdict against quant+zstd (python3, standard library only).
# Usage: docs/rd-study.sh [WORK_DIR] [REPORT_DIR]   (defaults: /tmp/cleave-rd, docs/rd); CODECS=... overrides the list
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/cleave-rd}"; report="${2:-docs/rd}"
assets="${CLEAVE_ASSETS:-../shared/assets}"
dotnet build src/Cleave.Cli -c Release -v q >/dev/null
cli=src/Cleave.Cli/bin/Release/net10.0/cleave
mkdir -p "$work"
default_codecs="quant+rANS=quant:bits={3,4,5,6,8},entropy=rans;quant+zstd=quant:bits={3,4,5,6,8},entropy=zstd,level=1;fp16;\
top-K=slicer:keep={0.05,0.1,0.25,0.5},asym=1,blocks=1,delta=0;\
slicer fixed=slicer:keep=1,blocks=8,delta={0.1,0.03,0.01,0.003,0.001};slicer target=slicer:target=snr:{10,15,20,25,30};\
rans-ifc=rans-ifc:bits={3,4,5,6,8};rans-ifc clip=rans-ifc:bits=6,levels={12,20,28,40},clip=6;\
slicer target+rows=slicer:target=snr:{10,15,20,25,30},rows=ref;rans-ifc+rows=rans-ifc:bits={3,4,5,6,8},rows=ref"

$cli import "$assets/vision/mobilenet_v2_1.0_224_quant.tflite" -o "$work/mnv2.onnx"
for cut in expanded_conv_2/add expanded_conv_5/add expanded_conv_9/add expanded_conv_6/expand/Relu6; do
  $cli dump "$work/mnv2.onnx" --at "MobilenetV2/$cut" --images "$assets/imagenet-sample" --limit 100 -o "$work/mnv2_${cut//\//_}"
done
$cli import "$assets/llm/stories260K.bin" --tokenizer "$assets/llm/tok512.bin" -o "$work/stories" --splits
for k in 1 3; do
  $cli dump "$work/stories" --layer $k --text "$assets/llm/tinystories_sample.txt" -o "$work/lm_layer$k"
done

$cli codec study --report "$report" \
  --sets "MobileNetV2 expanded_conv_2/add [24x56x56]=$work/mnv2_expanded_conv_2_add;MobileNetV2 expanded_conv_5/add [32x28x28]=$work/mnv2_expanded_conv_5_add;MobileNetV2 expanded_conv_9/add [64x14x14]=$work/mnv2_expanded_conv_9_add;MobileNetV2 expanded_conv_6/expand/Relu6 [192x28x28]=$work/mnv2_expanded_conv_6_expand_Relu6;stories260K layer 1 [T x 64]=$work/lm_layer1;stories260K layer 3 [T x 64]=$work/lm_layer3" \
  --codecs "${CODECS:-$default_codecs}"
# The per-level verdict against quant+zstd (docs/rd/verdict.md), from results.csv.
python3 docs/rd-verdict.py "$report/results.csv" > "$report/verdict.md"
