#!/usr/bin/python3
"""check_report.py REPORT.json...: the invariants every cimtlm report must hold.

Every energy and area figure of a report is one product, counts x action tables, summed in different ways, and
the latency breakdown is the critical path of simulated time; so the parts must add up to the totals:
  - the components' own areas (idle subarrays included) sum to the area breakdown, which sums to the chip's area;
  - the components' dynamic energies sum to the energy breakdown, to the layers' energies and to the total;
  - layer by layer: the latency breakdown sums to the latency, and each layer's critical path to its latency;
  - the figures by calibration class sum to the totals (area, dynamic energy, leakage power);
  - idle subarrays have no dynamic energy; every number is finite; busy fractions lie in [0, 1].
Exits 1 with the first violation. Standard library only.
"""
import json
import math
import sys

CATS = ["array", "adc", "accumulation", "buffer", "interconnect", "other"]


def close(a, b, what, rel=1e-9):
    if abs(a - b) > rel * max(abs(a), abs(b)) + 1e-30:
        raise SystemExit(f"{what}: {a!r} != {b!r}")


def finite(x, path="report"):
    if isinstance(x, float) and not math.isfinite(x):
        raise SystemExit(f"{path}: not finite")
    if isinstance(x, dict):
        for k, v in x.items():
            finite(v, f"{path}.{k}")
    if isinstance(x, list):
        for i, v in enumerate(x):
            finite(v, f"{path}[{i}]")


def check(path):
    r = json.load(open(path))
    finite(r)
    s, b = r["summary"], r["breakdown"]
    comps, idle = r["components"], r["idle_subarrays"]
    close(sum(b["area_m2"][c] for c in CATS), s["area_m2"], f"{path}: area breakdown vs total")
    close(sum(c["area_m2"] for c in comps) + idle["area_m2"], s["area_m2"], f"{path}: component areas vs total")
    close(sum(b["dynamic_energy_j"][c] for c in CATS), s["dynamic_energy_j"], f"{path}: energy breakdown vs total")
    close(sum(c["dynamic_energy_j"] for c in comps), s["dynamic_energy_j"], f"{path}: component energies vs total")
    close(sum(l["dynamic_energy_j"] for l in r["layers"]), s["dynamic_energy_j"], f"{path}: layer energies vs total")
    bc = r["by_class"]
    close(sum(bc["area_m2"].values()), s["area_m2"], f"{path}: area by class vs total")
    close(sum(bc["dynamic_energy_j"].values()), s["dynamic_energy_j"], f"{path}: energy by class vs total")
    close(sum(bc["leakage_power_w"].values()), s["leakage_power_w"], f"{path}: leakage by class vs total")
    if idle["dynamic_energy_j"] != 0:
        raise SystemExit(f"{path}: idle subarrays have dynamic energy {idle['dynamic_energy_j']}")
    for c in comps:
        if not 0 <= c["busy_fraction"] <= 1 + 1e-12:
            raise SystemExit(f"{path}: {c['path']} busy fraction {c['busy_fraction']}")
    if s["mode"] == "layer_by_layer":
        # Picosecond timeline: the parts of the critical path add up to the time exactly (to rounding of the sum).
        close(sum(b["latency_s"][c] for c in CATS), s["latency_s"], f"{path}: latency breakdown vs latency", 1e-9)
        close(sum(l["latency_s"] for l in r["layers"]), s["latency_s"], f"{path}: layer latencies vs latency", 1e-9)
        for l in r["layers"]:
            close(sum(l["critical_path_s"][c] for c in CATS), l["latency_s"], f"{path}: {l['name']} critical path", 1e-9)
    else:
        close(sum(b["latency_s"][c] for c in CATS) * s["images"], s["sim_time_s"], f"{path}: critical path vs run time")
    print(f"{path}: invariants hold ({len(comps)} components, {idle['count']} idle subarrays)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        check(p)
