"""The in-process engine (cimtlm.Model) against the CLI, and its bad input."""
import threading

import numpy as np
import pandas as pd
import pytest

import cimtlm
from conftest import DEFAULT, fmnist_test

N = 20


def test_bit_identical_to_cli_accuracy(default_model, tmp_path):
    x, y = fmnist_test(N)
    out = default_model.run(x)
    assert out["logits"].shape == (N, 10) and out["logits"].dtype == np.int32
    assert out["predictions"].shape == (N,)
    np.testing.assert_array_equal(out["predictions"], out["logits"].argmax(axis=1))
    np.testing.assert_array_equal(out["predictions_ideal"], out["logits_ideal"].argmax(axis=1))
    r = cimtlm.accuracy(DEFAULT, set={"run.limit": N}, out=tmp_path / "acc")
    p = r.predictions
    assert list(p["label"]) == list(y)
    np.testing.assert_array_equal(p["prediction"].to_numpy(), out["predictions"])
    np.testing.assert_array_equal(p["prediction_ideal"].to_numpy(), out["predictions_ideal"])
    assert r.summary["accuracy"] == pytest.approx(float((out["predictions"] == y).mean()))


def test_float_input_and_flat_shape_agree_with_uint8(default_model):
    x, _ = fmnist_test(4)
    a = default_model.run(x)
    b = default_model.run((x.astype(np.float32) / np.float32(255)).reshape(4, -1))
    np.testing.assert_array_equal(a["logits"], b["logits"])
    np.testing.assert_array_equal(a["logits_ideal"], b["logits_ideal"])


def test_threads_do_not_change_results_and_gil_is_released(default_model):
    x, _ = fmnist_test(6)
    one = default_model.run(x, threads=1)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    before = len(ticks)
    two = default_model.run(x, threads=2)
    during = len(ticks) - before
    stop.set()
    t.join()
    np.testing.assert_array_equal(one["logits"], two["logits"])
    assert during > 5  # the other Python thread ran while the engine worked


def test_wrong_shape_dtype_range(default_model):
    with pytest.raises(ValueError, match="model takes 1x28x28"):
        default_model.run(np.zeros((2, 1, 27, 28), np.uint8))
    with pytest.raises(ValueError, match="dimension"):
        default_model.run(np.zeros(784, np.uint8))
    with pytest.raises(TypeError, match="dtype int32"):
        default_model.run(np.zeros((1, 1, 28, 28), np.int32))
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        default_model.run(np.full((1, 1, 28, 28), 2.0, np.float32))
    with pytest.raises(TypeError, match="numpy array"):
        default_model.run([[0] * 784])


def test_missing_config_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(cimtlm.ConfigError) as e:
        cimtlm.Model(missing)
    assert e.value.file == str(missing)
    assert "nope.yaml" in str(e.value)


def test_unknown_key_names_the_key():
    with pytest.raises(cimtlm.ConfigError) as e:
        cimtlm.Model(DEFAULT, set={"subarray.rwos": 3})
    assert e.value.key == "subarray.rwos"
    assert e.value.message


def test_bad_key_in_a_config_file_carries_file_and_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(DEFAULT.read_text().replace("network: ../../", f"network: {DEFAULT.parents[2]}/")
                   .replace("../tech/", f"{DEFAULT.parents[1]}/tech/").replace("../calibration/", f"{DEFAULT.parents[1]}/calibration/")
                   .replace("../cells/", f"{DEFAULT.parents[1]}/cells/").replace("../chips/", f"{DEFAULT.parents[1]}/chips/")
                   .replace("adc_bits: 5,", "adc_bitz: 5,"))
    with pytest.raises(cimtlm.ConfigError) as e:
        cimtlm.Model(cfg)
    assert e.value.file == str(cfg)
    assert e.value.line > 0
    assert "adc_bitz" in e.value.key
