#!/usr/bin/python3
"""Plot a paper-reproduction sweep (configs/experiments/fig*.yaml) from its results.csv.

Usage: plot_results.py FIGURE RESULTS_CSV OUT_PNG
  FIGURE: fig3 (retention), fig4 (ADC precision), vit_adc (the shipped transformer: ADC precision by device
  variation), fig5 (array size, with a radar plot), fig6 (area and energy
  breakdowns), fig7 (run.activity: real, pseudo, average). fig6 and fig7 also read each point's report.json (breakdowns, run times) from
  the points/ folder next to results.csv.
Matplotlib with the Agg backend (no display needed). The PNG is written atomically.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_results import load, report  # noqa: E402

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CATEGORIES = ["array", "adc", "accumulation", "buffer", "interconnect", "other"]


def need(rows, path, *cols):
    for c in cols:
        if c not in rows[0]:
            sys.exit(f"plot_results.py: {path}: column '{c}' missing (is this the right sweep?)")


def fig3(rows, path):
    need(rows, path, "device.drift", "accuracy")
    if "device.time" not in rows[0]:  # one time and rate (the reduced sweep): accuracy per scenario
        fig, ax = plt.subplots(figsize=(5, 3.4))
        ax.bar([r["device.drift"] for r in rows], [100 * float(r["accuracy"]) for r in rows])
        ax.set_ylabel("accuracy (%)")
        ax.grid(True, axis="y", alpha=0.3)
        return fig
    need(rows, path, "device.drift_rate", "device.time")
    rates = sorted({float(r["device.drift_rate"]) for r in rows}, reverse=True)
    fig, axes = plt.subplots(1, len(rates), figsize=(4.2 * len(rates), 3.6), sharey=True, squeeze=False)
    for ax, rate in zip(axes[0], rates):
        for mode in ("to_max", "to_min", "to_target", "random"):
            pts = sorted((float(r["device.time"]), 100 * float(r["accuracy"])) for r in rows
                         if r["device.drift"] == mode and float(r["device.drift_rate"]) == rate)
            if pts:
                ax.plot(*zip(*pts), marker="o", label=mode.replace("_", " "))
        ax.set_xscale("log")
        ax.set_xlabel("time after programming (s)")
        ax.set_title(f"drift {100 * rate:.0f} % at 10 years")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("accuracy (%)")
    axes[0][0].legend()
    return fig


def fig4(rows, path):
    need(rows, path, "subarray.rows", "cell.bits", "subarray.adc_bits", "accuracy", "accuracy_ideal")
    for r in rows:  # a sweep that does not vary the transfer (the reduced one): label it by its config
        r.setdefault("adc.transfer", "configured")
    sizes = sorted({int(r["subarray.rows"]) for r in rows})
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 3.6), sharey=True, squeeze=False)
    for ax, n in zip(axes[0], sizes):
        for bits in sorted({int(r["cell.bits"]) for r in rows}):
            for tr, style in (("linear", "--"), ("nonlinear", "-"), ("configured", "-")):
                pts = sorted((int(r["subarray.adc_bits"]), 100 * float(r["accuracy"])) for r in rows
                             if int(r["subarray.rows"]) == n and int(r["cell.bits"]) == bits and r["adc.transfer"] == tr)
                if pts:
                    ax.plot(*zip(*pts), style, marker="o", label=f"{bits}-bit cell, {tr}")
        ideal = max(100 * float(r["accuracy_ideal"]) for r in rows)
        ax.axhline(ideal, color="k", lw=0.8, ls=":", label="ideal hardware")
        ax.set_xlabel("ADC precision (bits)")
        ax.set_title(f"{n}x{n} subarrays")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("accuracy (%)")
    axes[0][0].legend(fontsize=7)
    return fig


def vit_adc(rows, path):
    need(rows, path, "subarray.adc_bits", "device.d2d_sigma", "accuracy", "accuracy_ideal")
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    for sigma in sorted({float(r["device.d2d_sigma"]) for r in rows}):
        pts = sorted((int(r["subarray.adc_bits"]), 100 * float(r["accuracy"])) for r in rows
                     if float(r["device.d2d_sigma"]) == sigma)
        ax.plot(*zip(*pts), "-", marker="o", label=f"device-to-device sigma {100 * sigma:g} %")
    ideal = max(100 * float(r["accuracy_ideal"]) for r in rows)
    ax.axhline(ideal, color="k", lw=0.8, ls=":", label="ideal hardware (integer model)")
    ax.set_xlabel("ADC precision (bits)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("fmnist_vit on RRAM, 128x128 subarrays")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def fig5(rows, path):
    need(rows, path, "subarray.rows", "area_m2", "tops_per_w", "fps", "memory_utilization", "accuracy")
    rows = sorted(rows, key=lambda r: int(r["subarray.rows"]))
    sizes = [int(r["subarray.rows"]) for r in rows]
    metrics = [("area (mm²)", lambda r: 1e6 * float(r["area_m2"]), False),
               ("energy efficiency (TOPS/W)", lambda r: float(r["tops_per_w"]), True),
               ("throughput (FPS)", lambda r: float(r["fps"]), True),
               ("memory utilisation (%)", lambda r: 100 * float(r["memory_utilization"]), True),
               ("accuracy (%)", lambda r: 100 * float(r["accuracy"]), True)]
    fig = plt.figure(figsize=(15, 3.6))
    for i, (name, f, _) in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics) + 1, i + 1)
        ax.plot(sizes, [f(r) for r in rows], marker="o")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [f"{s}x{s}" for s in sizes])
        ax.set_title(name, fontsize=9)
        ax.grid(True, alpha=0.3)
    # Radar: each metric normalised to the best design (area inverted: smaller is better).
    ax = fig.add_subplot(1, len(metrics) + 1, len(metrics) + 1, projection="polar")
    angles = [2 * math.pi * i / len(metrics) for i in range(len(metrics))] + [0]
    for r in rows:
        vals = []
        for name, f, higher in metrics:
            all_v = [f(x) for x in rows]
            vals.append(f(r) / max(all_v) if higher else min(all_v) / f(r))
        ax.plot(angles, vals + vals[:1], label=f"{r['subarray.rows']}x{r['subarray.cols']}")
    ax.set_xticks(angles[:-1], [m[0].split(" (")[0] for m in metrics], fontsize=7)
    ax.set_yticklabels([])
    ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.3, -0.1))
    return fig


def fig6(rows, path):
    need(rows, path, "subarray.adc_bits")
    for r in rows:  # a sweep that does not vary the cell bits (the reduced one)
        r.setdefault("cell.bits", "?")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    rows = sorted(rows, key=lambda r: (r["cell.bits"], int(r["subarray.adc_bits"])))
    labels = [f"cell {r['cell.bits']}b, ADC {r['subarray.adc_bits']}b" for r in rows]
    reps = [report(path, r)["breakdown"] for r in rows]
    for ax, key, scale, unit in ((axes[0], "area_m2", 1e6, "area (mm²)"), (axes[1], "dynamic_energy_j", 1e6, "dynamic energy (µJ)")):
        bottom = [0.0] * len(rows)
        for c in CATEGORIES:
            v = [scale * rep[key][c] for rep in reps]
            ax.bar(range(len(rows)), v, bottom=bottom, label=c)
            bottom = [b + x for b, x in zip(bottom, v)]
        ax.set_xticks(range(len(rows)), labels, fontsize=7, rotation=90)
        ax.set_ylabel(unit)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=7)
    return fig


def fig7(rows, path):
    need(rows, path, "run.activity", "tops_per_w", "fps", "dynamic_energy_j")
    order = {"real": 0, "pseudo": 1, "average": 2}
    rows = sorted(rows, key=lambda r: order.get(r["run.activity"], 9))
    names = [r["run.activity"] for r in rows]
    wall = [report(path, r)["run"]["wall_time_s"] for r in rows]
    metrics = [("energy efficiency (TOPS/W)", [float(r["tops_per_w"]) for r in rows]),
               ("dynamic energy (µJ)", [1e6 * float(r["dynamic_energy_j"]) for r in rows]),
               ("throughput (FPS)", [float(r["fps"]) for r in rows]),
               ("simulator wall time (s)", wall)]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.4))
    for ax, (name, v) in zip(axes, metrics):
        ax.bar(names, v, color=["tab:green", "tab:orange", "tab:gray"][: len(v)])
        ax.set_title(name, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    return fig


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("fig3", "fig4", "fig5", "fig6", "fig7", "vit_adc"):
        sys.exit(__doc__)
    name, path, out = sys.argv[1:]
    fig = globals()[name](load(path), path)
    fig.tight_layout()
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
