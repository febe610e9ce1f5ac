#!/usr/bin/python3
"""Fit the global circuit calibration factors (circuit_calibration.*) to Table 1 of the DNN+NeuroSim paper.

Usage: fit_calibration.py [--cimtlm build/cimtlm] [--sweep configs/experiments/table1.yaml] [--jobs 2]
                          [--calibration configs/calibration/iedm2019.yaml] [--ridge 0.05] [--bootstrap 200]
                          [--exclude N ...] [--out out/calibration] [--write FILE.yaml]

Method (docs/validation.md):
  1. One sweep of the nine designs at the factors of --calibration (cimtlm sweep, command run). Each report.json
     gives, per calibration class, the calibrated area, dynamic energy and leakage power (`by_class`): each is its
     factor times the uncalibrated physics, so those metrics are linear in the factors, m_c * (metric_c / m0_c).
  2. Latency is not linear in the factors: overlapping circuits take the larger of calibrated times (the column
     mux's select hidden behind a conversion), and the critical path and the contention on the interconnect pick
     among parallel units. So it is re-priced: `cimtlm reprice` of a design's run folder at given factors replays its
     recorded reads through the platform's timing (no data path runs) and gives its latency exactly; the latency's
     sensitivity to each latency factor comes from one re-price per factor (a finite difference in log m).
  3. Levenberg-Marquardt on u = log m minimises  sum over designs and metrics of weight * log(model / paper)^2
     + ridge * sum log(m)^2. The metrics are area, latency, dynamic energy, leakage (weight 0.5: its target is a
     factor of 2) and Table 1's TOPS/W, MACs / (dynamic energy + leakage power x latency); FPS is 1 / latency.
     Area, energy and leakage are exact in m; latency is linearised in log m around the point of step 2.
  4. Steps 2 and 3 repeat at the new factors until they settle (the H-tree's length follows the tile area, so the
     area factors move the interconnect's energy and latency a little; the re-price at the new factors counts it).
  5. Uncertainty: a bootstrap over the designs (the nine designs resampled with replacement, --bootstrap times,
     each sample refitted with latency linearised at the optimum) gives each factor's standard error (of log m,
     reported as a relative error) next to its value.
--exclude drops designs (0-based column indices of Table 1) from the fit: a leave-out check. --write writes the
factors as a calibration file that experiments can name (circuit_calibration: ../calibration/NAME.yaml).
Every factor is global: one value for all designs, which differ only in the parameters Table 1 states.
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

CLASSES = ["array", "switch", "adc", "accumulation", "buffer", "interconnect", "digital"]
LEAK = ["logic", "memory", "buffer"]
FACTORS = [f"{m}_{c}" for m in ("area", "energy", "latency") for c in CLASSES] + [f"leakage_{c}" for c in LEAK]
LATENCY = [f for f in FACTORS if f.startswith("latency_")]
METRICS = [("area", "area_m2", 1e6, 1.0), ("latency", "latency_s", 1e3, 1.0),
           ("energy", "dynamic_energy_j", 1e6, 1.0), ("leakage", "leakage_power_w", 1e3, 0.5)]
TOPS_W_WEIGHT = 1.0  # Table 1's TOPS/W enters the fit too (FPS is 1 / latency, already in)
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")


def run(args):
    r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    if r.returncode:
        sys.exit(f"fit_calibration.py: {' '.join(args)} failed:\n{r.stderr}")


def sweep(exe, sweep_file, calibration, jobs, out):
    """The Table 1 sweep at the calibration file's factors; returns the nine point folders in column order."""
    with open(sweep_file) as f:
        s = yaml.safe_load(f)
    here = os.path.dirname(os.path.abspath(sweep_file))
    spec = dict(s)
    spec["base"] = os.path.normpath(os.path.join(here, s["base"]))
    spec["set"] = dict(s.get("set", {}), circuit_calibration=os.path.abspath(calibration))
    spec["list"] = [{k: (os.path.normpath(os.path.join(here, v)) if isinstance(v, str) and v.endswith(".yaml") else v)
                     for k, v in p.items()} for p in s["list"]]
    spec["out"] = out
    path = os.path.join(out, "table1.sweep.yaml")
    os.makedirs(out, exist_ok=True)
    with open(path, "w") as f:
        yaml.safe_dump(spec, f)
    run([exe, "sweep", path, "--jobs", str(jobs), "-q", "--out", out])
    points = sorted(os.path.join(out, "points", d) for d in os.listdir(os.path.join(out, "points")))
    if len(points) != len(COLUMNS):
        sys.exit(f"fit_calibration.py: expected {len(COLUMNS)} points, found {len(points)}")
    return points


def reprice(exe, point, factors, out):
    args = [exe, "reprice", point, "-q", "--out", out]
    for k, v in factors.items():
        args += ["--set", f"circuit_calibration.{k}={v!r}"]
    run(args)
    with open(os.path.join(out, "report.json")) as f:
        return json.load(f)


def reprice_all(exe, points, factors, jobs, tmp, tag):
    with cf.ThreadPoolExecutor(jobs) as ex:
        futs = [ex.submit(reprice, exe, p, factors, os.path.join(tmp, f"{tag}{i}")) for i, p in enumerate(points)]
        return [f.result() for f in futs]


def bases(reports, factors):
    """Per design: {factor: metric per unit factor, in table units} for area, energy and leakage (exact)."""
    out = []
    for r in reports:
        b, d = r["by_class"], {}
        for c, v in b["dynamic_energy_j"].items():  # a class the fit has no factor for (charge) must be unused
            if c not in CLASSES and v != 0:
                sys.exit(f"fit_calibration.py: a design has {c} energy, which Table 1's designs cannot fit")
        for c in CLASSES:
            d[f"area_{c}"] = b["area_m2"][c] * 1e6 / factors[f"area_{c}"]
            d[f"energy_{c}"] = b["dynamic_energy_j"][c] * 1e6 / factors[f"energy_{c}"]
        for c in LEAK:
            d[f"leakage_{c}"] = b["leakage_power_w"][c] * 1e3 / factors[f"leakage_{c}"]
        out.append(d)
    return out


class model:
    """Predictions [design, metric] (mm^2, ms, uJ, mW) at factors m: area, energy and leakage exact, latency
    linearised in log m around u0 (its value L0 and Jacobian dL/du from re-prices)."""

    def __init__(self, base, u0, L0, dL):
        self.base, self.u0, self.L0, self.dL = base, u0, L0, dL

    def __call__(self, u):
        m = dict(zip(FACTORS, np.exp(u)))
        y = np.zeros((len(self.base), len(METRICS)))
        for d, b in enumerate(self.base):
            y[d, 0] = sum(m[f"area_{c}"] * b[f"area_{c}"] for c in CLASSES)
            y[d, 2] = sum(m[f"energy_{c}"] * b[f"energy_{c}"] for c in CLASSES)
            y[d, 3] = sum(m[f"leakage_{c}"] * b[f"leakage_{c}"] for c in LEAK)
        iu = [FACTORS.index(f) for f in LATENCY]
        y[:, 1] = self.L0 * np.exp(self.dL @ (u[iu] - self.u0[iu]))  # log-linear in log m
        return y


def tops_w(y, macs):
    return table1_tops_w(macs, y[:, 2] * 1e-6, y[:, 3] * 1e-3 * y[:, 1] * 1e-3)


def fit(pred, paper, paper_tops, macs, keep, ridge, u_start):
    """Levenberg-Marquardt on u = log m."""
    weights = np.array([w for *_, w in METRICS])[None, :]
    u = u_start.copy()

    def resid(u):
        y = np.maximum(pred(u), 1e-30)
        r = (np.log(y / paper) * weights)[keep].ravel()
        rt = (np.log(tops_w(y, macs) / paper_tops) * TOPS_W_WEIGHT)[keep]
        return np.concatenate([r, rt, math.sqrt(ridge) * u])

    lam, r = 1e-2, resid(u)
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
    return u


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cimtlm", default="build/cimtlm")
    ap.add_argument("--sweep", default="configs/experiments/table1.yaml")
    ap.add_argument("--calibration", default="configs/calibration/iedm2019.yaml", help="the factors to start from")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--ridge", type=float, default=0.05)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--exclude", type=int, nargs="*", default=[], help="design columns (0-based) left out of the fit")
    ap.add_argument("--out", default="out/calibration")
    ap.add_argument("--write", help="write the fitted factors as a calibration YAML file")
    a = ap.parse_args()
    with open(a.calibration) as f:
        factors = {k: float(v) for k, v in yaml.safe_load(f).items() if k in FACTORS}
    factors = {k: factors.get(k, 1.0) for k in FACTORS}
    paper = np.array([[c[1][k] for k, *_ in METRICS] for c in COLUMNS])
    paper_tops = np.array([c[1]["tops_w"] for c in COLUMNS])
    keep = np.ones(len(COLUMNS), bool)
    keep[a.exclude] = False
    os.makedirs(a.out, exist_ok=True)
    points = sweep(a.cimtlm, a.sweep, a.calibration, a.jobs, os.path.join(a.out, "sweep"))
    reprices = 0
    with tempfile.TemporaryDirectory(dir=a.out) as tmp:
        for it in range(a.iterations):
            reports = reprice_all(a.cimtlm, points, factors, a.jobs, tmp, f"i{it}_")
            u0 = np.log(np.array([factors[k] for k in FACTORS]))
            L0 = np.array([r["summary"]["latency_s"] * 1e3 for r in reports])
            dL = np.zeros((len(points), len(LATENCY)))
            for j, f in enumerate(LATENCY):  # one re-price per latency factor: d log L / d log m
                h = 0.05
                bumped = reprice_all(a.cimtlm, points, dict(factors, **{f: factors[f] * math.exp(h)}), a.jobs, tmp,
                                     f"i{it}_{f}_")
                dL[:, j] = (np.log([r["summary"]["latency_s"] * 1e3 for r in bumped]) - np.log(L0)) / h
            reprices += len(points) * (1 + len(LATENCY))
            macs = np.array([r["summary"]["macs"] for r in reports])
            pred = model(bases(reports, factors), u0, L0, dL)
            err = np.abs(np.log(pred(u0) / paper)).max(axis=0)
            print(f"[fit] iteration {it + 1}: max |log error| per metric at the start {np.round(err, 3).tolist()}",
                  file=sys.stderr)
            u = fit(pred, paper, paper_tops, macs, keep, a.ridge, u0)
            factors = dict(zip(FACTORS, np.exp(u).tolist()))
        # The exact figures at the fitted factors, and the bootstrap around them.
        reports = reprice_all(a.cimtlm, points, factors, a.jobs, tmp, "final_")
        reprices += len(points)
    y = np.array([[r["summary"][col] * s for _, col, s, _ in METRICS] for r in reports])
    rng = np.random.default_rng(1)
    samples = []
    idx = np.flatnonzero(keep)
    for _ in range(a.bootstrap):
        pick = rng.choice(idx, size=idx.size, replace=True)
        sub = model([pred.base[i] for i in pick], pred.u0, pred.L0[pick], pred.dL[pick])
        samples.append(fit(sub, paper[pick], paper_tops[pick], macs[pick], np.ones(pick.size, bool), a.ridge, u))
    se = np.std(np.array(samples), axis=0) if samples else np.zeros(len(FACTORS))
    print(f"circuit_calibration:   # fitted by scripts/fit_calibration.py to Table 1 (IEDM 2019); "
          f"{reprices} re-prices, 1 sweep")
    for k, v, s in zip(FACTORS, np.exp(u), se):
        print(f"  {k}: {v:.4g}   # +-{100 * s:.0f} % (bootstrap over designs)")
    print("\nfit residuals at the fitted factors (model / paper - 1), %:")
    print(f"{'design':24s}" + "".join(f"{k:>10s}" for k, *_ in METRICS) + f"{'tops_w':>10s}")
    t = tops_w(y, macs)
    for d, (name, _) in enumerate(COLUMNS):
        flag = "" if keep[d] else "   (left out)"
        print(f"{name:24s}" + "".join(f"{100 * (v / q - 1):+10.1f}" for v, q in zip(y[d], paper[d])) +
              f"{100 * (t[d] / paper_tops[d] - 1):+10.1f}{flag}")
    result = {"factors": factors, "standard_error_log": dict(zip(FACTORS, se.tolist())), "excluded": a.exclude,
              "ratio": (y / paper).tolist(), "tops_w_ratio": (t / paper_tops).tolist()}
    out = os.path.join(a.out, "fit.json")
    with open(out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(out + ".tmp", out)
    if a.write:
        lines = [f'source: "Global calibration factors of the circuit models (dimensionless multipliers, one per metric '
                 f'and cost class), fitted by scripts/fit_calibration.py to Table 1 of Peng et al., IEDM 2019 '
                 f'(area, latency, dynamic energy, leakage and TOPS/W of {int(keep.sum())} of its nine designs'
                 f'{", leaving out columns " + str(a.exclude) if a.exclude else ""}); docs/validation.md gives the '
                 f'fit, its residuals and the leave-out checks. A calibration, not a validation."']
        for k, v, s in zip(FACTORS, np.exp(u), se):
            lines.append(f"{k}: {v:.4g}  # standard error {100 * s:.0f} %")
        with open(a.write + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(a.write + ".tmp", a.write)
        print(f"written {a.write}", file=sys.stderr)
    print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
