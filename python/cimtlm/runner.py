"""The simulator in a subprocess: SystemC elaborates one chip per process, so every run, sweep point and search
trial is a `cimtlm` process writing into a run folder; these functions read that folder back as data."""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Optional, Sequence

from .errors import parse_cli_error
from .model import _overrides

_FILE_SUFFIXES = (".yaml", ".yml", ".csv", ".onnx", ".npy")


def binary() -> str:
    """The `cimtlm` program: $CIMTLM_BIN, else the one of the build tree this package was built in, else on PATH."""
    env = os.environ.get("CIMTLM_BIN")
    if env:
        return env
    here = Path(__file__).resolve().parent
    cands = [here.parent.parent / "cimtlm"]
    try:  # written by CMake into the build tree's package: the binary of that build
        from . import _paths
        cands.append(Path(_paths.BINARY))
    except ImportError:
        pass
    for cand in cands:
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    found = shutil.which("cimtlm")
    if found:
        return found
    raise FileNotFoundError("cimtlm: the simulator binary was not found; build it (make build) or set CIMTLM_BIN")


def _call(args: Sequence[str], env: Optional[Mapping] = None) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.setdefault("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1")
    if env:
        e.update(env)
    p = subprocess.run([binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    if p.returncode != 0:
        raise parse_cli_error(p.stderr, p.returncode)
    return p


def _out_dir(out) -> Path:
    d = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="cimtlm-"))
    d.mkdir(parents=True, exist_ok=True)
    return d.resolve()


def _set_args(set: Optional[Mapping]) -> list:
    args = []
    for o in _overrides(set):
        args += ["--set", o]
    return args


class Result:
    """One run folder: ``summary`` (dict), ``breakdown``, ``layers``, ``components`` (pandas DataFrames), ``report``
    (the whole report.json) and ``dir``."""

    def __init__(self, dir):
        self.dir = Path(dir)
        with open(self.dir / "report.json") as f:
            self.report = json.load(f)
        self.summary = dict(self.report.get("summary", {}))

    @property
    def breakdown(self):
        """Rows: array, adc, accumulation, buffer, interconnect, other; columns: area_m2, dynamic_energy_j, latency_s."""
        import pandas as pd
        return pd.DataFrame(self.report.get("breakdown", {}))

    @property
    def layers(self):
        """One row per layer; critical_path_s is split into critical_path_s.<category> columns."""
        import pandas as pd
        return pd.json_normalize(self.report.get("layers", []))

    @property
    def components(self):
        """One row per module: path, type, area_m2, leakage_w, dynamic_energy_j, busy_fraction, ... (counts and stats
        as counts.<action> and stats.<name> columns)."""
        import pandas as pd
        return pd.json_normalize(self.report.get("components", []))

    def __repr__(self):
        return f"cimtlm.Result({str(self.dir)!r})"


def run(config, set: Optional[Mapping] = None, out=None, dataset: Optional[str] = None, seed: Optional[int] = None) -> Result:
    """`cimtlm run CONFIG --set K=V ... --out OUT`: one simulated chip. out defaults to a new temporary folder."""
    d = _out_dir(out)
    args = ["run", str(config), *_set_args(set), "--out", str(d), "-q"]
    if dataset is not None:
        args += ["--dataset", dataset]
    if seed is not None:
        args += ["--seed", str(seed)]
    _call(args)
    return Result(d)


def accuracy(config, set: Optional[Mapping] = None, out=None) -> Result:
    """`cimtlm accuracy CONFIG --set K=V ... --predictions OUT/predictions.csv`: the batched engine over the config's
    dataset. The Result's ``predictions`` DataFrame holds index, label, prediction, prediction_ideal."""
    d = _out_dir(out)
    _call(["accuracy", str(config), *_set_args(set), "--out", str(d), "--predictions", str(d / "predictions.csv"), "-q"])
    r = Result(d)
    import pandas as pd
    r.predictions = pd.read_csv(d / "predictions.csv")
    return r


def _abs_files(v):
    """Values that name files are relative to the sweep file: write them as absolute paths of the caller's cwd."""
    if isinstance(v, str) and v.endswith(_FILE_SUFFIXES):
        return str(Path(v).resolve())
    if isinstance(v, (list, tuple)):
        return [_abs_files(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _abs_files(x) for k, x in v.items()}
    return v


class SweepResult:
    """A sweep folder: ``results`` (results.csv as a DataFrame, one row per finished point), ``dir`` and
    ``point(i)`` (the Result of point i)."""

    def __init__(self, dir):
        import pandas as pd
        self.dir = Path(dir)
        self.results = pd.read_csv(self.dir / "results.csv")

    def point(self, i: int) -> Result:
        """The Result of point number i (the `point` column): its folder OUT/points/pNNNN_..."""
        found = sorted((self.dir / "points").glob(f"p{int(i):04d}_*")) + sorted((self.dir / "points").glob(f"p{int(i):04d}"))
        if not found:
            raise KeyError(f"sweep {self.dir}: no folder for point {i}")
        return Result(found[0])

    def __repr__(self):
        return f"cimtlm.SweepResult({str(self.dir)!r}, {len(self.results)} points)"


def sweep(base=None, grid: Optional[Mapping] = None, list: Optional[Sequence[Mapping]] = None,
          set: Optional[Mapping] = None, command: str = "run", out=None, jobs: int = 1, file=None) -> SweepResult:
    """`cimtlm sweep`: either an existing sweep file (``file=``), or one written from base (a config), grid (key ->
    values, cartesian product), list (explicit points) and set (shared overrides) into OUT/sweep.yaml. command is run
    or accuracy; jobs the parallel worker processes. Raises ConfigError for a bad key or value, RunError when a point
    failed (exit 5)."""
    d = _out_dir(out)
    if file is None:
        if base is None:
            raise TypeError("sweep: pass base= (a config) or file= (a sweep file)")
        spec = {"base": str(Path(base).resolve()), "command": command, "out": str(d)}
        if set:
            spec["set"] = _abs_files(dict(set))
        if grid:
            spec["grid"] = {k: _abs_files(v if isinstance(v, (tuple, type([]))) else [v]) for k, v in grid.items()}
        if list:
            spec["list"] = [_abs_files(dict(p)) for p in list]
        file = d / "sweep.yaml"
        file.write_text(json.dumps(spec, indent=2) + "\n")  # JSON is YAML
    _call(["sweep", str(file), "--out", str(d), "--jobs", str(int(jobs)), "-q"])
    return SweepResult(d)


class SearchResult:
    """A search folder: ``trials`` and ``pareto`` DataFrames and ``dir``."""

    def __init__(self, dir):
        import pandas as pd
        self.dir = Path(dir)
        self.trials = pd.read_csv(self.dir / "trials.csv")
        self.pareto = pd.read_csv(self.dir / "pareto.csv") if (self.dir / "pareto.csv").exists() else None


def search(space, trials: Optional[int] = None, seed: Optional[int] = None, out=None, jobs: Optional[int] = None) -> SearchResult:
    """`cimtlm search SPACE.yaml`: a multi-objective search (docs/cli.md); needs python3-optuna."""
    d = _out_dir(out)
    args = ["search", str(space), "--out", str(d)]
    if trials is not None:
        args += ["--trials", str(int(trials))]
    if seed is not None:
        args += ["--seed", str(int(seed))]
    if jobs is not None:
        args += ["--jobs", str(int(jobs))]
    _call(args)
    return SearchResult(d)
