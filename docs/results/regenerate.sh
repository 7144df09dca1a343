#!/usr/bin/env bash
# Regenerates docs/results/mobilenetv2/ (report.html, results.json, results.csv, PNGs): MobileNetV2 over the 1000-image
# ImageNet sample, 7 splits x 14 codecs (raw included) plus JPEG/WebP offload and local baselines.
# Run from the repository root; needs ../shared/assets (or CLEAVE_ASSETS). About 15-30 minutes on a 2-core machine.
set -euo pipefail
ASSETS="${CLEAVE_ASSETS:-../shared/assets}"
WORK="${TMPDIR:-/tmp}/cleave-results"
mkdir -p "$WORK"
dotnet build src/Cleave.Cli -c Release -r linux-x64 -v q -nologo >/dev/null
CLEAVE="dotnet src/Cleave.Cli/bin/Release/net10.0/linux-x64/cleave.dll"
$CLEAVE import "$ASSETS/vision/mobilenet_v2_1.0_224_quant.tflite" -o "$WORK/mobilenet_v2.onnx"
P=MobilenetV2
$CLEAVE sweep --model "$WORK/mobilenet_v2.onnx" --data "$ASSETS/imagenet-sample" \
  --splits "$P/expanded_conv_2/add;$P/expanded_conv_5/add;$P/expanded_conv_6/depthwise/Relu6;$P/expanded_conv_9/add;$P/expanded_conv_12/add;$P/expanded_conv_16/project/add_fold;$P/Logits/AvgPool" \
  --codecs "quant:bits={4,5},entropy=rans;rans-ifc:bits=3,levels={5,6,7},clip=4;rans-ifc:bits=3,levels=6,clip=3;rans-ifc:bits=4,levels=8,clip={4,5};slicer:target=snr:15;rans-ifc:bits=3,levels={6,7},clip=4,ctx=2d;rans-ifc:bits=3,levels=6,clip=3,ctx=2d;rans-ifc:bits=4,levels=8,clip=4,ctx=2d" \
  --baselines "jpeg:q={50,75,90,95,98};webp:q={50,75,90,95};local" \
  --report docs/results/mobilenetv2 "$@"
