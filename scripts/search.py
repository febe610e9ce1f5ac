#!/usr/bin/env python3
"""The driver behind `cimtlm search SPACE.yaml` (docs/cli.md, docs/cluster.md): a multi-objective design-space search.

optuna (Debian's python3-optuna) proposes the trials, NSGA-II or TPE, with the study in OUT/study.db (SQLite), so a
search that is killed resumes where it stopped. The trials run in batches of `parallel`: each batch is a sweep file
(OUT/batches/bNNNN.sweep.yaml, one `list` point per trial) run by `cimtlm sweep` on the local or the Slurm backend,
so the point folders, resume and failure reports are the sweep's. After every batch the driver reads each point's
report.json, tells optuna the objectives (and how far each constraint is missed), and writes OUT/trials.csv and
OUT/pareto.csv; at the end, OUT/pareto.png.

Reproducible: each batch's sampler is seeded from (seed, batch number) and works on a study object loaded afresh
from the database (with one study object for the whole run, optuna's in-process storage cache made NSGA-II propose
other trials after a resume than without one), and the trials of a batch are told in trial order once the batch is
over, so the same space and seed give the same trials, whatever the backend, --jobs, or where a search was killed
and resumed. The trials do depend on `parallel` (the batch size).

Not meant to be run by hand: `cimtlm search` checks the command line and passes it on (with --cimtlm).
"""
import argparse
import ast
import csv
import difflib
import fcntl
import hashlib
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings

import yaml

# The numeric `summary` keys of the reports (models/report/report.cpp, to_json; platforms/cimtlm/main.cpp,
# cmd_accuracy). tests/regression/search.sh checks this list against real reports.
RUN_METRICS = ["images", "area_m2", "latency_s", "dynamic_energy_j", "leakage_power_w", "leakage_energy_j",
               "tops_per_w", "tops", "fps", "fps_bound", "first_image_latency_s", "sim_time_s", "tops_per_mm2",
               "memory_utilization", "macs", "accuracy_images", "accuracy", "accuracy_ideal", "agreement"]
ACCURACY_METRICS = ["images", "accuracy", "accuracy_ideal", "agreement", "memory_utilization", "macs"]
# Metrics that only a run over a labelled dataset reports.
DATASET_METRICS = {"accuracy_images", "accuracy", "accuracy_ideal", "agreement"}

TOP_KEYS = ["source", "base", "command", "out", "seed", "trials", "parallel", "method", "population", "set", "params",
            "objectives", "constraints"]
PARAM_KEYS = ["range", "choices", "keys", "log", "step"]
FILE_SUFFIXES = (".yaml", ".yml", ".csv", ".onnx", ".npy")


class SpaceError(Exception):
    """An error in the space file or the command line: printed as one line, exit 2."""

    def __init__(self, file, line, key, msg):
        super().__init__(msg)
        self.file, self.line, self.key, self.msg = file, line, key, msg

    def format(self):
        where = self.file + (f":{self.line}" if self.line else "")
        return ": ".join(p for p in (where, self.key, self.msg) if p)


def fail(msg, code=1):
    print(f"cimtlm: error: {msg}", file=sys.stderr)
    sys.exit(code)


def write_atomic(path, data):
    """Write bytes or text to a temporary file in the same folder, then rename it into place."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp.", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- the space file ------------------------------------------------------------------------------------------------

def load_yaml_lines(path):
    """The YAML document as Python values, and the 1-based line of every mapping key by its dotted path."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        raise SpaceError(path, 0, "", "file not found")
    except OSError as e:
        raise SpaceError(path, 0, "", f"cannot read: {e.strerror}")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SpaceError(path, mark.line + 1 if mark else 0, "", f"malformed YAML: {getattr(e, 'problem', e)}")
    lines = {}

    def conv(n, prefix):
        if isinstance(n, yaml.MappingNode):
            out = {}
            for k, v in n.value:
                key = str(yaml.safe_load(yaml.serialize(k))) if not isinstance(k, yaml.ScalarNode) else k.value
                lines[prefix + key] = k.start_mark.line + 1
                out[key] = conv(v, prefix + key + ".")
            return out
        if isinstance(n, yaml.SequenceNode):
            items = []
            for i, v in enumerate(n.value):
                lines[prefix + f"[{i}]"] = v.start_mark.line + 1
                items.append(conv(v, prefix + f"[{i}]."))
            return items
        return yaml.safe_load(yaml.serialize(n))

    data = conv(node, "") if node is not None else None
    return data, lines


def check_keys(file, lines, prefix, got, allowed):
    for k in got:
        if k not in allowed:
            near = difflib.get_close_matches(str(k), allowed, n=1, cutoff=0.6)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise SpaceError(file, lines.get(prefix + str(k), 0), prefix + str(k), f"unknown key '{k}'{hint}")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Constraint:
    """`lhs >= rhs` or `lhs <= rhs` over report metrics and numbers (+ - * / and parentheses)."""

    def __init__(self, text, file, line, key, metrics):
        self.text = text
        m = re.fullmatch(r"\s*(.+?)\s*(>=|<=)\s*(.+?)\s*", text) if isinstance(text, str) else None
        if not m:
            raise SpaceError(file, line, key, f"'{text}' is not 'EXPR >= EXPR' or 'EXPR <= EXPR'")
        self.op = m.group(2)
        self.lhs, self.rhs = (self._parse(m.group(i), file, line, key, metrics) for i in (1, 3))
        self.names = sorted({n.id for side in (self.lhs, self.rhs) for n in ast.walk(side) if isinstance(n, ast.Name)})

    @staticmethod
    def _parse(expr, file, line, key, metrics):
        try:
            tree = ast.parse(expr, mode="eval")
        except SyntaxError:
            raise SpaceError(file, line, key, f"cannot parse '{expr}'")
        for n in ast.walk(tree):
            if isinstance(n, ast.Name):
                if n.id not in metrics:
                    near = difflib.get_close_matches(n.id, metrics, n=1, cutoff=0.6)
                    hint = f" (did you mean '{near[0]}'?)" if near else ""
                    raise SpaceError(file, line, key, f"unknown metric '{n.id}'{hint}")
            elif isinstance(n, ast.Constant):
                if not is_number(n.value):
                    raise SpaceError(file, line, key, f"'{n.value}' is not a number")
            elif not isinstance(n, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div,
                                    ast.USub, ast.UAdd, ast.Load)):
                raise SpaceError(file, line, key, f"'{expr}': only metrics, numbers, + - * / and parentheses")
        return tree.body

    @staticmethod
    def _eval(n, values):
        if isinstance(n, ast.Constant):
            return float(n.value)
        if isinstance(n, ast.Name):
            return float(values[n.id])
        if isinstance(n, ast.UnaryOp):
            v = Constraint._eval(n.operand, values)
            return -v if isinstance(n.op, ast.USub) else v
        a, b = Constraint._eval(n.left, values), Constraint._eval(n.right, values)
        if isinstance(n.op, ast.Add):
            return a + b
        if isinstance(n.op, ast.Sub):
            return a - b
        if isinstance(n.op, ast.Mult):
            return a * b
        return a / b if b != 0 else math.inf

    def margin(self, values):
        """How far the constraint is met: >= 0 when it holds."""
        lhs, rhs = self._eval(self.lhs, values), self._eval(self.rhs, values)
        return lhs - rhs if self.op == ">=" else rhs - lhs

    def violation(self, values):
        """optuna's constraint value: 0 when the constraint holds, else how far it is missed. A miss within rounding
        (1e-9 of the larger side) holds: 0.93 >= 0.94 - 0.01 must not depend on how the decimals round."""
        lhs, rhs = self._eval(self.lhs, values), self._eval(self.rhs, values)
        m = self.margin(values)
        return 0.0 if m >= -1e-9 * max(abs(lhs), abs(rhs)) else -m


def override_text(value, space_file):
    """A value as --set text; a file value (.yaml, .csv, .onnx, ...) is a path relative to the space file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.endswith(FILE_SUFFIXES) and ":" not in value and not os.path.isabs(value):
        return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(space_file)), value))
    return str(value)


class Param:
    """One searched parameter: a range (int or float, optionally log or stepped) or a list of choices, applied to
    one or more config keys (`keys`, default the parameter's name)."""

    def __init__(self, name, spec, file, lines):
        key = f"params.{name}"
        line = lines.get(key, 0)
        if not isinstance(spec, dict):
            raise SpaceError(file, line, key, "expected a map with range or choices (and keys, log, step)")
        check_keys(file, lines, key + ".", spec, PARAM_KEYS)
        self.name = name
        self.line = line
        keys = spec.get("keys", [name])
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
            raise SpaceError(file, lines.get(key + ".keys", line), key + ".keys", "expected a list of config keys")
        self.keys = keys
        if ("range" in spec) == ("choices" in spec):
            raise SpaceError(file, line, key, "give either range: [low, high] or choices: [...]")
        self.file_values = False
        if "choices" in spec:
            ch = spec["choices"]
            kl = lines.get(key + ".choices", line)
            if not isinstance(ch, list) or not ch:
                raise SpaceError(file, kl, key + ".choices", "expected a non-empty list of values")
            for v in ch:
                if not (is_number(v) or isinstance(v, (str, bool))):
                    raise SpaceError(file, kl, key + ".choices", f"{v!r} is not a single value")
            if len(set(map(repr, ch))) != len(ch):
                raise SpaceError(file, kl, key + ".choices", "a value is given twice")
            for k in ("log", "step"):
                if k in spec:
                    raise SpaceError(file, lines.get(key + "." + k, line), key + "." + k, "only for a range")
            self.values = ch
            self._dist = ("categorical", ch)
            self.file_values = any(isinstance(v, str) and v.endswith(FILE_SUFFIXES) for v in ch)
        else:
            r = spec["range"]
            kl = lines.get(key + ".range", line)
            if not (isinstance(r, list) and len(r) == 2 and all(is_number(v) for v in r)):
                raise SpaceError(file, kl, key + ".range", "expected [low, high], two numbers (SI units)")
            lo, hi = r
            if not lo < hi:
                raise SpaceError(file, kl, key + ".range", f"low {lo} is not below high {hi}")
            log = spec.get("log", False)
            step = spec.get("step")
            if not isinstance(log, bool):
                raise SpaceError(file, lines.get(key + ".log", line), key + ".log", "expected true or false")
            if step is not None and (not is_number(step) or step <= 0):
                raise SpaceError(file, lines.get(key + ".step", line), key + ".step", "expected a positive number")
            if log and lo <= 0:
                raise SpaceError(file, kl, key + ".range", "a log range needs low > 0")
            if log and step is not None:
                raise SpaceError(file, lines.get(key + ".step", line), key + ".step", "not with log: true")
            integer = isinstance(lo, int) and isinstance(hi, int) and (step is None or isinstance(step, int))
            if integer:
                self._dist = ("int", lo, hi, log, step or 1)
                self.values = [lo, hi]
            else:
                self._dist = ("float", float(lo), float(hi), log, step)
                self.values = [float(lo), float(hi)]

    @property
    def dist(self):
        """The optuna distribution (optuna is imported only once the space file has been checked: it takes a second)."""
        import optuna
        kind, *a = self._dist
        if kind == "categorical":
            return optuna.distributions.CategoricalDistribution(a[0])
        if kind == "int":
            return optuna.distributions.IntDistribution(a[0], a[1], log=a[2], step=a[3])
        return optuna.distributions.FloatDistribution(a[0], a[1], log=a[2], step=a[3])

    def overrides(self, value, space_file):
        """The --set overrides of one value: every key gets it."""
        return {k: override_text(value, space_file) for k in self.keys}


class Space:
    def __init__(self, path, args):
        self.file = path
        data, lines = load_yaml_lines(path)
        self.lines = lines
        if not isinstance(data, dict):
            raise SpaceError(path, 0, "", "a search space is a map (base, params, objectives, ...)")
        check_keys(path, lines, "", data, TOP_KEYS)
        for k in ("base", "params", "objectives"):
            if k not in data:
                raise SpaceError(path, 0, k, "missing")
        here = os.path.dirname(os.path.abspath(path))
        if not isinstance(data["base"], str):
            raise SpaceError(path, lines.get("base", 0), "base", "expected the path of an experiment YAML")
        self.base = os.path.normpath(os.path.join(here, data["base"]))
        if not os.path.isfile(self.base):
            raise SpaceError(path, lines.get("base", 0), "base", f"{data['base']}: file not found")
        self.command = data.get("command", "run")
        if self.command not in ("run", "accuracy"):
            raise SpaceError(path, lines.get("command", 0), "command", f"'{self.command}' is not one of: run accuracy")
        self.metrics = RUN_METRICS if self.command == "run" else ACCURACY_METRICS
        stem = os.path.splitext(os.path.basename(path))[0]
        if args.out:
            self.out = args.out
        elif "out" in data:
            if not isinstance(data["out"], str):
                raise SpaceError(path, lines.get("out", 0), "out", "expected a folder")
            self.out = os.path.normpath(os.path.join(here, data["out"]))
        else:
            self.out = os.path.join("out", "search", stem)
        self.name = stem

        def integer(key, default, lo, hi):
            v = data.get(key, default)
            if not (isinstance(v, int) and not isinstance(v, bool)) or not lo <= v <= hi:
                raise SpaceError(path, lines.get(key, 0), key, f"expected an integer in {lo}..{hi}")
            return v

        self.seed = args.seed if args.seed is not None else integer("seed", 1, 0, 2**31 - 1)
        self.trials = args.trials if args.trials is not None else integer("trials", 20, 1, 100000)
        if self.trials < 1:
            raise SpaceError("", 0, "--trials", "must be at least 1")
        self.parallel = integer("parallel", 4, 1, 10000)
        self.method = data.get("method", "nsga2")
        if self.method not in ("nsga2", "tpe"):
            raise SpaceError(path, lines.get("method", 0), "method", f"'{self.method}' is not one of: nsga2 tpe")
        self.population = integer("population", 10, 2, 100000)
        if "population" in data and self.method != "nsga2":
            raise SpaceError(path, lines.get("population", 0), "population", "only for method: nsga2")

        shared = data.get("set", {}) or {}
        if not isinstance(shared, dict):
            raise SpaceError(path, lines.get("set", 0), "set", "expected a map of key.path: value")
        self.shared = {}
        for k, v in shared.items():
            if isinstance(v, (dict, list)) or v is None:
                raise SpaceError(path, lines.get("set." + k, 0), "set." + k, "expected a single value")
            self.shared[k] = override_text(v, path)

        params = data["params"]
        if not isinstance(params, dict) or not params:
            raise SpaceError(path, lines.get("params", 0), "params", "expected a map of parameters")
        self.params = [Param(name, spec, path, lines) for name, spec in params.items()]
        seen = {}
        for p in self.params:
            for k in p.keys:
                if k in seen:
                    raise SpaceError(path, p.line, f"params.{p.name}", f"key {k} is also set by params.{seen[k]}")
                seen[k] = p.name

        objs = data["objectives"]
        if not isinstance(objs, dict) or not objs:
            raise SpaceError(path, lines.get("objectives", 0), "objectives", "expected a map of metric: max|min")
        self.objectives = []
        for m, d in objs.items():
            key = f"objectives.{m}"
            if m not in self.metrics:
                near = difflib.get_close_matches(m, self.metrics, n=1, cutoff=0.6)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                raise SpaceError(path, lines.get(key, 0), key, f"unknown metric '{m}' of `{self.command}`{hint}")
            if d not in ("max", "min"):
                raise SpaceError(path, lines.get(key, 0), key, f"'{d}' is not one of: max min")
            self.objectives.append((m, d))

        cons = data.get("constraints", []) or []
        if not isinstance(cons, list):
            raise SpaceError(path, lines.get("constraints", 0), "constraints", "expected a list of 'EXPR >= EXPR'")
        self.constraints = [Constraint(c, path, lines.get(f"constraints.[{i}]", 0), f"constraints[{i}]", self.metrics)
                            for i, c in enumerate(cons)]
        self.needs_dataset = sorted({m for m, _ in self.objectives} | {n for c in self.constraints for n in c.names})
        self.needs_dataset = [m for m in self.needs_dataset if m in DATASET_METRICS and self.command == "run"]

    def fingerprint(self):
        """What a resumed study must share with the one in the folder."""
        d = {"base": self.base, "command": self.command, "seed": self.seed, "parallel": self.parallel,
             "method": self.method, "population": self.population if self.method == "nsga2" else None,
             "set": self.shared, "params": [(p.name, p.keys, repr(p.dist)) for p in self.params],
             "objectives": self.objectives, "constraints": [c.text for c in self.constraints]}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    def point(self, params):
        o = dict(self.shared)
        for p in self.params:
            o.update(p.overrides(params[p.name], self.file))
        return o


# --- running batches through `cimtlm sweep` ------------------------------------------------------------------------

class Runner:
    def __init__(self, args, space):
        self.args, self.space = args, space
        self.child = None

    def backend_args(self, quiet=True):
        a = self.args
        out = ["--backend", a.backend]
        if a.backend == "local":
            out += ["--jobs", str(a.jobs if a.jobs else self.space.parallel)]
        for flag, v in (("--partition", a.partition), ("--time", a.time), ("--max-running", a.max_running),
                        ("--per-task", a.per_task), ("--cpus-per-task", a.cpus_per_task), ("--poll", a.poll)):
            if v:
                out += [flag, str(v)]
        out += [f"--sbatch={s}" for s in a.sbatch]
        if quiet:
            out.append("-q")
        return out

    def sweep(self, sweep_file, extra, capture=True):
        cmd = [self.args.cimtlm, "sweep", sweep_file] + extra
        self.child = subprocess.Popen(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
        out, err = self.child.communicate()
        rc = self.child.returncode
        self.child = None
        return rc, out or "", err or ""

    def dry_run(self, sweep_file):
        """[(index, finished, dir)] of a sweep, or the config error it gives."""
        rc, out, err = self.sweep(sweep_file, ["--dry-run"])
        if rc != 0:
            return None, err.strip().splitlines()[-1] if err.strip() else f"cimtlm sweep exited {rc}"
        rows = []
        for line in out.splitlines():
            i, state, d, _ = line.split("\t", 3)
            rows.append((int(i), state == "finished", d))
        return rows, None


def sweep_yaml(space, batch, points):
    """A batch as a sweep file: one `list` entry per trial, in trial order."""
    doc = {"base": space.base, "command": space.command, "out": f"b{batch:04d}", "list": points}
    head = f"# cimtlm search {space.name}: batch {batch} (written by scripts/search.py; `cimtlm sweep` runs it)\n"
    return head + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=1000)


def check_space(space, runner):
    """Every parameter value (each choice, each end of a range) and the shared set, applied to the base config by
    `cimtlm sweep --dry-run` before any trial: a bad key or value names the space file's line."""
    points, owner = [], []
    for p in space.params:
        for v in p.values:
            points.append(space.point({q.name: (v if q is p else q.values[0]) for q in space.params}))
            owner.append((p, v))
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "check.sweep.yaml")
        write_atomic(f, sweep_yaml(space, 0, points))
        rows, err = runner.dry_run(f)
    if rows is not None:
        return
    m = re.search(r": ([^:]*): point (\d+): (.*)$", err)
    if not m:
        raise SpaceError(space.file, 0, "", err.replace("cimtlm: error: ", ""))
    bad_key, i, msg = m.group(1).strip(), int(m.group(2)), m.group(3)
    p, v = owner[i]

    def under(keys):
        return next((k for k in keys if bad_key == k or bad_key.startswith(k + ".")), None)

    # The point varies p; the key in error may belong to another parameter (at its first value) or to `set`.
    q = p if under(p.keys) is not None else next((q for q in space.params if under(q.keys) is not None), None)
    if q is None and under(space.shared) is not None:
        key = "set." + under(space.shared)
        raise SpaceError(space.file, space.lines.get(key, space.lines.get("set", 0)), key, msg)
    q = q or p
    value = v if q is p else q.values[0]
    raise SpaceError(space.file, q.line, f"params.{q.name}", f"{bad_key} = {value!r}: {msg}")


# --- results -------------------------------------------------------------------------------------------------------

def dominates(a, b, dirs):
    """a dominates b: no worse in every objective, better in one."""
    better = False
    for x, y, d in zip(a, b, dirs):
        if d == "max":
            x, y = -x, -y
        if x > y:
            return False
        if x < y:
            better = True
    return better


def pareto(rows, dirs):
    """The rows no other row dominates (rows: (key, values))."""
    return [r for r in rows if not any(dominates(o[1], r[1], dirs) for o in rows if o is not r)]


def fmt(v):
    if isinstance(v, float):
        return repr(v)
    return str(v)


UNITS = {"area_m2": ("area [mm²]", 1e6), "latency_s": ("latency [ms]", 1e3),
         "first_image_latency_s": ("first-image latency [ms]", 1e3), "accuracy": ("accuracy [%]", 100),
         "accuracy_ideal": ("ideal accuracy [%]", 100), "agreement": ("agreement [%]", 100),
         "tops_per_w": ("TOPS/W", 1), "tops": ("TOPS", 1), "tops_per_mm2": ("TOPS/mm²", 1),
         "dynamic_energy_j": ("dynamic energy [µJ]", 1e6), "leakage_energy_j": ("leakage energy [µJ]", 1e6),
         "leakage_power_w": ("leakage power [mW]", 1e3), "memory_utilization": ("memory utilization [%]", 100),
         "fps": ("FPS", 1), "fps_bound": ("FPS bound", 1)}


def plot_front(space, trials, path):
    """The Pareto front: one panel per pair of objectives (one panel for two, a trial-by-trial panel for one)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    objs = space.objectives
    pairs = [(i, j) for i in range(len(objs)) for j in range(i + 1, len(objs))] or [(None, 0)]
    n = len(pairs)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.0 * rows), squeeze=False)
    done = [t for t in trials if t["state"] == "COMPLETE"]

    def val(t, k):
        m = objs[k][0]
        return t["metrics"][m] * UNITS.get(m, (m, 1))[1]

    def label(k):
        m, d = objs[k]
        return f"{UNITS.get(m, (m, 1))[0]} ({'higher' if d == 'max' else 'lower'} is better)"

    for ax, (i, j) in zip(axes.flat, pairs):
        groups = [("infeasible", [t for t in done if not t["feasible"]], dict(marker="x", color="#d62728", alpha=0.5, s=22)),
                  ("feasible", [t for t in done if t["feasible"] and not t["pareto"]], dict(marker="o", color="#999999", alpha=0.6, s=18)),
                  ("Pareto front", [t for t in done if t["pareto"]], dict(marker="o", color="#1f77b4", s=34, edgecolors="black", linewidths=0.5))]
        for name, ts, style in groups:
            if not ts:
                continue
            xs = [t["number"] if i is None else val(t, i) for t in ts]
            ys = [val(t, j) for t in ts]
            ax.scatter(xs, ys, label=f"{name} ({len(ts)})", **style)
        ax.set_xlabel("trial" if i is None else label(i))
        ax.set_ylabel(label(j))
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    cons = "; ".join(c.text for c in space.constraints)
    fig.suptitle(f"cimtlm search {space.name}: {len(trials)} trials, {sum(t['pareto'] for t in trials)} on the front"
                 + (f"\nfeasible: {cons}" if cons else ""), fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    write_atomic(path, buf.getvalue())


def write_tables(space, trials, out):
    """trials.csv (every finished trial) and pareto.csv (the feasible, non-dominated ones), in trial order."""
    extra = []
    for t in trials:
        for m in t.get("order", []):
            if m not in extra and m not in [o[0] for o in space.objectives]:
                extra.append(m)
    head = (["trial", "batch", "state", "feasible", "pareto"] + [p.name for p in space.params]
            + [o[0] for o in space.objectives] + [f"margin: {c.text}" for c in space.constraints] + extra
            + ["point", "same_as", "error"])

    def table(ts):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head)
        for t in ts:
            met = t.get("metrics", {})
            w.writerow([t["number"], t["batch"], t["state"], int(t["feasible"]), int(t["pareto"])]
                       + [fmt(t["params"][p.name]) for p in space.params]
                       + [fmt(met[o[0]]) if o[0] in met else "" for o in space.objectives]
                       + [fmt(m) for m in t.get("margins", [""] * len(space.constraints))]
                       + [fmt(met[m]) if m in met else "" for m in extra]
                       + [t["point"], t["same_as"], t["error"]])
        return buf.getvalue()

    write_atomic(os.path.join(out, "trials.csv"), table(trials))
    write_atomic(os.path.join(out, "pareto.csv"), table([t for t in trials if t["pareto"]]))


# --- the search ----------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(prog="cimtlm search")
    ap.add_argument("space")
    ap.add_argument("--cimtlm", required=True)
    ap.add_argument("--out")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--backend", default="local")
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--partition")
    ap.add_argument("--time")
    ap.add_argument("--max-running", type=int)
    ap.add_argument("--per-task", type=int)
    ap.add_argument("--cpus-per-task", type=int)
    ap.add_argument("--poll")
    ap.add_argument("--sbatch", action="append", default=[])
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    try:
        space = Space(args.space, args)
        runner = Runner(args, space)
        check_space(space, runner)
    except SpaceError as e:
        fail(e.format(), 2)

    try:
        import optuna
    except ImportError:
        fail("search: the Python module optuna is missing (Debian: python3-optuna; make deps installs it)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    out = space.out
    try:
        os.makedirs(out, exist_ok=True)
        lock = open(os.path.join(out, ".lock"), "w")
    except OSError as e:
        fail(f"{out}: cannot write: {e.strerror}", 2)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fail(f"{out}: another search is running in this folder", 2)

    def on_signal(sig, _frame):
        if runner.child is not None:
            runner.child.send_signal(sig)
        sys.exit(128 + sig)

    signal.signal(signal.SIGTERM, on_signal)

    storage = f"sqlite:///{os.path.abspath(os.path.join(out, 'study.db'))}"
    directions = ["maximize" if d == "max" else "minimize" for _, d in space.objectives]
    study = optuna.create_study(storage=storage, study_name="cimtlm", directions=directions, load_if_exists=True)
    fp = space.fingerprint()
    known = study.user_attrs.get("fingerprint")
    if known is None:
        study.set_user_attr("fingerprint", fp)
    elif known != fp:
        fail(f"{os.path.join(out, 'study.db')}: holds a search of another space (base, params, objectives, "
             f"constraints, method, seed or parallel changed); give another --out or remove the folder", 2)
    dists = {p.name: p.dist for p in space.params}

    def constraints_func(ft):
        return ft.user_attrs.get("constraints", [0.0] * len(space.constraints))

    def sampler(batch):
        seed = (space.seed * 1000003 + batch) % (2**32)
        cf = constraints_func if space.constraints else None
        if space.method == "tpe":
            return optuna.samplers.TPESampler(seed=seed, constraints_func=cf, multivariate=True,
                                              warn_independent_sampling=False)
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=space.population, constraints_func=cf)

    t0 = time.monotonic()
    quiet = args.quiet
    where = "Slurm" if args.backend == "slurm" else f"{args.jobs or space.parallel} local job(s)"

    def finished_trials():
        return [t for t in study.get_trials(deepcopy=False) if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)]

    def set_attr(t, key, value):  # works for asked and for stored (frozen) trials alike
        study._storage.set_trial_user_attr(t._trial_id, key, value)

    def params_key(t):
        return json.dumps({k: repr(v) for k, v in t.params.items()}, sort_keys=True)

    def tell_from_report(t, d):
        """Reads a trial's report.json and tells optuna its objectives (FAIL when there is no report)."""
        set_attr(t, "point", os.path.relpath(d, out))
        if not os.path.exists(os.path.join(d, "report.json")):
            last = "no log"
            try:
                with open(os.path.join(d, "log.txt"), errors="replace") as f:
                    lines = [l.strip() for l in f.read().replace("\r", "\n").splitlines() if l.strip()]
                    last = lines[-1] if lines else ""
            except OSError:
                pass
            set_attr(t, "error", last)
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
            return
        with open(os.path.join(d, "report.json")) as f:
            summary = json.load(f)["summary"]
        metrics = {k: v for k, v in summary.items() if is_number(v)}
        for m in dict.fromkeys([o[0] for o in space.objectives] + [n for c in space.constraints for n in c.names]):
            if m not in metrics:
                key = f"objectives.{m}" if m in dict(space.objectives) else "constraints"
                why = " (it needs a labelled run.dataset)" if m in DATASET_METRICS else ""
                fail(f"{space.file}:{space.lines.get(key, 0)}: {key}: the trial reports have no '{m}'{why}", 2)
        margins = [c.margin(metrics) for c in space.constraints]
        set_attr(t, "metrics", metrics)
        set_attr(t, "order", list(metrics))
        set_attr(t, "margins", margins)
        set_attr(t, "constraints", [c.violation(metrics) for c in space.constraints])
        study.tell(t.number, [metrics[o[0]] for o in space.objectives])

    def run_batch(batch):
        """Runs the trials of one batch as a sweep and tells optuna their results, in trial order. A trial with the
        parameters of an earlier one takes its result without running. The batch file lists the same points
        whether the batch runs for the first time or again after a kill (the sweep skips the finished ones)."""
        study.sampler = sampler(batch)  # the sampler's after_trial stores the constraints for NSGA-II
        everything = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
        mine = [t for t in everything if t.user_attrs.get("batch") == batch]
        running = {t.number for t in mine if t.state == optuna.trial.TrialState.RUNNING}
        seen = {}
        for t in everything:
            if t.user_attrs.get("batch", -1) < batch and t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL):
                seen.setdefault(params_key(t), t.number)
        runs, copies = [], []
        for t in mine:
            if t.user_attrs.get("invalid"):
                continue
            k = params_key(t)
            if k in seen:
                copies.append((t, seen[k]))
            else:
                seen[k] = t.number
                runs.append(t)
        bfile = os.path.join(out, "batches", f"b{batch:04d}.sweep.yaml")
        rows = []
        while runs:  # a combination of valid values can still be invalid: that trial fails, the rest run
            write_atomic(bfile, sweep_yaml(space, batch, [space.point(t.params) for t in runs]))
            rows, err = runner.dry_run(bfile)
            if rows is not None:
                break
            m = re.search(r"point (\d+): (.*)$", err)
            if not m:
                fail(f"{bfile}: {err.replace('cimtlm: error: ', '')}", 2)
            bad = runs.pop(int(m.group(1)))
            set_attr(bad, "invalid", True)
            set_attr(bad, "error", m.group(2))
            if bad.number in running:
                study.tell(bad.number, state=optuna.trial.TrialState.FAIL)
            rows = []
        todo = [t.number for t in runs if t.number in running]
        if todo:
            if not quiet:
                print(f"[search] batch {batch}: {len(todo)} trial(s) from {todo[0]} to {todo[-1]} on {where}"
                      + (f" ({len(copies)} repeat earlier ones)" if copies else ""), file=sys.stderr, flush=True)
            rc, _, err = runner.sweep(bfile, runner.backend_args())
            if rc not in (0, 5):
                last = err.strip().splitlines()[-1] if err.strip() else ""
                fail(f"{bfile}: cimtlm sweep exited {rc}: {last.replace('cimtlm: error: ', '')}", 1)
        for t, (_, _, d) in zip(runs, rows):
            if t.number in running:
                tell_from_report(t, d)
        by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
        for t, n in copies:
            if t.number not in running:
                continue
            o = by_number[n]
            for k in ("metrics", "order", "margins", "constraints", "point", "error"):
                if k in o.user_attrs:
                    set_attr(t, k, o.user_attrs[k])
            set_attr(t, "same_as", n)
            if o.state == optuna.trial.TrialState.COMPLETE:
                study.tell(t.number, o.values)
            else:
                study.tell(t.number, state=optuna.trial.TrialState.FAIL)

    def report_tables(final, progress=True):
        trials = []
        blank = [""] * len(space.constraints)
        for ft in sorted(finished_trials(), key=lambda t: t.number):
            ua = ft.user_attrs
            ok = ft.state == optuna.trial.TrialState.COMPLETE
            trials.append({"number": ft.number, "batch": ua.get("batch", ""), "state": ft.state.name, "params": ft.params,
                           "metrics": ua.get("metrics", {}), "order": ua.get("order", []),
                           "margins": ua.get("margins", blank) if ok else blank,
                           "feasible": ok and all(v <= 0 for v in ua.get("constraints", [])), "pareto": False,
                           "point": ua.get("point", ""), "same_as": ua.get("same_as", ""), "error": ua.get("error", "")})
        feas = [t for t in trials if t["feasible"] and t["same_as"] == ""]  # a repeated design counts once
        front = pareto([(t["number"], [t["metrics"][o[0]] for o in space.objectives]) for t in feas],
                       [d for _, d in space.objectives])
        on = {k for k, _ in front}
        for t in trials:
            t["pareto"] = t["number"] in on
        write_tables(space, trials, out)
        if final:
            plot_front(space, trials, os.path.join(out, "pareto.png"))
        if progress and not quiet:
            failed = sum(t["state"] == "FAIL" for t in trials)
            infeasible = sum(t["state"] == "COMPLETE" and not t["feasible"] for t in trials)
            print(f"[search] {len(trials)}/{space.trials} trials done ({failed} failed, {infeasible} infeasible), "
                  f"front {len(on)}, {time.monotonic() - t0:.0f}s elapsed", file=sys.stderr, flush=True)
        return trials

    def next_batch():
        """Batches are numbered by the trials that carry them, so a resumed search numbers (and seeds) as before."""
        return 1 + max((t.user_attrs.get("batch", -1) for t in study.get_trials(deepcopy=False)), default=-1)

    # The batches a killed search left unfinished run again (the sweep skips the points that finished).
    stale = sorted({t.user_attrs.get("batch", -1) for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))})
    if stale and not quiet:
        print(f"[search] resuming batch(es) {', '.join(map(str, stale))} of an interrupted run", file=sys.stderr, flush=True)
    if -1 in stale:  # asked, but killed before their batch was recorded
        b = next_batch()
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            if "batch" not in t.user_attrs:
                set_attr(t, "batch", b)
        stale = sorted(set(stale) - {-1} | {b})
    for batch in stale:
        run_batch(batch)
        report_tables(False)

    while len(finished_trials()) < space.trials:
        k = min(space.parallel, space.trials - len(finished_trials()))
        batch = next_batch()
        # A fresh study object (and storage cache) for every batch: the trials it proposes then depend only on what
        # the database holds, so a search killed and resumed proposes what an uninterrupted one does.
        study = optuna.load_study(study_name="cimtlm", storage=storage, sampler=sampler(batch))
        for _ in range(k):
            study.ask(dists).set_user_attr("batch", batch)
        run_batch(batch)
        report_tables(False)

    trials = report_tables(True, progress=False)
    complete = sum(t["state"] == "COMPLETE" for t in trials)
    feasible = sum(t["feasible"] for t in trials)
    front = sum(t["pareto"] for t in trials)
    print(f"search {space.name}: {len(trials)} trials ({complete} complete, {len(trials) - complete} failed), "
          f"{feasible} feasible, {front} on the Pareto front; results in {os.path.join(out, 'trials.csv')}, "
          f"pareto.csv, pareto.png")


if __name__ == "__main__":
    main()
