#!/usr/bin/env python3
"""Writes the generated part of the seed corpus under tests/fuzz/corpus/ (deterministic; run from the repository root:
/usr/bin/python3 tests/fuzz/make_seeds.py). Files that libFuzzer found are added by hand, named repro-*; the copies of
the repository's configs and networks are named after their source. Every file here is replayed by `make test`."""
import gzip
import io
import os
import shutil
import struct

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(harness, name, data):
    folder = os.path.join(CORPUS, harness)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def copy(harness, path, name=None):
    with open(os.path.join(ROOT, path), "rb") as f:
        put(harness, name or path.replace("/", "_"), f.read())


def gz(data):
    return gzip.compress(data, mtime=0)


def two_files(first, second):
    return struct.pack("<I", len(first)) + first + second


def idx(dims, payload, kind=0x08):
    return struct.pack(">HBB", 0, kind, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + payload


def npy(array):
    b = io.BytesIO()
    np.save(b, array)
    return b.getvalue()


# units: quantities as YAML or --set writes them
for i, q in enumerate(["2 ns", "100 kOhm", "500MOhm", "64 KiB", "1 GHz", "32 nm", "1 um^2", "1.5e-3", "10 %", "3 m",
                       "0.2 fF/m", "600 A/m", "5.7e6 Ohm/m", "48 F^2", "0x10", "-5", "true", "1e-320 aF"]):
    put("units", "seed-%02d" % i, q)
put("units", "repro-issue22-infinite-after-prefix", "1e300 TF/m")
put("units", "repro-issue22-absurd-resistance", "1e30 Ohm")
put("units", "repro-newline-in-value", "2\nns")

# config: every experiment (its includes resolve against configs/experiments/), overrides after "#--set"
for f in sorted(os.listdir(os.path.join(ROOT, "configs/experiments"))):
    if f.endswith(".yaml"):
        with open(os.path.join(ROOT, "configs/experiments", f)) as h:
            text = h.read()
        if "base:" not in text:  # sweep files go to the sweep harness
            put("config", "configs_experiments_" + f, text)
vgg = open(os.path.join(ROOT, "configs/experiments/vgg8_cifar10.yaml")).read()
put("config", "seed-chip-overrides", vgg + "#--set\nchip.global_buffer.size=2 MiB\nchip.clock_fo4=30\nchip.htree_bus_bits=256\n")
put("config", "seed-chip-inline", "network: ../networks/vgg8_cifar10.yaml\nchip: {clock_fo4: 40, global_buffer: {size: 1 MiB}}\n")
put("config", "seed-section-swap", vgg + "#--set\ntechnology=configs/tech/7nm.yaml\ncell=configs/cells/sram.yaml\ncell.bits=1\n")
put("config", "repro-issue22-wire-cap-infinite", vgg + "#--set\ntechnology.wire_cap_per_length=1e300 TF/m\n")
put("config", "repro-issue22-r-on-absurd", vgg + "#--set\ncell.r_on=1e30 Ohm\n")
put("config", "repro-issue22-duplicate-key", "network: ../networks/vgg8_cifar10.yaml\nseed: 1\nseed: 2\n")
put("config", "repro-issue22-cell-is-a-folder", "network: ../networks/vgg8_cifar10.yaml\ncell: ../cells\n")
put("config", "repro-issue22-include-is-a-device", "network: ../networks/vgg8_cifar10.yaml\ncell: /dev/zero\n")
put("config", "repro-issue22-rows-3", vgg + "#--set\nsubarray.rows=3\n")
put("config", "repro-issue22-limit-3e9", vgg + "#--set\nrun.limit=3000000000\n")

# network YAML and CSV: the repository's networks
for f in sorted(os.listdir(os.path.join(ROOT, "configs/networks"))):
    copy("network_yaml" if f.endswith(".yaml") else "network_csv", "configs/networks/" + f)
copy("network_yaml", "tests/sc/platform/resnet_tiny.yaml")
put("network_yaml", "repro-issue22-duplicate-key",
    "input: {channels: 1, height: 8, width: 8}\nlayers:\n  - {name: c, type: conv2d, out_channels: 4, kernel: 3, kernel: 5}\n")
put("network_csv", "repro-huge-shape", "2147483647,2147483647,2147483647,3,3,2147483647,0,1\n")

# ONNX: the small shipped model (the 2.3 MB one would set libFuzzer's input length)
copy("onnx", "traces/models/resnet_float.onnx")

# IDX: 2 images of 4x4 and their labels, raw and gzipped
im = idx([2, 4, 4], bytes(range(32)))
lb = idx([2], bytes([3, 7]), 0x08)
lb = struct.pack(">HBB", 0, 0x08, 1) + struct.pack(">I", 2) + bytes([3, 7])
put("idx", "seed-raw", two_files(im, lb))
put("idx", "seed-gzip", two_files(gz(im), gz(lb)))
put("idx", "seed-swapped", two_files(lb, im))
# Finding 3 of issue 22: dimensions 2^22 x 2^21 x 2^21 multiply to 2^64, which wrapped to 0 and passed the size check
n = 1 << 22
put("idx", "repro-issue22-dimensions-wrap", two_files(idx([n, 1 << 21, 1 << 21], b""), gz(idx([n], bytes(n)))))

# NPY: uint8 and float images with int64 labels, one gzipped pair
images = (np.arange(2 * 1 * 4 * 4) % 256).astype(np.uint8).reshape(2, 1, 4, 4)
labels = np.array([3, 7], dtype=np.int64)
put("npy", "seed-u8", two_files(npy(images), npy(labels)))
put("npy", "seed-f4", two_files(npy((images / 255.0).astype("<f4")), npy(labels.astype(np.uint8))))
put("npy", "seed-gzip", two_files(gz(npy(images.reshape(2, 4, 4))), gz(npy(labels))))
put("npy", "repro-huge-shape", two_files(npy(images)[:10] + b"{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", npy(labels)))

# CIFAR-10 binary: two records, and one with the CIFAR-100 label range
rec = bytes([3]) + bytes(i % 256 for i in range(3072))
put("cifar", "seed-two-records", rec + bytes([9]) + rec[1:])
put("cifar", "seed-gzip", gz(rec))
put("cifar", "seed-label-out-of-range", bytes([42]) + rec[1:])

# sweep files (their base resolves against configs/experiments/)
for f in sorted(os.listdir(os.path.join(ROOT, "configs/experiments"))):
    if f.endswith(".yaml"):
        with open(os.path.join(ROOT, "configs/experiments", f)) as h:
            text = h.read()
        if "base:" in text:
            put("sweep", "configs_experiments_" + f, text)
put("sweep", "seed-grid", "base: vgg8_cifar10.yaml\nset: {run.images: 1}\ngrid: {subarray.adc_bits: [3, 4], cell.bits: [1, 2]}\n")
put("sweep", "seed-list", "base: vgg8_cifar10.yaml\ncommand: accuracy\nlist:\n  - {subarray.rows: 64, subarray.cols: 64}\n  - {subarray.rows: 128}\n")
put("sweep", "repro-issue22-shared-set-fails", "base: vgg8_cifar10.yaml\nset: {mapping.tiles: 3}\ngrid: {subarray.adc_bits: [4, 5]}\n")
put("sweep", "repro-too-many-points", "base: vgg8_cifar10.yaml\ngrid: {seed: [1,2,3,4,5,6,7,8,9,10], run.images: [1,2,3,4,5,6,7,8,9,10]}\n")
