#!/usr/bin/python3
"""Leave-one-group-out check of the Table 1 calibration, with real re-simulation.

Usage: leave_group_out.py [--cimtlm build/cimtlm] [--out out/logo] [--jobs 1] [--skip-fit] [--groups no7nm ...]

For each group (the 7 nm designs, the SRAM designs, the non-volatile designs of Table 1 of Peng et al., IEDM 2019):
  1. fit_calibration.py refits the 24 factors without the group's designs (--exclude) and writes them to
     OUT/GROUP/calibration.yaml;
  2. the nine designs are simulated afresh (cimtlm sweep of configs/experiments/table1.yaml) under those factors: the
     left-out designs' errors are those of a full run, not of the fit's linearisation;
  3. the seven silicon macros (configs/macros) are predicted under those factors (scripts/silicon_compare.py).
Prints markdown: the factors per group, the left-out designs' errors, and the macros' TOPS/W log errors.
--skip-fit reuses OUT/GROUP/calibration.yaml from an earlier run.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import table1  # noqa: E402

GROUPS = {"no7nm": ("7 nm designs", [0, 1]), "nosram": ("SRAM designs", [0, 1, 2, 3]),
          "nonvm": ("non-volatile designs", [4, 5, 6, 7, 8])}
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")


def sh(args, **kw):
    r = subprocess.run(args, env=ENV, text=True, **kw)
    if r.returncode:
        sys.exit(f"leave_group_out.py: {' '.join(args)} failed")
    return r


def resim_sweep(cimtlm, calibration, out, jobs):
    """The Table 1 sweep under `calibration`, written as a sweep file with absolute paths."""
    src = os.path.join(ROOT, "configs", "experiments")
    with open(os.path.join(src, "table1.yaml")) as f:
        s = f.read()
    s = s.replace("base: table1/", f"base: {src}/table1/")
    s = s.replace("../cells/", f"{ROOT}/configs/cells/").replace("../tech/", f"{ROOT}/configs/tech/")
    s = re.sub(r"^out: .*$", f"out: {out}", s, flags=re.M)
    s = s.replace("set: {run.images: 1}", f"set: {{run.images: 1, circuit_calibration: {calibration}}}")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "sweep.yaml")
    with open(path, "w") as f:
        f.write(s)
    sh([cimtlm, "sweep", path, "--jobs", str(jobs), "-q"], stdout=subprocess.DEVNULL)
    return table1.load(os.path.join(out, "results.csv"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cimtlm", default=os.path.join(ROOT, "build", "cimtlm"))
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "logo"))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--skip-fit", action="store_true")
    ap.add_argument("--groups", nargs="*", default=list(GROUPS))
    a = ap.parse_args()
    cimtlm = os.path.abspath(a.cimtlm)
    factors, left, silicon = {}, {}, {}
    for g in a.groups:
        if g not in GROUPS:
            sys.exit(f"leave_group_out.py: --groups {g}: one of {', '.join(GROUPS)}")
        label, exclude = GROUPS[g]
        out = os.path.abspath(os.path.join(a.out, g))
        cal = os.path.join(out, "calibration.yaml")
        if not a.skip_fit:
            sh(["/usr/bin/python3", os.path.join(ROOT, "scripts", "fit_calibration.py"), "--cimtlm", cimtlm,
                "--jobs", str(a.jobs), "--exclude", *map(str, exclude), "--out", out, "--write", cal],
               stdout=subprocess.DEVNULL)
        with open(cal) as f:
            factors[g] = {k: v for k, v in yaml.safe_load(f).items() if k != "source"}
        rows = resim_sweep(cimtlm, cal, os.path.join(out, "resim"), a.jobs)
        left[g] = [r for i, r in enumerate(rows) if i in exclude]
        js = os.path.join(out, "silicon.json")
        sh(["/usr/bin/python3", os.path.join(ROOT, "scripts", "silicon_compare.py"), "--cimtlm", cimtlm,
            "--set", f"circuit_calibration={cal}", "--json", js], stdout=subprocess.DEVNULL)
        with open(js) as f:
            silicon[g] = {k: r["log_error"]["tops_per_w"] for k, r in json.load(f).items()}

    with open(os.path.join(ROOT, "configs", "calibration", "iedm2019.yaml")) as f:
        full = {k: v for k, v in yaml.safe_load(f).items() if k != "source"}
    print("| factor | all nine | " + " | ".join(f"without {GROUPS[g][0]}" for g in a.groups) + " |")
    print("|---" * (2 + len(a.groups)) + "|")
    for k in full:
        print(f"| `{k}` | {full[k]:.3g} | " + " | ".join(f"{factors[g][k]:.3g}" for g in a.groups) + " |")
    print()
    print("Left-out designs, re-simulated under the factors fitted without them (error = cimtlm / paper - 1):\n")
    print("| left out | design | area | latency | dyn. energy | leakage | TOPS/W |")
    print("|---|---|---|---|---|---|---|")
    for g in a.groups:
        for r in left[g]:
            e = r["error"]
            print(f"| {GROUPS[g][0]} | {r['design']} | " +
                  " | ".join(f"{100 * e[k]:+.0f} %" for k in ("area", "latency", "energy", "leakage", "tops_w")) + " |")
    print()
    print("Silicon macros, TOPS/W ln(predicted / measured) under each calibration:\n")
    names = sorted(next(iter(silicon.values())))
    print("| macro | " + " | ".join(f"without {GROUPS[g][0]}" for g in a.groups) + " |")
    print("|---" * (1 + len(a.groups)) + "|")
    for n in names:
        print(f"| {n} | " + " | ".join(f"{silicon[g][n]:+.2f}" for g in a.groups) + " |")
    print("| mean abs | " + " | ".join(f"{sum(abs(v) for v in silicon[g].values()) / len(names):.2f}"
                                        for g in a.groups) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
