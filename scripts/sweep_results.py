"""Shared helpers of the result scripts: read a sweep's results.csv and the report.json of one of its points."""
import csv
import json
import os
import sys


def load(path):
    """The rows of a results.csv (exits with a one-line error naming the file)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"{os.path.basename(sys.argv[0])}: {path}: {e.strerror}")
    if not rows:
        sys.exit(f"{os.path.basename(sys.argv[0])}: {path}: no points")
    return rows


def report(csv_path, row):
    """The report.json of a results.csv row: its point folder is points/pNNNN_... (NNNN = the point column)."""
    base = os.path.join(os.path.dirname(csv_path), "points")
    prefix = "p%04d" % int(row["point"])
    for d in sorted(os.listdir(base)):
        if d == prefix or d.startswith(prefix + "_"):
            with open(os.path.join(base, d, "report.json")) as f:
                return json.load(f)
    sys.exit(f"{os.path.basename(sys.argv[0])}: {base}: no folder for point {row['point']}")
