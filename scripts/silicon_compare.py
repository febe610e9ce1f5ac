#!/usr/bin/python3
"""Blind predictions of measured compute-in-memory macros: run every configs/macros/*.yaml, compare with the
measurements of tests/validation/silicon/measured.yaml, and (optionally) pin or check the predictions.

Usage: silicon_compare.py [--cimtlm build/cimtlm] [--macros configs/macros] [--measured FILE] [--out DIR]
                          [--set key=value ...] [--markdown] [--write-pins FILE | --check-pins FILE [--rtol 1e-6]]

The predictions come from `cimtlm run` on each macro experiment (macro.enabled: one MVM at the macro boundary);
nothing measured enters them. Errors are predicted / measured - 1 and the signed natural-log error ln(pred / meas),
grouped by node, device and precision class. Published sweeps (supply voltage, precision, output value) are run
point by point; a trend is compared as each series normalised to its first point. --set applies overrides to every
run (e.g. circuit_calibration=... to compare with another calibration). --check-pins exits non-zero when any
pinned prediction moved by more than --rtol (relative): a regression of predictions, not a validation.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
METRICS = [("tops_per_w", "TOPS/W"), ("tops", "TOPS"), ("area_mm2", "area mm^2")]


def run(cimtlm, config, sets, out):
    args = [cimtlm, "run", config, "--out", out, "-q"]
    for k, v in sets.items():
        args += ["--set", f"{k}={v}"]
    r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    if r.returncode:
        sys.exit(f"silicon_compare.py: {' '.join(args)} failed:\n{r.stderr.strip()}")
    with open(os.path.join(out, "report.json")) as f:
        s = json.load(f)["summary"]
    return {"tops_per_w": s["tops_per_w"], "tops": s["tops"], "area_mm2": s["area_m2"] * 1e6,
            "energy_pj": s["energy_j"] * 1e12, "latency_ns": s["latency_s"] * 1e9}


def precision_class(p):
    ib = int(p.split("b", 1)[0])
    return "1b input" if ib == 1 else ("2-4b input" if ib <= 4 else "8b input")


def node_class(n):
    return "<= 14 nm" if n <= 14 else ("22-28 nm" if n <= 28 else ">= 55 nm")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cimtlm", default=os.path.join(ROOT, "build", "cimtlm"))
    ap.add_argument("--macros", default=os.path.join(ROOT, "configs", "macros"))
    ap.add_argument("--measured", default=os.path.join(ROOT, "tests", "validation", "silicon", "measured.yaml"))
    ap.add_argument("--out", default=None, help="run folders (default: a temporary folder)")
    ap.add_argument("--set", action="append", default=[], help="override for every run: key=value")
    ap.add_argument("--markdown", action="store_true", help="print the comparison as markdown tables")
    ap.add_argument("--json", default=None, help="write predictions, measurements and errors as JSON")
    ap.add_argument("--write-pins", default=None)
    ap.add_argument("--check-pins", default=None)
    ap.add_argument("--rtol", type=float, default=1e-6)
    a = ap.parse_args()

    common = {}
    for s in a.set:
        if "=" not in s:
            sys.exit(f"silicon_compare.py: --set {s}: expected key=value")
        k, v = s.split("=", 1)
        common[k] = v
    with open(a.measured) as f:
        measured = yaml.safe_load(f)["macros"]
    out = a.out or tempfile.mkdtemp(prefix="silicon_")

    results = {}
    for name in sorted(measured):
        m = measured[name]
        for key in ("node_nm", "device", "precision", "point", "tops_per_w"):
            if key not in m:
                sys.exit(f"silicon_compare.py: {a.measured}: macros.{name}.{key}: missing")
        for key, _ in METRICS:
            if key in m and not (isinstance(m[key], dict) and "value" in m[key] and "status" in m[key]):
                sys.exit(f"silicon_compare.py: {a.measured}: macros.{name}.{key}: expected {{value: ..., status: ...}}")
        config = os.path.join(a.macros, name + ".yaml")
        if not os.path.exists(config):
            sys.exit(f"silicon_compare.py: {a.measured}: macros.{name}: no experiment {config}")
        pred = run(a.cimtlm, config, common, os.path.join(out, name))
        pred["area_mm2"] *= m.get("area_banks", 1)
        row = {"node_nm": m["node_nm"], "device": m["device"], "precision": m["precision"], "point": m["point"],
               "predicted": pred, "measured": {}, "status": {}, "error": {}, "log_error": {}, "sweeps": {}}
        for key, _ in METRICS:
            if key in m:
                v = float(m[key]["value"])
                row["measured"][key] = v
                row["status"][key] = m[key]["status"]
                row["error"][key] = pred[key] / v - 1.0
                row["log_error"][key] = math.log(pred[key] / v)
        for sname, sw in (m.get("sweep") or {}).items():
            pts = sw["points"]
            per = sw.get("set_per_point") or [{} for _ in pts]
            if len(per) != len(pts):
                sys.exit(f"silicon_compare.py: {a.measured}: macros.{name}.sweep.{sname}.set_per_point: "
                         f"{len(per)} entries for {len(pts)} points")
            series = []
            for i, (x, extra) in enumerate(zip(pts, per)):
                sets = dict(common)
                sets.update({k: str(v) for k, v in (sw.get("set") or {}).items()})
                sets.update({k: str(v) for k, v in extra.items()})
                if "set_per_point" not in sw:  # the axis is a config key; the point's value with its unit
                    sets[sw["axis"]] = f"{x} {sw['unit']}" if "unit" in sw else str(x)
                p = run(a.cimtlm, config, sets, os.path.join(out, f"{name}.{sname}.{i}"))
                series.append({"x": x, "predicted": {k: p[k] for k in ("tops_per_w", "tops")},
                               "measured": {k: sw[k][i] for k in ("tops_per_w", "tops") if k in sw}})
            row["sweeps"][sname] = {"axis": sw["axis"], "status": sw["status"], "points": series}
        results[name] = row

    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if a.markdown:
        print_markdown(results)
    else:
        for name, r in results.items():
            print(name, " ".join(f"{k}={r['predicted'][k]:.6g}" for k, _ in METRICS),
                  " ".join(f"err_{k}={v:+.1%}" for k, v in r["error"].items()))

    pins = {name: {"predicted": {k: r["predicted"][k] for k, _ in METRICS},
                   "sweeps": {s: [p["predicted"] for p in sw["points"]] for s, sw in r["sweeps"].items()}}
            for name, r in results.items()}
    if a.write_pins:
        with open(a.write_pins, "w") as f:
            json.dump(pins, f, indent=1, sort_keys=True)
            f.write("\n")
    if a.check_pins:
        with open(a.check_pins) as f:
            want = json.load(f)
        bad = []

        def cmp(path, got, exp):
            if isinstance(exp, dict):
                for k in exp:
                    if k not in got:
                        bad.append(f"{path}.{k}: missing")
                    else:
                        cmp(f"{path}.{k}", got[k], exp[k])
            elif isinstance(exp, list):
                if len(got) != len(exp):
                    bad.append(f"{path}: {len(got)} points, pinned {len(exp)}")
                for i, (g, e) in enumerate(zip(got, exp)):
                    cmp(f"{path}[{i}]", g, e)
            elif abs(got - exp) > a.rtol * abs(exp):
                bad.append(f"{path}: {got:.9g}, pinned {exp:.9g} ({got / exp - 1:+.3g})")

        cmp("", pins, want)
        if set(pins) != set(want):
            bad.append(f"macros {sorted(set(pins) ^ set(want))} not in both the run and {a.check_pins}")
        if bad:
            print(f"silicon_compare.py: {len(bad)} predictions moved (rtol {a.rtol}); if intended, re-pin with "
                  f"--write-pins and update docs/validation-silicon.md:", file=sys.stderr)
            for b in bad:
                print("  " + b, file=sys.stderr)
            return 1
        print(f"silicon predictions: all pinned figures within {a.rtol} (relative)")
    return 0


def print_markdown(results):
    print("| macro | node | device | precision | metric | predicted | measured (status) | error | ln(pred/meas) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for key, label in METRICS:
            p = r["predicted"][key]
            if key in r["measured"]:
                print(f"| {name} | {r['node_nm']} nm | {r['device']} | {r['precision']} | {label} | {p:.4g} | "
                      f"{r['measured'][key]:.4g} ({r['status'][key]}) | {r['error'][key]:+.0%} | "
                      f"{r['log_error'][key]:+.2f} |")
            else:
                print(f"| {name} | {r['node_nm']} nm | {r['device']} | {r['precision']} | {label} | {p:.4g} | "
                      f"not published | | |")
    print()
    for gname, fn in (("node", lambda r: node_class(r["node_nm"])), ("device", lambda r: r["device"]),
                      ("precision", lambda r: precision_class(r["precision"]))):
        groups = {}
        for name, r in results.items():
            if "tops_per_w" in r["log_error"]:
                groups.setdefault(fn(r), []).append(r["log_error"]["tops_per_w"])
        print(f"| TOPS/W by {gname} | n | mean ln(pred/meas) | values |")
        print("|---|---|---|---|")
        for g, v in sorted(groups.items()):
            print(f"| {g} | {len(v)} | {sum(v) / len(v):+.2f} | {', '.join(f'{x:+.2f}' for x in v)} |")
        print()
    for name, r in results.items():
        for sname, sw in r["sweeps"].items():
            pts = sw["points"]
            print(f"{name}, {sname} ({sw['axis']}; measured: {sw['status']})\n")
            keys = [k for k in ("tops_per_w", "tops") if k in pts[0]["measured"]]
            head = " | ".join(f"{k} pred | {k} meas | {k} pred/first | {k} meas/first" for k in keys)
            print(f"| x | {head} |")
            print("|---" * (1 + 4 * len(keys)) + "|")
            for p in pts:
                cells = []
                for k in keys:
                    p0, m0 = pts[0]["predicted"][k], pts[0]["measured"][k]
                    cells.append(f"{p['predicted'][k]:.4g} | {p['measured'][k]:.4g} | "
                                 f"{p['predicted'][k] / p0 if p0 else float('nan'):.3f} | {p['measured'][k] / m0:.3f}")
                print(f"| {p['x']} | {' | '.join(cells)} |")
            print()


if __name__ == "__main__":
    sys.exit(main())
