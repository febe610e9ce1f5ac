"""The worked example of docs/python.md runs as written (with few images and points)."""
import os
import re

from conftest import ROOT


def test_worked_example(tmp_path, monkeypatch):
    text = (ROOT / "docs" / "python.md").read_text()
    section = text[text.index("## Worked example"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    # Paths of the example are relative to the project; its output goes to this test's folder.
    code = code.replace('"configs/', f'"{ROOT}/configs/').replace('"out/', f'"{tmp_path}/out/')
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(code, "docs/python.md", "exec"), ns)
    df = ns["df"]
    assert len(df) == len(ns["ADC_BITS"]) * len(ns["CELL_BITS"])
    assert (df["tops_per_w"] > 0).all() and df["accuracy"].between(0, 1).all()
    assert (tmp_path / "out" / "python_example" / "accuracy_vs_topsw.png").stat().st_size > 1000
    # More ADC bits cost energy at the same cell bits.
    for _, g in df.groupby("cell.bits"):
        g = g.sort_values("subarray.adc_bits")
        assert g["tops_per_w"].iloc[0] > g["tops_per_w"].iloc[-1]
