#!/usr/bin/python3
"""Compare a sweep of configs/experiments/neurosim_table7.yaml with Table VII of the DNN+NeuroSim V1.4 user manual.

Usage: neurosim_table7.py out/sweeps/neurosim_table7/results.csv [--markdown]

The published figures (area, TOPS, TOPS/W) are copied below from the manual (version of 2023-12-29, page 32; the
table was generated on 2023-09-27). Both count 2 operations per MAC (NeuroSim's numComputation is twice the sum over
layers of the MACs; for VGG-8 on CIFAR-10 it is 1,231,835,136, twice cimtlm's 615,917,568 MACs). NeuroSim divides its
TOPS/W by its calibration factor zeta = 1.22; cimtlm's figure is its own (Table 1 calibration). The manual does not
say whether its TOPS is the pipelined or the layer-by-layer figure; the experiment runs the pipelined mode.
"""
import argparse
import csv
import math
import sys

# memory, node nm, rows read in parallel, area mm^2, TOPS, TOPS/W (manual Table VII)
TABLE7 = [
    ("RRAM", 22, 32, 381.90, 6.25, 11.25),
    ("RRAM", 22, 64, 378.06, 8.16, 19.88),
    ("SRAM", 22, 32, 85.97, 6.06, 8.76),
    ("SRAM", 22, 64, 84.39, 8.01, 17.13),
    ("SRAM", 5, 32, 14.64, 11.48, 32.43),
    ("SRAM", 5, 64, 14.33, 11.96, 54.41),
    ("SRAM", 1, 32, 8.34, 12.27, 65.08),
    ("SRAM", 1, 64, 8.27, 13.08, 105.97),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    a = ap.parse_args()
    with open(a.results) as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["point"]))
    if len(rows) != len(TABLE7):
        sys.exit(f"neurosim_table7.py: {a.results}: expected {len(TABLE7)} points, found {len(rows)}")
    print("| memory | node | rows | area mm² cimtlm | NeuroSim | ratio | TOPS cimtlm | NeuroSim | ratio | "
          "TOPS/W cimtlm | NeuroSim | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    logs = {"area": [], "tops": [], "tops_w": []}
    for (mem, node, par, area, tops, topsw), r in zip(TABLE7, rows):
        if r.get("subarray.partial_rows") and int(r["subarray.partial_rows"]) != par:
            sys.exit(f"neurosim_table7.py: {a.results}: point {r['point']} reads {r['subarray.partial_rows']} rows, "
                     f"Table VII's row reads {par}")
        ours = {"area": float(r["area_m2"]) * 1e6, "tops": float(r["tops"]), "tops_w": float(r["tops_per_w"])}
        theirs = {"area": area, "tops": tops, "tops_w": topsw}
        cells = []
        for k in ("area", "tops", "tops_w"):
            logs[k].append(math.log(ours[k] / theirs[k]))
            cells.append(f"{ours[k]:.4g} | {theirs[k]:.4g} | {ours[k] / theirs[k]:.2f}")
        print(f"| {mem} | {node} nm | {par} | {' | '.join(cells)} |")
    print()
    for k, v in logs.items():
        print(f"{k}: mean ln(cimtlm / NeuroSim) {sum(v) / len(v):+.2f}, range {min(v):+.2f} .. {max(v):+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
