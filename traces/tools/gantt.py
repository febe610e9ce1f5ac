#!/usr/bin/env python3
"""gantt.py: a Gantt chart of a cimtlm run from its Perfetto timeline (cimtlm run --timeline-json).

    /usr/bin/python3 traces/tools/gantt.py --timeline timeline.json --out gantt.png [--by layer|image] [--title T]

Every event of the timeline is one activity of one module, with its layer and image in its arguments.

--by layer (the default; a layer-by-layer run): one row per layer, its span (first to last activity of image 0) as a
light box, and inside it one lane per class of module with the union of that class's busy intervals (parallel units
count once):

    array+ADC        subarray tracks
    accumulation     PE tracks (adder trees, RTL blocks), the tile tracks' adder trees, the accumulator
    buffers          global buffer and tile buffers
    interconnect     the H-tree interconnect
    other digital    activation and pooling units

It prints the busy time per class and layer as a table on stdout.

--by image (a pipelined run): one row per layer and one bar per image on it, from the layer's first to its last
activity for that image, coloured by image: the images flowing through the layers, overlapping in time.
Standard library + matplotlib (Agg backend).
"""
import argparse
import json
import re

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
TILE = re.compile(r"\.tile_\d+$")
PE = re.compile(r"\.pe_\d+$")


def classify(track):
    if ".subarray_" in track:
        return "array"
    if PE.search(track) or TILE.search(track) or track.endswith(".accumulator"):
        return "accumulation"
    if "buffer" in track:
        return "buffer"
    if track.endswith(".interconnect"):
        return "interconnect"
    if track.endswith(".activation") or track.endswith(".pooling"):
        return "other"
    return None


def merge(intervals):
    out = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def load(path):
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    names = {e["tid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    acts = []
    for e in events:
        if e.get("ph") != "X" or "layer" not in e.get("args", {}):
            continue
        s = float(e["ts"])
        a = e["args"]
        acts.append({"track": names.get(e["tid"], ""), "start": s, "end": s + float(e["dur"]), "layer": a["layer"],
                     "name": a.get("layer_name", f"layer {a['layer']}"), "image": a.get("image", 0)})
    if not acts:
        raise SystemExit(f"{path}: no activities with a layer (was the file written by cimtlm run --timeline-json?)")
    return acts


def by_layer(acts, ax):
    layers = {}
    for a in acts:
        if a["image"] != 0:
            continue
        layers.setdefault(a["layer"], {"name": a["name"], "acts": []})["acts"].append(a)
    rows = []
    for li in sorted(layers):
        L = layers[li]
        lo, hi = min(a["start"] for a in L["acts"]), max(a["end"] for a in L["acts"])
        if hi <= lo:
            continue
        lanes = {k: merge([(a["start"], a["end"]) for a in L["acts"] if classify(a["track"]) == k]) for k, _, _ in CLASSES}
        rows.append((L["name"], lo, hi, lanes))
    print(f"{'layer':24s}{'span us':>10s}" + "".join(f"{lab:>22s}" for _, lab, _ in CLASSES))
    for name, lo, hi, lanes in rows:
        busy = [sum(e - s for s, e in lanes[k]) for k, _, _ in CLASSES]
        print(f"{name:24s}{hi - lo:10.3f}" + "".join(f"{b:22.3f}" for b in busy))
    h = 1.0 / len(CLASSES)
    for y, (name, lo, hi, lanes) in enumerate(rows):
        ax.broken_barh([(lo, hi - lo)], (y - 0.45, 0.9), facecolors="#eeeeee", edgecolors="#999999", linewidth=0.5)
        for j, (k, _, colour) in enumerate(CLASSES):
            ax.broken_barh([(s, e - s) for s, e in lanes[k]], (y - 0.45 + j * 0.9 * h, 0.9 * h), facecolors=colour)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows], fontsize=7)
    ax.legend(handles=[Patch(color=c, label=lab) for _, lab, c in CLASSES], loc="lower right", fontsize=7)
    return len(rows)


def by_image(acts, ax):
    spans, names = {}, {}
    for a in acts:
        key = (a["layer"], a["image"])
        lo, hi = spans.get(key, (a["start"], a["end"]))
        spans[key] = (min(lo, a["start"]), max(hi, a["end"]))
        names[a["layer"]] = a["name"]
    layers = sorted({k[0] for k, (lo, hi) in spans.items() if hi > lo})
    images = sorted({k[1] for k in spans})
    cmap = plt.get_cmap("tab10")
    for y, li in enumerate(layers):
        for img in images:
            if (li, img) in spans:
                lo, hi = spans[(li, img)]
                ax.broken_barh([(lo, hi - lo)], (y - 0.4, 0.8), facecolors=cmap(img % 10), edgecolors="black",
                               linewidth=0.3)
    ax.set_yticks(range(len(layers)))
    ax.set_yticklabels([names[li] for li in layers], fontsize=7)
    ax.legend(handles=[Patch(color=cmap(i % 10), label=f"image {i}") for i in images], loc="lower right", fontsize=7)
    return len(layers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeline", required=True, help="Perfetto / Chrome JSON written by cimtlm run --timeline-json")
    ap.add_argument("--out", required=True, help="output image (PNG, SVG or PDF by extension)")
    ap.add_argument("--by", choices=["layer", "image"], default="layer")
    ap.add_argument("--title", default=None)
    a = ap.parse_args()
    acts = load(a.timeline)
    fig, ax = plt.subplots(figsize=(11, 6))
    n = by_layer(acts, ax) if a.by == "layer" else by_image(acts, ax)
    ax.invert_yaxis()
    ax.set_xlabel("simulated time (us)")
    ax.set_ylim(n - 0.5, -0.5)
    if a.title:
        ax.set_title(a.title)
    fig.tight_layout()
    fig.savefig(a.out, dpi=130)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
