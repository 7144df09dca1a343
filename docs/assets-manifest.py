#!/usr/bin/env python3
"""Writes src/Cleave.Models/Assets/upstream-assets.tsv from a copy of the shared assets (run from the repository root:
python3 docs/assets-manifest.py ../shared/assets). Sources are the pinned commits that ../shared/assets/README.md names."""
import os, sys

root = sys.argv[1] if len(sys.argv) > 1 else "../shared/assets"
coral = "https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41/"
sample = "https://raw.githubusercontent.com/EliSchwartz/imagenet-sample-images/bc69043e2862758a1906c6a24a792bb28c6bb2ff/"
llm = "https://raw.githubusercontent.com/bennyz/esp32-llm/8dc3443/data/"
demo = {"vision/mobilenet_v2_1.0_224_quant.tflite", "vision/imagenet_labels.txt", "vision/imagenet_wnids.txt"}
rows = []
for line in open(os.path.join(root, "SHA256SUMS")):
    digest, path = line.split()
    top, name = path.split("/", 1)
    if path == "vision/imagenet_wnids.txt": source = "derived:wnids"
    elif top == "vision": source = coral + name
    elif top == "imagenet-sample": source = sample + name
    elif path in ("llm/stories260K.bin", "llm/tok512.bin"): source = llm + name
    else: source = "none"
    groups = ("demo,vision" if top == "imagenet-sample" or path in demo else
              top if top in ("vision", "llm", "text") else "reference")
    rows.append((path, groups, os.path.getsize(os.path.join(root, path)), digest, source))
with open("src/Cleave.Models/Assets/upstream-assets.tsv", "w") as f:
    f.write("# The upstream files behind ../shared/assets (its README.md names the repositories and pinned commits):\n")
    f.write("# path, groups for `cleave assets fetch --only`, size in bytes, SHA-256, and where it comes from: a URL at a pinned\n")
    f.write("# commit, derived:wnids (the sorted wnids of imagenet-sample's file names), or none (made for this project; no upstream).\n")
    f.write("# Regenerate with docs/assets-manifest.py after the shared assets change.\n")
    for row in sorted(rows): f.write("\t".join(map(str, row)) + "\n")
