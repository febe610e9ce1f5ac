#!/usr/bin/python3
"""Fit the global circuit calibration factors (circuit_calibration.*) to Table 1 of the DNN+NeuroSim paper.

Usage: fit_calibration.py [--cimtlm build/cimtlm] [--sweep configs/experiments/table1.yaml] [--jobs 2]
                          [--ridge 0.05] [--leave-one-out] [--out out/calibration]

Method (docs/validation.md):
  1. Run the nine Table 1 designs at the current factors (run A), once with the switch factors and leakage_memory at
     0 (run B) and once with leakage_buffer at 0 (run C). report.json breaks area, dynamic energy and latency down by
     category (array, adc, accumulation, buffer, interconnect, other), which map one to one onto the cost classes
     except `other` (switch + digital) and the mux time inside `array` latency; runs B and C separate those and the
     three leakage classes. Each class's contribution is linear in its factor.
  2. Find the factors m > 0 that minimise  sum over designs and metrics of log(model / paper)^2  +  ridge *
     sum log(m)^2, by Levenberg-Marquardt on log m. The metrics are area, latency, dynamic energy, leakage (weight
     0.5: its target is a factor of 2) and Table 1's TOPS/W, MACs / (dynamic energy + leakage power x latency),
     which the four predict; FPS is 1 / latency. Where a column mux's switching overlaps the conversions, the
     latency is piecewise linear in the factors; step 3's repetition absorbs that.
  3. Repeat from 1 at the new factors (the H-tree length follows the tile area, so classes couple weakly) until the
     factors settle, then print them as a YAML block (the built-in defaults of models/circuit/calibration.h) and the
     residuals. --leave-one-out refits nine times, each time without one design, and reports that design's error.
Every factor is global: one value for all designs. The designs differ only in the parameters Table 1 states.
"""
import argparse
import concurrent.futures as cf
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table1 import COLUMNS  # noqa: E402  (published values)
from table1 import tops_w as table1_tops_w  # noqa: E402

FACTORS = [f"{m}_{c}" for m in ("area", "energy", "latency")
           for c in ("array", "switch", "adc", "accumulation", "buffer", "interconnect", "digital")] + \
          ["leakage_logic", "leakage_memory", "leakage_buffer"]
METRICS = [("area", "area_m2", 1e6, 1.0), ("latency", "latency_s", 1e3, 1.0),
           ("energy", "dynamic_energy_j", 1e6, 1.0), ("leakage", "leakage_power_w", 1e3, 0.5)]
TOPS_W_WEIGHT = 1.0  # Table 1's TOPS/W enters the fit too (FPS is 1 / latency, already in)


def columns(sweep_file):
    with open(sweep_file) as f:
        s = yaml.safe_load(f)
    here = os.path.dirname(sweep_file)
    base = os.path.normpath(os.path.join(here, s["base"]))
    pts = []
    for p in s["list"]:
        sets = dict(s.get("set", {}))
        sets.update(p)
        pts.append({k: (os.path.normpath(os.path.join(here, v)) if isinstance(v, str) and v.endswith(".yaml") else v)
                    for k, v in sets.items()})
    return base, pts


def run_one(exe, base, sets, factors, out):
    args = [exe, "run", base, "-q", "--out", out]
    for k, v in sets.items():
        args += ["--set", f"{k}={v}"]
    for k, v in factors.items():
        args += ["--set", f"circuit_calibration.{k}={v!r}"]
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode:
        sys.exit(f"fit_calibration.py: {' '.join(args)} failed:\n{r.stderr}")
    with open(os.path.join(out, "report.json")) as f:
        return json.load(f)


def evaluate(exe, base, pts, factors, jobs, tmp, tag):
    with cf.ThreadPoolExecutor(jobs) as ex:
        futs = [ex.submit(run_one, exe, base, p, factors, os.path.join(tmp, f"{tag}{i}")) for i, p in enumerate(pts)]
        return [f.result() for f in futs]


CLASSES = ["array", "switch", "adc", "accumulation", "buffer", "interconnect", "digital"]


def contributions(A, B, C):
    """Per design: {factor name: contribution in table units}, from runs A (current), B (switch and leakage_memory
    at 0) and C (leakage_buffer at 0)."""
    out = []
    for a, b, c in zip(A, B, C):
        d = {}
        for metric, key, scale in (("area", "area_m2", 1e6), ("energy", "dynamic_energy_j", 1e6),
                                   ("latency", "latency_s", 1e3)):
            ba, bb = a["breakdown"][key], b["breakdown"][key]
            for cls in ("adc", "accumulation", "buffer", "interconnect"):
                d[f"{metric}_{cls}"] = ba[cls] * scale
            if metric == "latency":  # the mux time is inside the array latency; digital units are `other`
                d["latency_switch"] = (ba["array"] - bb["array"]) * scale
                d["latency_array"] = bb["array"] * scale
                d["latency_digital"] = ba["other"] * scale
            else:
                d[f"{metric}_array"] = ba["array"] * scale
                d[f"{metric}_switch"] = (ba["other"] - bb["other"]) * scale
                d[f"{metric}_digital"] = bb["other"] * scale
        la, lb, lc = (x["summary"]["leakage_power_w"] * 1e3 for x in (a, b, c))
        d["leakage_memory"] = la - lb
        d["leakage_buffer"] = la - lc
        d["leakage_logic"] = la - d["leakage_memory"] - d["leakage_buffer"]
        out.append(d)
    return out


def measured(A):
    return np.array([[r["summary"][col] * scale for _, col, scale, _ in METRICS] for r in A])


def tops_w(y, macs):
    """Table 1's TOPS/W from [design, metric] predictions (uJ, mW, ms): the leakage energy is the leakage power over
    the latency."""
    names = [k for k, *_ in METRICS]
    col = lambda k: y[:, names.index(k)]  # noqa: E731
    return table1_tops_w(macs, col("energy") * 1e-6, col("leakage") * 1e-3 * col("latency") * 1e-3)


def fit(base, paper, weights, ridge, keep, start, macs, paper_tops):
    """Levenberg-Marquardt on u = log m, y(m) = sum_k m_k base_k (base: [factor, design, metric]); the residuals are
    the log errors of the four fitted metrics and of TOPS/W, which combines them."""
    u = np.log(start)

    def resid(u):
        y = np.maximum(np.tensordot(np.exp(u), base, axes=1), 1e-30)
        r = (np.log(y / paper) * weights)[keep].ravel()
        rt = (np.log(tops_w(y, macs) / paper_tops) * TOPS_W_WEIGHT)[keep[:, 0]]
        return np.concatenate([r, rt, math.sqrt(ridge) * u])

    lam = 1e-2
    r = resid(u)
    for _ in range(300):
        J = np.empty((r.size, u.size))
        for k in range(u.size):
            d = np.zeros_like(u)
            d[k] = 1e-6
            J[:, k] = (resid(u + d) - r) / 1e-6
        A = J.T @ J
        step = np.linalg.solve(A + lam * np.diag(np.diag(A) + 1e-9), -(J.T @ r))
        r_new = resid(u + step)
        if r_new @ r_new < r @ r:
            u, r, lam = u + step, r_new, lam * 0.3
            if np.abs(step).max() < 1e-8:
                break
        else:
            lam *= 10
            if lam > 1e12:
                break
    return np.exp(u)


def base_matrix(contrib, factors):
    """Contribution per unit factor: [factor, design, metric]."""
    B = np.zeros((len(FACTORS), len(contrib), len(METRICS)))
    names = [k for k, *_ in METRICS]
    for i, k in enumerate(FACTORS):
        metric = "leakage" if k.startswith("leakage") else k.split("_")[0]
        for d, c in enumerate(contrib):
            B[i, d, names.index(metric)] = c[k] / factors[k]
    return B


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cimtlm", default="build/cimtlm")
    ap.add_argument("--sweep", default="configs/experiments/table1.yaml")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--ridge", type=float, default=0.05)
    ap.add_argument("--leave-one-out", action="store_true")
    ap.add_argument("--out", default="out/calibration")
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--start", help="fit.json of an earlier fit to start from")
    a = ap.parse_args()
    base, pts = columns(a.sweep)
    paper = np.array([[c[1][k] for k, *_ in METRICS] for c in COLUMNS])
    weights = np.array([w for *_, w in METRICS])[None, :]
    paper_tops = np.array([c[1]["tops_w"] for c in COLUMNS])
    os.makedirs(a.out, exist_ok=True)
    factors = {k: 1.0 for k in FACTORS}
    if a.start:
        with open(a.start) as f:
            factors.update(json.load(f)["factors"])
    # Every design and metric enters the fit. The 7 nm designs use configs/tech/7nm_iedm2019.yaml, the node as the
    # paper's simulator had it (including its 7 nm PMOS leakage; docs/validation.md).
    keep = np.ones(paper.shape, bool)
    with tempfile.TemporaryDirectory(dir=a.out) as tmp:
        for it in range(a.iterations):
            print(f"[fit] iteration {it + 1}/{a.iterations}: 3 x {len(pts)} runs", file=sys.stderr)
            A = evaluate(a.cimtlm, base, pts, factors, a.jobs, tmp, "a")
            zero_b = dict(factors, area_switch=0.0, energy_switch=0.0, latency_switch=0.0, leakage_memory=0.0)
            B_runs = evaluate(a.cimtlm, base, pts, zero_b, a.jobs, tmp, "b")
            C_runs = evaluate(a.cimtlm, base, pts, dict(factors, leakage_buffer=0.0), a.jobs, tmp, "c")
            B = base_matrix(contributions(A, B_runs, C_runs), factors)
            y_now = measured(A)
            macs = np.array([r["summary"]["macs"] for r in A])
            err = np.abs(np.log(y_now / paper)).max(axis=0)
            print(f"[fit]   at these factors, max |log error| per metric: {np.round(err, 3).tolist()}", file=sys.stderr)
            m = fit(B, paper, weights, a.ridge, keep, np.array([factors[k] for k in FACTORS]), macs, paper_tops)
            factors = dict(zip(FACTORS, m.tolist()))
    y = np.tensordot(m, B, axes=1)
    print("circuit_calibration:   # fitted by scripts/fit_calibration.py to Table 1 (IEDM 2019)")
    for k, v in zip(FACTORS, m):
        print(f"  {k}: {v:.4g}")
    print("\nfit residuals (model / paper - 1), %:")
    print(f"{'design':24s}" + "".join(f"{k:>10s}" for k, *_ in METRICS) + f"{'tops_w':>10s}")
    for (name, _), row, p, t, pt in zip(COLUMNS, y, paper, tops_w(y, macs), paper_tops):
        print(f"{name:24s}" + "".join(f"{100 * (v / q - 1):+10.1f}" for v, q in zip(row, p)) + f"{100 * (t / pt - 1):+10.1f}")
    result = {"factors": factors, "fit_ratio": (y / paper).tolist(), "fit_tops_w_ratio": (tops_w(y, macs) / paper_tops).tolist(),
              "measured_ratio_before_last_step": (y_now / paper).tolist()}
    if a.leave_one_out:
        print("\nleave-one-design-out prediction error (model / paper - 1), %:")
        loo = []
        for d in range(len(pts)):
            keep = np.ones(paper.shape, bool)
            keep[d] = False
            md = fit(B, paper, weights, a.ridge, keep, m, macs, paper_tops)
            yd = np.tensordot(md, B[:, d], axes=1)
            td = tops_w(yd[None, :], macs[d:d + 1])[0] / paper_tops[d]
            loo.append((yd / paper[d]).tolist() + [td])
            print(f"{COLUMNS[d][0]:24s}" + "".join(f"{100 * (v / q - 1):+10.1f}" for v, q in zip(yd, paper[d])) +
                  f"{100 * (td - 1):+10.1f}")
        result["leave_one_out_ratio"] = loo
    out = os.path.join(a.out, "fit.json")
    with open(out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(out + ".tmp", out)
    print(f"\nwritten {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
