#!/usr/bin/python3
"""Check the qualitative claims of Figs. 3-7 of the DNN+NeuroSim paper (Peng et al., IEDM 2019) on a sweep's
results.csv (full experiments under configs/experiments/, reduced ones under tests/regression/experiments/).

Usage: check_claims.py FIGURE RESULTS_CSV
Prints every figure a claim rests on, then PASS or FAIL per claim; exits 1 if a claim fails. docs/results.md
explains each claim and what the data shows.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_results import load, report  # noqa: E402


def acc(r):
    return 100.0 * float(r["accuracy"])


def matching(rows, **kv):
    """The rows whose columns equal kv (a double underscore in a name stands for the dot of a config key)."""
    return [r for r in rows if all(str(r[k.replace("__", ".")]) == str(v) for k, v in kv.items())]


def pick(rows, **kv):
    out = matching(rows, **kv)
    if len(out) != 1:
        sys.exit(f"check_claims.py: expected one point for {kv}, found {len(out)}")
    return out[0]


def fig3(rows, path):
    """Paper: drift towards the maximum or the minimum conductance degrades accuracy faster than random drift. This
    does not hold on our data: the shipped model runs with differential (G+/G-) weights, where a drift of every cell
    towards the same state is common to both cells of a pair and cancels, while random drift does not. The check
    asserts the measured behaviour (docs/results.md): after 10 years at 10 %, random drift loses more accuracy than
    drift to max or to min, and the uni-directional drifts stay within 10 pp of the ideal accuracy."""
    if "device.time" in rows[0]:  # the full sweep: 10 % at 10 years
        rows = [r for r in rows if float(r["device.drift_rate"]) == 0.10 and float(r["device.time"]) == max(
            float(x["device.time"]) for x in rows)]
    a = {r["device.drift"]: acc(r) for r in rows}
    ideal = 100.0 * float(rows[0]["accuracy_ideal"])
    print(f"accuracy at 10 years, 10 % drift (ideal {ideal:.1f} %): " + ", ".join(f"{k} {v:.1f} %" for k, v in a.items()))
    return [("(measured, against the paper) random drift degrades more than drift to max", a["random"] < a["to_max"]),
            ("(measured, against the paper) random drift degrades more than drift to min", a["random"] < a["to_min"]),
            ("drift to max or min stays within 10 pp of ideal (differential pairs cancel it)",
             min(a["to_max"], a["to_min"]) >= ideal - 10.0)]


def fig4(rows, path):
    """Paper: a 4-bit ADC keeps 1-bit-cell accuracy within 1 pp of ideal at 64x64 and 128x128, while multi-bit cells
    need a 5-bit ADC. Checked at 64x64 and 128x128: the 1-bit claim, and that 4-bit cells lose more than 1 pp with a
    4-bit ADC and are within 1 pp with a 5-bit one. (The 64x64 1-bit loss once recorded here was a mapper bug that
    dropped output channels when 14 columns per weight did not divide the PE, docs/results.md.)"""
    if "adc.transfer" in rows[0]:  # the full sweep: the claims are about the non-linear ADC
        rows = [r for r in rows if r["adc.transfer"] == "nonlinear"]
    claims = []
    for n in (64, 128):
        ideal = 100.0 * float(pick(rows, subarray__rows=n, cell__bits=1, subarray__adc_bits=4)["accuracy_ideal"])
        one4 = acc(pick(rows, subarray__rows=n, cell__bits=1, subarray__adc_bits=4))
        four4 = acc(pick(rows, subarray__rows=n, cell__bits=4, subarray__adc_bits=4))
        four5 = acc(pick(rows, subarray__rows=n, cell__bits=4, subarray__adc_bits=5))
        # 1-bit cells with a 5-bit ADC: shown when the sweep has the point (the full one does); no claim rests on it.
        one5 = matching(rows, subarray__rows=n, cell__bits=1, subarray__adc_bits=5)
        one5_text = f", 5-bit {acc(one5[0]):.1f} %" if one5 else ""
        print(f"{n}x{n}: ideal {ideal:.1f} %; 1-bit cells: 4-bit ADC {one4:.1f} %{one5_text}; "
              f"4-bit cells: 4-bit ADC {four4:.1f} %, 5-bit {four5:.1f} %")
        claims += [(f"{n}x{n}: 4-bit ADC keeps 1-bit cells within 1 pp of ideal", one4 >= ideal - 1.0),
                   (f"{n}x{n}: 4-bit cells lose more than 1 pp with a 4-bit ADC", four4 < ideal - 1.0),
                   (f"{n}x{n}: 4-bit cells are within 1 pp of ideal with a 5-bit ADC", four5 >= ideal - 1.0)]
    return claims


def fig5(rows, path):
    """Larger arrays give a smaller chip area."""
    rows = sorted(rows, key=lambda r: int(r["subarray.rows"]))
    areas = [1e6 * float(r["area_m2"]) for r in rows]
    print("area by array size: " + ", ".join(f"{r['subarray.rows']}: {a:.3f} mm^2" for r, a in zip(rows, areas)))
    return [("area falls as the array grows", all(b < a for a, b in zip(areas, areas[1:])))]


def fig6(rows, path):
    """A higher ADC precision costs area and energy: the chip area and the ADC energy grow with the ADC bits, for each
    cell precision in the sweep. The total dynamic energy is printed but not asserted: the ADC's quantisation changes
    the activations that later layers read (run.activity: real), which moves the array energy by more than a bit of ADC
    costs at 3-5 bits."""
    claims = []
    for bits in sorted({r.get("cell.bits", "") for r in rows}, key=lambda b: int(b) if b else 0):
        group = sorted((r for r in rows if r.get("cell.bits", "") == bits), key=lambda r: int(r["subarray.adc_bits"]))
        area = [1e6 * float(r["area_m2"]) for r in group]
        energy = [1e6 * float(r["dynamic_energy_j"]) for r in group]
        adc = [1e6 * report(path, r)["breakdown"]["dynamic_energy_j"]["adc"] for r in group]
        cells = f"{bits}-bit cells" if bits else "cells"
        print(f"{cells}, by ADC bits: " + ", ".join(f"{r['subarray.adc_bits']}: {a:.2f} mm^2, {e:.2f} uJ (ADC {d:.2f} uJ)"
                                                   for r, a, e, d in zip(group, area, energy, adc)))
        claims += [(f"{cells}: area grows with ADC bits", all(b > a for a, b in zip(area, area[1:]))),
                   (f"{cells}: ADC energy grows with ADC bits", all(b > a for a, b in zip(adc, adc[1:]))),
                   (f"{cells}: the most precise ADC costs the most energy", energy[-1] == max(energy))]
    return claims


def fig7(rows, path):
    """Pseudo and average activity (the paper's pseudo and average traces) underestimate the CIM performance (energy
    efficiency) against the real activity."""
    t = {r["run.activity"]: float(r["tops_per_w"]) for r in rows}
    print("TOPS/W: " + ", ".join(f"{k} {v:.3f}" for k, v in t.items()))
    return [("pseudo activity underestimates TOPS/W", t["pseudo"] < t["real"]),
            ("average activity underestimates TOPS/W", t["average"] < t["real"])]


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("fig3", "fig4", "fig5", "fig6", "fig7"):
        sys.exit(__doc__)
    claims = globals()[sys.argv[1]](load(sys.argv[2]), sys.argv[2])
    bad = 0
    for name, ok in claims:
        print(("PASS " if ok else "FAIL ") + name)
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
