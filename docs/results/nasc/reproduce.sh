#!/usr/bin/env bash
# Reproduces docs/planning.md "Several models": the five ImageNet MobileNets of the shared assets as one search space
# (profiles, the threshold x link table, predicted vs measured), then a trained Fashion-MNIST grid (widths x depths)
# profiled and searched the same way. Run from the repository root; needs ../shared/assets (or CLEAVE_ASSETS) and
# Debian's dataset-fashion-mnist. Writes into ${WORK:-artifacts/nasc}. On the 2-core shared dev VM at load 60-75:
# MobileNet profiles ~15 min, grid training ~16 min, grid profiles ~7 min. The profiles' compute times were re-timed
# just before the sweep and the check: cleave plan --model M "${CAL[@]}" --data ... --retime --profile-only.
set -euo pipefail
ASSETS="${CLEAVE_ASSETS:-../shared/assets}"
WORK="${WORK:-artifacts/nasc}"
mkdir -p "$WORK"
dotnet build src/Cleave.Cli -c Release -v q -nologo >/dev/null
CLEAVE="dotnet src/Cleave.Cli/bin/Release/net10.0/cleave.dll"

# 1. The MobileNets (32 calibration images, 4 cuts each, 3 codec settings, JPEG q75/q95).
CAL=(--images 32 --max-splits 4 --codecs "quant:bits=8,entropy=rans;rans-ifc:bits=4,ctx=2d;rans-ifc:bits=2,ctx=2d" --jpeg 75,95)
MODELS=""
for m in mobilenet_v2_1.0_224_quant tf2_mobilenet_v2_1.0_224_ptq mobilenet_v1_0.25_128_quant mobilenet_v1_0.5_160_quant mobilenet_v1_0.75_192_quant; do
  [ -f "$WORK/$m.onnx" ] || $CLEAVE import "$ASSETS/vision/$m.tflite" -o "$WORK/$m.onnx"
  MODELS="$MODELS${MODELS:+;}$WORK/$m.onnx"
done
$CLEAVE plan --models "$MODELS" --data "$ASSETS/imagenet-sample" "${CAL[@]}" --profile-only
$CLEAVE plan --models "$MODELS" "${CAL[@]}" --sweep-links --thresholds 25,50,100,200,400,800 --device-speed 0.25 --max-drop 50 --objective accuracy
$CLEAVE plan check --models "$MODELS" --data "$ASSETS/imagenet-sample" "${CAL[@]}" --links lora,ble,3g,lte,5g,wifi --thresholds 100,400 \
  --device-speed 0.25 --max-drop 50 --objective accuracy --planned-device --requests 20 --run-images 8

# 2. The trained Fashion-MNIST grid (200 AdamW steps at batch 64 each, seed 1), profiled on 500 test images.
$CLEAVE train fmnist-grid -o "$WORK/fmnist-grid" --widths 4,8,16 --depths 2,3,4 --steps 200 --batch 64 --lr 0.005 --warmup 20 --seed 1 --images 2000
GRID=$(ls "$WORK"/fmnist-grid/fmnist-w*.onnx | paste -sd';')
FCAL=(--images 500 --max-splits 3 --codecs "quant:bits=8,entropy=rans;rans-ifc:bits=4,ctx=2d;rans-ifc:bits=2,ctx=2d" --jpeg 90)
$CLEAVE plan --models "$GRID" --data "$WORK/fmnist-grid/test" "${FCAL[@]}" --profile-only
$CLEAVE plan --models "$GRID" "${FCAL[@]}" --link ble --device-speed 0.002 --max-drop 100 --objective accuracy --plot docs/results/nasc/fmnist-front-ble.png
