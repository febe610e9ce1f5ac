#!/usr/bin/python3
"""Write the factors of a fit (out/calibration/fit.json from fit_calibration.py) into the built-in defaults of
models/circuit/calibration.h. Usage: apply_calibration.py [FIT_JSON]"""
import json
import os
import re
import sys

fit = sys.argv[1] if len(sys.argv) > 1 else "out/calibration/fit.json"
header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "circuit", "calibration.h")
with open(fit) as f:
    factors = json.load(f)["factors"]
with open(header) as f:
    s = f.read()
for k, v in factors.items():
    s, n = re.subn(rf"(\b{k} = )[0-9.eE+-]+", rf"\g<1>{v:.4g}", s)
    if n != 1:
        sys.exit(f"apply_calibration.py: {header}: factor {k} found {n} times")
with open(header + ".tmp", "w") as f:
    f.write(s)
os.replace(header + ".tmp", header)
print(f"{len(factors)} factors written to {os.path.normpath(header)}")
