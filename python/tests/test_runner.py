"""cimtlm.run / accuracy / sweep in a subprocess, and the CLI's errors as Python exceptions."""
import pandas as pd
import pytest

import cimtlm
from cimtlm.errors import parse_cli_error
from conftest import DEFAULT


def test_run_returns_summary_and_frames(tmp_path):
    r = cimtlm.run(DEFAULT, set={"run.limit": 8}, out=tmp_path / "run")
    assert r.dir == (tmp_path / "run").resolve()
    assert r.summary["tops_per_w"] > 0 and 0 <= r.summary["accuracy"] <= 1
    assert r.summary["accuracy_images"] == 8
    b = r.breakdown
    assert set(b.index) >= {"array", "adc", "accumulation", "buffer", "interconnect", "other"}
    # The parts add up to the totals (docs: every energy figure is one product).
    assert b["area_m2"].sum() == pytest.approx(r.summary["area_m2"], rel=1e-6)
    assert isinstance(r.layers, pd.DataFrame) and len(r.layers) > 0 and "name" in r.layers
    c = r.components
    assert {"path", "type", "dynamic_energy_j"} <= set(c.columns)
    assert c["dynamic_energy_j"].sum() == pytest.approx(r.summary["dynamic_energy_j"], rel=1e-6)


def test_run_unknown_key_raises_config_error(tmp_path):
    with pytest.raises(cimtlm.ConfigError) as e:
        cimtlm.run(DEFAULT, set={"subarray.rwos": 3}, out=tmp_path / "bad")
    assert e.value.key == "subarray.rwos"
    assert e.value.file == "--set"  # where the CLI says it came from
    assert "rwos" in e.value.message


def test_run_missing_config_raises_config_error(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(cimtlm.ConfigError) as e:
        cimtlm.run(missing, out=tmp_path / "x")
    assert e.value.file == str(missing)


def test_sweep_bad_value_names_the_key(tmp_path):
    with pytest.raises(cimtlm.ConfigError) as e:
        cimtlm.sweep(DEFAULT, grid={"subarray.adc_bits": ["many"]}, out=tmp_path / "sw")
    assert "adc_bits" in e.value.key


def test_parse_cli_error_lines():
    e = parse_cli_error("cimtlm: error: configs/x.yaml:12: subarray.rows: must be > 0\n", 2)
    assert (type(e), e.file, e.line, e.key, e.message) == (cimtlm.ConfigError, "configs/x.yaml", 12,
                                                            "subarray.rows", "must be > 0")
    e = parse_cli_error("cimtlm: error: subarray.rwos: unknown key\n", 2)
    assert (e.file, e.line, e.key) == ("", 0, "subarray.rwos")
    e = parse_cli_error("cimtlm: error: --set: subarray.rwos: unknown key 'rwos'\n", 2)
    assert (e.file, e.key, e.message) == ("--set", "subarray.rwos", "unknown key 'rwos'")
    e = parse_cli_error("cimtlm: model error: mapping: the network does not fit\n", 3)
    assert type(e) is cimtlm.ModelError and e.key == "mapping"
    e = parse_cli_error("Segmentation fault\n", -11)
    assert type(e) is cimtlm.RunError and e.returncode == -11


def test_sweep_results_csv_quotes_values_with_commas(tmp_path):
    from conftest import FMNIST
    if not FMNIST.exists():
        pytest.skip("Fashion-MNIST is not installed")
    spec = f"idx:{FMNIST}/t10k-images-idx3-ubyte.gz,{FMNIST}/t10k-labels-idx1-ubyte.gz"
    s = cimtlm.sweep(DEFAULT, command="accuracy", grid={"run.dataset": [spec], "subarray.adc_bits": [4, 5]},
                     set={"run.limit": 4}, out=tmp_path / "sw")
    df = s.results
    assert len(df) == 2
    assert list(df["run.dataset"]) == [spec, spec]  # one field despite its comma (RFC 4180 quoting)
    assert list(df["subarray.adc_bits"]) == [4, 5]
    assert df["accuracy"].between(0, 1).all()
    assert s.point(1).summary["images"] == 4


def test_search_returns_trials_and_pareto(tmp_path):
    pytest.importorskip("optuna")
    space = tmp_path / "space.yaml"
    space.write_text(f"base: {DEFAULT}\ncommand: run\nseed: 1\ntrials: 2\nparallel: 2\nmethod: nsga2\npopulation: 2\n"
                     "set: {run.images: 1, run.limit: 8, run.threads: 1}\n"
                     "params:\n  adc_bits: {range: [3, 6], keys: [subarray.adc_bits]}\n"
                     "objectives:\n  accuracy: max\n  tops_per_w: max\n")
    t = cimtlm.search(space, out=tmp_path / "s")
    assert len(t.trials) == 2 and set(t.trials["state"]) == {"COMPLETE"}
    assert t.trials["adc_bits"].between(3, 6).all() and (t.trials["tops_per_w"] > 0).all()
    assert t.pareto is not None and 1 <= len(t.pareto) <= 2
