#!/usr/bin/env python3
"""Per-level verdict of the rate-distortion study (docs/codecs.md): do slicer and rans-ifc need fewer bytes than
quant+zstd at every distortion level measured? Reads the study's results.csv, writes Markdown to stdout.

Levels are SNRs of 10, 15, 20, 25 and 30 dB (total over each set). Each family's bytes at a level are log-interpolated
along its own measured points (bytes vs SNR). Below a family's lowest SNR a Cleave codec is charged its lowest point's
bytes (it reaches at least that SNR with them: an upper bound), while quant+zstd gets n/a (no flattering
extrapolation); above a family's highest SNR the entry is n/a. A second table compares rans-ifc with quant+zstd at the
same bit depth, where both use the same grid and so have exactly the same distortion (no interpolation).
Usage: docs/rd-verdict.py results.csv [OPTIONS_LABEL] > verdict.md
OPTIONS_LABEL (default "rows=ref") names the options of the "+rows" families in the headings, e.g. "rows=ref,ctx=2d"
when the study ran those families with both options.
"""
import csv
import math
import sys
from collections import defaultdict

LEVELS = [10, 15, 20, 25, 30]
ZSTD = "quant+zstd"
FAMILIES = [("slicer target+rows", "slicer rows=ref"), ("rans-ifc+rows", "rans-ifc rows=ref"),
            ("slicer target", "slicer"), ("rans-ifc", "rans-ifc")]


def at_level(points, snr, conservative_below):
    """Bytes at `snr` along points [(snr, bytes)], log-interpolated; None when not measured there."""
    points = sorted(points)
    if not points or snr > points[-1][0]:
        return None
    if snr <= points[0][0]:
        return points[0][1] if conservative_below or snr == points[0][0] else None
    for (s0, b0), (s1, b1) in zip(points, points[1:]):
        if s0 <= snr <= s1:
            t = (snr - s0) / (s1 - s0) if s1 > s0 else 0
            return math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0)))
    return None


def fmt(b):
    return "n/a" if b is None else f"{b:,.0f}"


def main(path, label="rows=ref"):
    rows = list(csv.DictReader(open(path, newline="")))
    by_set = defaultdict(lambda: defaultdict(list))
    by_codec = defaultdict(dict)
    order = []
    for r in rows:
        if r["set"] not in order:
            order.append(r["set"])
        by_set[r["set"]][r["family"]].append((float(r["snr_db"]), int(r["bytes"])))
        by_codec[r["set"]][r["codec"]] = r
    print("Bytes per set (all tensors of the set together) needed to reach each SNR; verdict = both Cleave codecs with")
    print(f"`{label}` below quant+zstd. The plain (no `{label}`) codecs are shown for comparison.\n")
    print(f"| set | level | slicer {label} B | rans-ifc {label} B | quant+zstd B | verdict | slicer B | rans-ifc B |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    losses = 0
    for name in order:
        fam = by_set[name]
        for level in LEVELS:
            z = at_level(fam[ZSTD], level, False)
            values = [at_level(fam[f], level, True) for f, _ in FAMILIES]
            s, r = values[0], values[1]
            if z is None:
                verdict = "n/a (outside quant+zstd's range)"
            elif s is None or r is None:
                verdict = "n/a (outside a Cleave curve)"
            else:
                worst = max(s, r) / z
                verdict = f"win (worst {worst:.3f}x)" if worst < 1 else f"**loss** ({max(s, r) / z:.3f}x)"
                losses += worst >= 1
            print(f"| {name} | {level} dB | {fmt(s)} | {fmt(r)} | {fmt(z)} | {verdict} | {fmt(values[2])} | {fmt(values[3])} |")
    print(f"\nLevels where a Cleave codec with {label} is not below quant+zstd: {losses}.\n")
    print("Same grid, same distortion: rans-ifc against quant+zstd at each bit depth (bytes, whole set).\n")
    print(f"| set | bits | SNR dB | rans-ifc {label} B | rans-ifc B | quant+zstd B | {label} / zstd |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in order:
        codecs = by_codec[name]
        for bits in (3, 4, 5, 6, 8):
            z = codecs.get(f"quant:bits={bits},entropy=zstd,level=1")
            r = codecs.get(f"rans-ifc:bits={bits},{label}")
            p = codecs.get(f"rans-ifc:bits={bits}")
            if not (z and r and p):
                continue
            ratio = int(r["bytes"]) / int(z["bytes"])
            print(f"| {name} | {bits} | {float(z['snr_db']):.1f} | {int(r['bytes']):,} | {int(p['bytes']):,} | {int(z['bytes']):,} | {ratio:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1], *sys.argv[2:3])
