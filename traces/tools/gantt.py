#!/usr/bin/env python3
"""gantt.py: a per-layer Gantt chart from a cimtlm transaction log (--trace-json).

    /usr/bin/python3 traces/tools/gantt.py --trace trace.json --out gantt.png [--title T]

The layers are the intervals on the `chip.controller` track (event name = layer name). Within each layer the
script computes, for every class of module track, the union of that class's transaction intervals clipped to
the layer (so parallel units count once):

    array+ADC        tracks containing '.subarray_'          (crossbar read + ADC conversions)
    accumulation     tracks ending in '.pe_N' (PE adder tree) and 'chip.accumulator' (cross-tile adds)
    buffers          tracks containing 'buffer'              (global buffer and tile buffer ports)
    interconnect     tracks containing 'htree'               (the shared H-tree link)
    other digital    tracks containing 'activation' or 'pooling'

It draws one row per layer (layers with zero duration, e.g. flatten, are left out): the layer's span as a
light box and, inside it, one thin lane per class with its busy intervals; x is simulated time in
microseconds. It also prints the per-layer busy time per class as a table on stdout.

Track 'chip.tile_N' (the tile's whole compute transaction) and 'chip.controller' itself belong to no class.
Standard library + matplotlib (Agg backend); works on large traces (ResNet-18) because intervals are merged
per class before drawing.
"""
import argparse
import bisect
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

CLASSES = [  # (key, label, colour)
    ("array", "array+ADC", "#1f77b4"),
    ("accumulation", "accumulation", "#ff7f0e"),
    ("buffer", "buffers", "#2ca02c"),
    ("interconnect", "interconnect (H-tree)", "#d62728"),
    ("other", "other digital", "#9467bd"),
]
PE_TRACK = re.compile(r"\.pe_\d+$")


def classify(track):
    if ".subarray_" in track:
        return "array"
    if PE_TRACK.search(track) or track.endswith(".accumulator"):
        return "accumulation"
    if "buffer" in track:
        return "buffer"
    if "htree" in track:
        return "interconnect"
    if "activation" in track or "pooling" in track:
        return "other"
    return None


def merge(intervals):
    """Union of (start, end) intervals, sorted, zero-length ones dropped."""
    out = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return out


def clip(merged, starts, lo, hi):
    """The parts of the merged, sorted intervals that fall in [lo, hi)."""
    i = max(0, bisect.bisect_right(starts, lo) - 1)
    out = []
    while i < len(merged) and merged[i][0] < hi:
        s, e = max(merged[i][0], lo), min(merged[i][1], hi)
        if e > s:
            out.append((s, e))
        i += 1
    return out


def load(path):
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    names = {e["tid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    ctrl = [tid for tid, n in names.items() if n == "chip.controller"]
    if not ctrl:
        raise SystemExit(f"{path}: no chip.controller track (was the trace written by cimtlm run --trace-json?)")
    cls_of = {tid: classify(n) for tid, n in names.items()}
    layers, per_class = [], {k: [] for k, _, _ in CLASSES}
    for e in events:
        if e.get("ph") != "X":
            continue
        s, d = float(e["ts"]), float(e["dur"])
        if e["tid"] in ctrl:
            layers.append((s, s + d, e["name"]))
        else:
            c = cls_of.get(e["tid"])
            if c:
                per_class[c].append((s, s + d))
    layers.sort()
    merged = {k: merge(v) for k, v in per_class.items()}
    return layers, merged


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trace", required=True, help="Chrome/Perfetto JSON written by cimtlm run --trace-json")
    ap.add_argument("--out", required=True, help="output image (PNG, SVG or PDF by extension)")
    ap.add_argument("--title", default=None, help="figure title")
    a = ap.parse_args()

    layers, merged = load(a.trace)
    starts = {k: [iv[0] for iv in v] for k, v in merged.items()}
    rows = []  # (name, lo, hi, {class: [(s, e)]})
    for lo, hi, name in layers:
        if hi <= lo:
            continue
        rows.append((name, lo, hi, {k: clip(merged[k], starts[k], lo, hi) for k, _, _ in CLASSES}))
    if not rows:
        raise SystemExit(f"{a.trace}: no layer with a positive duration on chip.controller")

    # Table (stdout): busy time per class, microseconds, union within the layer.
    hdr = f"{'layer':<14}{'start us':>11}{'span us':>11}" + "".join(f"{lab.split(' ')[0]:>14}" for _, lab, _ in CLASSES)
    print(hdr)
    totals = {k: 0.0 for k, _, _ in CLASSES}
    span_total = 0.0
    for name, lo, hi, busy in rows:
        line = f"{name:<14}{lo:>11.3f}{hi - lo:>11.3f}"
        span_total += hi - lo
        for k, _, _ in CLASSES:
            b = sum(e - s for s, e in busy[k])
            totals[k] += b
            line += f"{b:>14.3f}"
        print(line)
    print(f"{'total':<14}{'':>11}{span_total:>11.3f}" + "".join(f"{totals[k]:>14.3f}" for k, _, _ in CLASSES))

    # Figure: one row per layer, top to bottom in execution order.
    n = len(rows)
    fig_h = max(3.0, 0.42 * n + 1.6)
    fig, ax = plt.subplots(figsize=(12, fig_h), dpi=110)
    lane_h = 0.8 / len(CLASSES)
    for r, (name, lo, hi, busy) in enumerate(rows):
        y0 = n - 1 - r - 0.4  # bottom of the row's box
        ax.broken_barh([(lo, hi - lo)], (y0, 0.8), facecolors="#eeeeee", edgecolors="#999999", linewidth=0.6)
        for j, (k, _, colour) in enumerate(CLASSES):
            if busy[k]:
                ax.broken_barh([(s, e - s) for s, e in busy[k]], (y0 + 0.8 - (j + 1) * lane_h + 0.01, lane_h - 0.02),
                               facecolors=colour, linewidth=0)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{name}  ({hi - lo:.2f} us)" for name, lo, hi, _ in reversed(rows)], fontsize=8)
    ax.set_ylim(-0.6, n - 0.4)
    t_end = max(hi for _, _, hi, _ in rows)
    ax.set_xlim(0, t_end * 1.01)
    ax.set_xlabel("simulated time (us)")
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)
    ax.set_axisbelow(True)
    handles = [Patch(facecolor="#eeeeee", edgecolor="#999999", label="layer span")]
    handles += [Patch(facecolor=c, label=lab) for _, lab, c in CLASSES]
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.95,
              title="lanes, top to bottom", title_fontsize=8)
    ax.set_title(a.title or f"per-layer activity ({a.trace})", fontsize=10)
    fig.tight_layout()
    fig.savefig(a.out)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
