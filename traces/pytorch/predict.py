#!/usr/bin/python3
"""Recompute cimtlm integer predictions from an exported ONNX file, with onnx + numpy only (no torch).

Independent check that the export carries everything the C++ importer needs: the integer weights are
rebuilt as w_int = llround(initializer / weight_scale) from metadata_props["cimtlm.quant"], biases as
llround(bias / (weight_scale * s_in)), and the graph (Conv 3x3/pad 1/stride 1, Relu, MaxPool 2x2/2, Flatten,
Gemm) is evaluated with the exact integer semantics (see traces/README.md).

  /usr/bin/python3 traces/pytorch/predict.py --onnx traces/models/fmnist_vgg8s.onnx --out preds.csv [--limit N]
"""
from __future__ import annotations

import argparse
import gzip
import json
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


def llround(v):
    v = np.asarray(v, dtype=np.float64)
    t = np.trunc(v)
    return (t + np.where(np.abs(v - t) >= 0.5, np.sign(v), 0.0)).astype(np.int64)


def load_idx(path):
    data = gzip.open(path, "rb").read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        r, c = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, r, c)
    assert magic == 2049
    return np.frombuffer(data, np.uint8, offset=8)


def _exact_gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int64 a (P,K) @ b (K,Q) exactly: float64 BLAS is exact while K*max|a|*max|b| < 2^53."""
    bound = a.shape[1] * int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0))
    if bound >= 2 ** 53:
        return a.astype(np.int64) @ b.astype(np.int64)
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def conv3x3(x, w):
    n, c, h, wd = x.shape
    o = w.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((n, h, wd, c, 3, 3), dtype=np.int64)
    for dy in range(3):
        for dx in range(3):
            cols[..., dy, dx] = xp[:, :, dy:dy + h, dx:dx + wd].transpose(0, 2, 3, 1)
    out = _exact_gemm(cols.reshape(n * h * wd, c * 9), w.reshape(o, c * 9).T)
    return out.reshape(n, h, wd, o).transpose(0, 3, 1, 2)


class IntModel:
    def __init__(self, path: str):
        mo = onnx.load(path)
        props = {p.key: p.value for p in mo.metadata_props}
        if "cimtlm.quant" not in props:
            raise SystemExit(f"{path}: no metadata_props['cimtlm.quant']")
        self.meta = json.loads(props["cimtlm.quant"])
        assert self.meta["format"] == "cimtlm.quant/1", self.meta["format"]
        self.A = 2 ** self.meta["input_bits"] - 1
        self.M = 2 ** (self.meta["weight_bits"] - 1) - 1
        self.inits = {t.name: numpy_helper.to_array(t) for t in mo.graph.initializer}
        self.graph = mo.graph
        self.input_name = [i.name for i in mo.graph.input if i.name not in self.inits][0]
        self.output_name = mo.graph.output[0].name
        missing = [k for k in self.meta["layers"] if k not in self.inits]
        if missing:
            raise SystemExit(f"metadata layers missing from initializers: {missing}")

    @staticmethod
    def _attrs(node):
        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    def _weight_layer(self, node, x, s_in, kind):
        wname = node.input[1]
        lm = self.meta["layers"][wname]
        s_w = float(lm["weight_scale"])
        w = np.clip(llround(self.inits[wname].astype(np.float64) / s_w), -self.M, self.M)
        at = self._attrs(node)
        if kind == "conv":
            assert list(at.get("kernel_shape", w.shape[2:])) == [3, 3] and list(at.get("pads", [1] * 4)) == [1] * 4
            assert list(at.get("strides", [1, 1])) == [1, 1] and at.get("group", 1) == 1
            assert list(at.get("dilations", [1, 1])) == [1, 1]
            acc = conv3x3(x, w)
        else:
            assert at.get("transB", 0) == 1 and at.get("transA", 0) == 0
            assert at.get("alpha", 1.0) == 1.0 and at.get("beta", 1.0) == 1.0
            acc = _exact_gemm(x, w.T)
        if len(node.input) > 2 and node.input[2]:
            b = llround(self.inits[node.input[2]].astype(np.float64) / (s_w * s_in))
            acc = acc + (b.reshape(1, -1, 1, 1) if kind == "conv" else b.reshape(1, -1))
        if lm["out_scale"] is None:
            return acc, float("nan")
        s_out = float(lm["out_scale"])
        m = (s_w * s_in) / s_out
        return np.clip(llround(acc.astype(np.float64) * m), -self.A, self.A), s_out

    def forward(self, images_uint8: np.ndarray) -> np.ndarray:
        x = np.asarray(images_uint8)
        if x.ndim == 3:
            x = x[:, None]
        env = {self.input_name: (x.astype(np.int64), float(self.meta["input_scale"]))}
        for node in self.graph.node:
            v, s = env[node.input[0]]
            op = node.op_type
            if op == "Conv":
                out = self._weight_layer(node, v, s, "conv")
            elif op == "Gemm":
                out = self._weight_layer(node, v, s, "gemm")
            elif op == "Relu":
                out = (np.clip(v, 0, self.A), s)
            elif op == "MaxPool":
                at = self._attrs(node)
                assert list(at["kernel_shape"]) == [2, 2] and list(at.get("strides", [2, 2])) == [2, 2]
                n, c, h, w = v.shape
                out = (v[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5)), s)
            elif op == "Flatten":
                out = (v.reshape(v.shape[0], -1), s)
            else:
                raise SystemExit(f"unsupported op {op}")
            env[node.output[0]] = out
        return env[self.output_name][0]


def predict(onnx_path, images, batch=100):
    model = IntModel(onnx_path)
    return np.concatenate([model.forward(images[i:i + batch]) for i in range(0, len(images), batch)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--out", required=True, help="CSV index,label,prediction")
    ap.add_argument("--limit", type=int, default=0, help="only the first N test images")
    ap.add_argument("--data", default=FMNIST_DIR)
    ap.add_argument("--images-npy", help="uint8 (N,1,28,28) images instead of the Fashion-MNIST test set")
    ap.add_argument("--labels-npy", help="int64 labels for --images-npy")
    ap.add_argument("--compare", help="reference predictions CSV: report agreement")
    args = ap.parse_args(argv)
    if args.images_npy:
        x = np.load(args.images_npy)
        y = np.load(args.labels_npy) if args.labels_npy else np.full(len(x), -1)
    else:
        x = load_idx(f"{args.data}/t10k-images-idx3-ubyte.gz")
        y = load_idx(f"{args.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    pred = np.argmax(predict(args.onnx, x), axis=1)
    with open(args.out, "w") as f:
        f.write("index,label,prediction\n")
        for i, (l, p) in enumerate(zip(y, pred)):
            f.write(f"{i},{int(l)},{int(p)}\n")
    msg = f"{len(pred)} images"
    if (y >= 0).all():
        msg += f", accuracy {100 * float((pred == y).mean()):.2f} %"
    if args.compare:
        ref = np.loadtxt(args.compare, delimiter=",", skiprows=1, dtype=np.int64)[: len(pred)]
        msg += f", agreement with {args.compare}: {100 * float((ref[:, 2] == pred).mean()):.2f} %"
    print(msg)


if __name__ == "__main__":
    sys.exit(main())
