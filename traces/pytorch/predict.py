#!/usr/bin/python3
"""Recompute cimtlm integer predictions from an exported ONNX file, with onnx + numpy only (no torch).

Independent check that the export carries everything the C++ importer needs.

cimtlm.quant/1 (CNNs, train.py): the integer weights are rebuilt as w_int = llround(initializer / weight_scale)
from metadata_props["cimtlm.quant"], biases as llround(bias / (weight_scale * s_in)), and the graph (Conv 3x3/pad
1/stride 1, Relu, MaxPool 2x2/2, Flatten, Gemm) is evaluated with the exact integer semantics.

cimtlm.quant/2 (transformers, train_vit.py): the graph is walked node by node and each op is applied with the
transformer integer semantics (traces/README.md, "Transformer integer semantics"): weight layers (Conv, Gemm, MatMul
with an initializer + its bias Add), activation MatMul (with a folded Div/Mul by a constant), Add (two computed
tensors, or a constant), Concat, Softmax, LayerNormalization (one node, or the decomposed ReduceMean/Sub/Pow/
ReduceMean/Add/Sqrt/Div/Mul/Add pattern), GELU (erf or tanh pattern), and the data movement / shape arithmetic
torch emits (Reshape, Transpose, Gather, Slice, Split, Squeeze, Unsqueeze, Expand, Shape, Constant, ...).

  /usr/bin/python3 traces/pytorch/predict.py --onnx traces/models/fmnist_vgg8s.onnx --out preds.csv [--limit N]
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
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


def _load_quant(model, path: str, fmt: str):
    """Reads the ONNX file at path and its cimtlm.quant metadata (format fmt) into model: meta, A, M and the
    initialisers by name. Returns the ONNX model."""
    mo = onnx.load(path)
    props = {p.key: p.value for p in mo.metadata_props}
    if "cimtlm.quant" not in props:
        raise SystemExit(f"{path}: no metadata_props['cimtlm.quant']")
    model.meta = json.loads(props["cimtlm.quant"])
    assert model.meta["format"] == fmt, model.meta["format"]
    model.A = 2 ** model.meta["input_bits"] - 1
    model.M = 2 ** (model.meta["weight_bits"] - 1) - 1
    model.inits = {t.name: numpy_helper.to_array(t) for t in mo.graph.initializer}
    return mo


class IntModel:
    def __init__(self, path: str):
        mo = _load_quant(self, path, "cimtlm.quant/1")
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


# ============================================================================ cimtlm.quant/2 (transformers)
class QT:
    """A computed (quantised) tensor: int64 values with the batch axis first, and its float64 scale."""
    __slots__ = ("v", "s")

    def __init__(self, v, s):
        self.v = np.asarray(v, dtype=np.int64)
        self.s = float(s)


def _clamp(v, a):
    return np.clip(v, -a, a)


def _div_round(a, b):
    """sign(a) * ((2|a| + b) // (2b)), b > 0."""
    return np.sign(a) * ((2 * np.abs(a) + b) // (2 * b))


_isqrt = np.frompyfunc(math.isqrt, 1, 1)


def _f64(c):
    """An ONNX constant (float32) as float64."""
    return np.asarray(c).astype(np.float64)


class IntModel2:
    """Evaluates a cimtlm.quant/2 ONNX file with the transformer integer semantics (see the module docstring)."""

    PASS = {"Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Slice", "Split", "Gather", "Identity",
            "Expand"}

    def __init__(self, path: str):
        mo = _load_quant(self, path, "cimtlm.quant/2")
        self.g = mo.graph
        self.opset = max(o.version for o in mo.opset_import if o.domain in ("", "ai.onnx"))
        self.input_name = [i.name for i in self.g.input if i.name not in self.inits][0]
        self.output_name = self.g.output[0].name
        self.by_name = {n.name: n for n in self.g.node}
        self.producer = {o: n for n in self.g.node for o in n.output}
        self.readers = {}
        for n in self.g.node:
            for v in n.input:
                self.readers.setdefault(v, []).append(n)
        self.const_nodes = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in self.g.node
                            if n.op_type == "Constant" and n.attribute[0].name == "value"}
        bad = [k for k in self.meta["layers"] if k not in self.inits]
        if bad:
            raise SystemExit(f"metadata layers name no initializer: {bad}")
        bad = [k for k in self.meta["nodes"] if k not in self.by_name]
        if bad:
            raise SystemExit(f"metadata nodes name no node: {bad}")
        self.patterns = {}          # end node name -> (kind, info)
        self.interior = set()       # node names evaluated as part of a pattern
        for name in self.meta["nodes"]:
            node = self.by_name[name]
            if node.op_type == "Mul":
                self._match_gelu(node)
            elif node.op_type == "Add":
                self._match_layernorm(node)
        self.used = set()

    # ------------------------------------------------------------------------------------------ helpers
    @staticmethod
    def _attrs(node):
        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    def _const(self, name):
        """The value of a constant tensor (initializer or Constant node output), else None."""
        if name in self.inits:
            return self.inits[name]
        return self.const_nodes.get(name)

    def _is_scalar(self, name, value):
        """Whether the tensor is a constant with one element equal to value."""
        c = self._const(name)
        return c is not None and np.asarray(c).size == 1 and float(np.asarray(c).reshape(-1)[0]) == value

    def _prod(self, name, op=None):
        n = self.producer.get(name)
        if n is None or (op is not None and n.op_type not in ((op,) if isinstance(op, str) else op)):
            return None
        return n

    def _scale(self, node):
        if node.name not in self.meta["nodes"]:
            raise SystemExit(f"node {node.name} ({node.op_type}) needs a scale and has no metadata entry")
        self.used.add(node.name)
        return float(self.meta["nodes"][node.name]["out_scale"])

    # --------------------------------------------------------------------------------- pattern matching
    def _mul_factors(self, node):
        """The factors of a Mul node, one level of nested Mul expanded: [(tensor name, producing Mul or None)]."""
        out = []
        for v in node.input:
            p = self._prod(v, "Mul")
            if p is not None and len(self.readers.get(v, [])) == 1:
                out += [(u, p) for u in p.input]
            else:
                out.append((v, None))
        return out

    def _match_gelu(self, end):
        f = self._mul_factors(end)
        if len(f) != 3:
            return
        consts = [(v, p) for v, p in f if self._const(v) is not None]
        if len(consts) != 1 or not self._is_scalar(consts[0][0], 0.5):
            return
        rest = [(v, p) for v, p in f if self._const(v) is None]
        for (pv, _), (xv, _) in ((rest[0], rest[1]), (rest[1], rest[0])):
            add = self._prod(pv, "Add")
            if add is None:
                continue
            ins = list(add.input)
            one = [v for v in ins if self._const(v) is not None]
            other = [v for v in ins if self._const(v) is None]
            if len(one) != 1 or len(other) != 1 or not self._is_scalar(one[0], 1.0):
                continue
            fn = self._prod(other[0], ("Erf", "Tanh"))
            if fn is None:
                continue
            inner = []
            if fn.op_type == "Erf":
                d = self._prod(fn.input[0], ("Div", "Mul"))
                if d is None or d.input[0] != xv or self._const(d.input[1]) is None:
                    continue
                inner = [d]
                form = "erf"
            else:
                inner = self._chain_to(fn.input[0], xv, {"Mul", "Add", "Pow"})
                if inner is None:
                    continue
                form = "tanh"
            nodes = inner + [fn, add] + [p for _, p in f if p is not None]
            self.patterns[end.name] = ("gelu", {"x": xv, "form": form})
            self.interior.update(n.name for n in nodes)
            return

    def _chain_to(self, v, x, ops):
        """Nodes of the sub-graph computing v from x and constants with ops only; None if it needs anything else."""
        seen, stack = {}, [v]
        while stack:
            t = stack.pop()
            if t == x or self._const(t) is not None:
                continue
            p = self._prod(t)
            if p is None or p.op_type not in ops:
                return None
            if p.name not in seen:
                seen[p.name] = p
                stack += list(p.input)
        return list(seen.values())

    def _match_layernorm(self, end):
        """Add(Mul(Div(Sub(x, ReduceMean(x)), Sqrt(Add(ReduceMean(Pow(Sub, 2)), eps))), gamma), beta)."""
        def split_const(node):
            c = [v for v in node.input if self._const(v) is not None]
            o = [v for v in node.input if self._const(v) is None]
            return (c[0], o[0]) if len(c) == 1 and len(o) == 1 else (None, None)
        beta, mv = split_const(end)
        mul = self._prod(mv, "Mul") if mv else None
        if mul is None:
            return
        gamma, dv = split_const(mul)
        div = self._prod(dv, "Div") if dv else None
        if div is None:
            return
        sub = self._prod(div.input[0], "Sub")
        sq = self._prod(div.input[1], "Sqrt")
        if sub is None or sq is None:
            return
        x = sub.input[0]
        rm = self._prod(sub.input[1], "ReduceMean")
        if rm is None or rm.input[0] != x:
            return
        add_eps = self._prod(sq.input[0], "Add")
        if add_eps is None:
            return
        eps, vv = split_const(add_eps)
        rm2 = self._prod(vv, "ReduceMean") if vv else None
        pw = self._prod(rm2.input[0], "Pow") if rm2 is not None else None
        if pw is None or pw.input[0] != sub.output[0] or not self._is_scalar(pw.input[1], 2.0):
            return
        for r in (rm, rm2):
            axes = self._attrs(r).get("axes", None)
            if axes is None and len(r.input) > 1:
                axes = self._const(r.input[1]).tolist()
            assert list(axes) == [-1], (r.name, axes)
        self.patterns[end.name] = ("layernorm", {"x": x, "gamma": self._const(gamma), "beta": self._const(beta),
                                                 "eps": float(np.asarray(self._const(eps)).astype(np.float32))})
        self.interior.update(n.name for n in (rm, sub, pw, rm2, add_eps, sq, div, mul))

    # ------------------------------------------------------------------------------------------- kernels
    def _requant(self, acc, m):
        return _clamp(llround(acc.astype(np.float64) * m), self.A)

    def _weights(self, wname, s_in):
        lm = self.meta["layers"][wname]
        s_w = float(lm["weight_scale"])
        w = np.clip(llround(self.inits[wname].astype(np.float64) / s_w), -self.M, self.M)
        return lm, s_w, w

    def _finish_layer(self, acc, bias_name, lm, s_w, s_in):
        if bias_name is not None:
            acc = acc + llround(self.inits[bias_name].astype(np.float64) / (s_w * s_in))
        if lm["out_scale"] is None:
            return acc
        s_out = float(lm["out_scale"])
        return QT(self._requant(acc, (s_w * s_in) / s_out), s_out)

    def _conv(self, node, x: QT):
        lm, s_w, w = self._weights(node.input[1], x.s)
        at = self._attrs(node)
        assert at.get("group", 1) == 1 and list(at.get("dilations", [1, 1])) == [1, 1]
        assert at.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
        kh, kw = w.shape[2:]
        sh, sw = at.get("strides", [1, 1])
        pt, pl, pb, pr = at.get("pads", [0, 0, 0, 0])
        v = np.pad(x.v, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
        n, c, h, wd = v.shape
        oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
        cols = np.empty((n, oh, ow, c, kh, kw), dtype=np.int64)
        for dy in range(kh):
            for dx in range(kw):
                cols[..., dy, dx] = v[:, :, dy:dy + sh * (oh - 1) + 1:sh, dx:dx + sw * (ow - 1) + 1:sw].transpose(0, 2, 3, 1)
        acc = _exact_gemm(cols.reshape(n * oh * ow, c * kh * kw), w.reshape(w.shape[0], -1).T)
        acc = acc.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)
        if len(node.input) > 2 and node.input[2]:
            acc = acc + llround(self.inits[node.input[2]].astype(np.float64) / (s_w * x.s)).reshape(1, -1, 1, 1)
        return self._finish_layer(acc, None, lm, s_w, x.s)

    def _gemm(self, node, x: QT):
        lm, s_w, w = self._weights(node.input[1], x.s)
        at = self._attrs(node)
        assert at.get("transA", 0) == 0 and at.get("alpha", 1.0) == 1.0 and at.get("beta", 1.0) == 1.0
        wk = w.T if at.get("transB", 0) == 1 else w          # (K, N)
        acc = _exact_gemm(x.v.reshape(x.v.shape[0], -1), wk)
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
        return self._finish_layer(acc, bias, lm, s_w, x.s)

    def _bias_add(self, node):
        """The Add of an initializer that reads a weight MatMul's output (its only reader): the bias name."""
        r = self.readers.get(node.output[0], [])
        if len(r) == 1 and r[0].op_type == "Add":
            other = [v for v in r[0].input if v != node.output[0]]
            if len(other) == 1 and other[0] in self.inits:
                return r[0], other[0]
        return None, None

    def _matmul_weight(self, node, x: QT):
        lm, s_w, w = self._weights(node.input[1], x.s)            # initializer [K, N]
        acc = _exact_gemm(x.v.reshape(-1, x.v.shape[-1]), w).reshape(x.v.shape[:-1] + (w.shape[1],))
        add, bias = self._bias_add(node)
        out = self._finish_layer(acc, bias, lm, s_w, x.s)
        return out, (add.output[0] if add is not None else node.output[0]), add

    def _matmul_act(self, node, a: QT, b: QT):
        acc = _exact_gemm_nd(a.v, b.v)
        if node.name in self.meta["nodes"]:
            c, out_node = 1.0, node
        else:
            r = self.readers.get(node.output[0], [])
            if not (len(r) == 1 and r[0].op_type in ("Div", "Mul") and r[0].input[0] == node.output[0]
                    and self._const(r[0].input[1]) is not None):
                raise SystemExit(f"node {node.name} (activation MatMul) needs a scale and has no metadata entry")
            out_node = r[0]
            k = float(np.asarray(self._const(r[0].input[1])).astype(np.float32))
            c = 1.0 / k if r[0].op_type == "Div" else k
        s_out = self._scale(out_node)
        m = ((a.s * b.s) * c) / s_out
        return QT(self._requant(acc, m), s_out), out_node

    def _softmax(self, node, x: QT):
        ax = self._attrs(node).get("axis", -1)
        assert ax in (-1, x.v.ndim - 1) and self.opset >= 13, (node.name, ax)
        S = x.s
        E = llround(np.array([65536.0 * math.exp(-(d * S)) for d in range(2 * self.A + 1)]))
        e = E[x.v.max(axis=-1, keepdims=True) - x.v]
        return QT(_div_round(e * 255, e.sum(axis=-1, keepdims=True)), 1.0 / 255.0)

    def _layernorm(self, x: QT, gamma, beta, eps, s_out):
        n = x.v.shape[-1]
        gamma = _f64(gamma).reshape(-1)
        beta = _f64(beta).reshape(-1)
        t = x.v.sum(axis=-1, keepdims=True)
        d = n * x.v - t
        V = (d * d).sum(axis=-1, keepdims=True)
        Eps = int(llround(((float(n) * float(n)) * eps) / (x.s * x.s)))
        r = np.maximum(1, _isqrt((V // n + Eps).astype(object)).astype(np.int64))
        z = _div_round(d * 65536, r)
        s_g = float(np.abs(gamma).max()) / self.M
        g = np.clip(llround(gamma / s_g), -self.M, self.M)
        s_z = s_g * 2.0 ** -16
        b = llround(beta / s_z)
        return QT(self._requant(z * g + b, s_z / s_out), s_out)

    def _gelu(self, x: QT, form, s_out):
        S = x.s
        tab = []
        for q in range(-self.A, self.A + 1):
            v = q * S
            if form == "erf":
                gv = (0.5 * v) * (1.0 + math.erf(v * 0.7071067811865476))
            else:
                gv = (0.5 * v) * (1.0 + math.tanh(0.7978845608028654 * (v + ((0.044715 * v) * v) * v)))
            tab.append(gv / s_out)
        G = _clamp(llround(np.array(tab)), self.A)
        return QT(G[x.v + self.A], s_out)

    # ---------------------------------------------------------------------------- data movement / consts
    def _move(self, node, vals):
        """Ops that only move values: applied to the integers of a QT (scale kept) or to a constant."""
        op = node.op_type
        at = self._attrs(node)
        x = vals[0]
        q = isinstance(x, QT)
        v = x.v if q else np.asarray(x)
        if op == "Identity":
            out = [v]
        elif op == "Reshape":
            shape = [int(s) for s in np.asarray(vals[1]).reshape(-1)]
            if not at.get("allowzero", 0):
                shape = [v.shape[i] if s == 0 else s for i, s in enumerate(shape)]
            out = [v.reshape(shape)]
        elif op == "Transpose":
            out = [v.transpose(at.get("perm", list(range(v.ndim))[::-1]))]
        elif op == "Flatten":
            ax = at.get("axis", 1)
            out = [v.reshape(int(np.prod(v.shape[:ax])), -1)]
        elif op in ("Squeeze", "Unsqueeze"):
            axes = at.get("axes") if "axes" in at else (np.asarray(vals[1]).reshape(-1).tolist() if len(vals) > 1
                                                          and vals[1] is not None else None)
            if op == "Squeeze":
                out = [np.squeeze(v, axis=tuple(axes)) if axes is not None else np.squeeze(v)]
            else:
                r = v.ndim + len(axes)
                for a in sorted(a % r for a in axes):
                    v = np.expand_dims(v, a)
                out = [v]
        elif op == "Gather":
            out = [np.take(v, np.asarray(vals[1]).astype(np.int64), axis=at.get("axis", 0))]
        elif op == "Slice":
            starts, ends = np.asarray(vals[1]).reshape(-1), np.asarray(vals[2]).reshape(-1)
            axes = np.asarray(vals[3]).reshape(-1) if len(vals) > 3 and vals[3] is not None else range(len(starts))
            steps = np.asarray(vals[4]).reshape(-1) if len(vals) > 4 and vals[4] is not None else [1] * len(starts)
            sl = [slice(None)] * v.ndim
            for s0, e0, a, st in zip(starts, ends, axes, steps):
                dim = v.shape[int(a)]
                s0 = int(max(min(s0, dim), -dim - 1))
                e0 = int(max(min(e0, dim), -dim - 1))
                sl[int(a)] = slice(s0, e0, int(st))
            out = [v[tuple(sl)]]
        elif op == "Split":
            ax = at.get("axis", 0)
            split = at.get("split") if "split" in at else (np.asarray(vals[1]).tolist() if len(vals) > 1
                                                            and vals[1] is not None else None)
            if split is None:
                split = [v.shape[ax] // len(node.output)] * len(node.output)
            out = np.split(v, np.cumsum(split)[:-1], axis=ax)
        elif op == "Expand":
            shape = np.asarray(vals[1]).astype(np.int64).tolist()
            out = [v * np.ones(shape, dtype=v.dtype)]
        else:
            raise AssertionError(op)
        return [QT(o, x.s) for o in out] if q else out

    @staticmethod
    def _const_op(node, vals, attrs):
        op = node.op_type
        a = [np.asarray(v) for v in vals]
        if op == "Shape":
            return [np.array(a[0].shape, dtype=np.int64)]
        if op == "ConstantOfShape":
            t = attrs.get("value")
            fill = numpy_helper.to_array(t).reshape(-1)[0] if t is not None else np.float32(0)
            return [np.full(a[0].astype(np.int64).tolist(), fill)]
        if op == "Cast":
            to = onnx.helper.tensor_dtype_to_np_dtype(attrs["to"])
            return [a[0].astype(to)]
        fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Equal": np.equal,
              "Div": lambda x, y: (x // y) if np.issubdtype(x.dtype, np.integer) else np.divide(x, y)}
        if op in fn:
            return [fn[op](a[0], a[1])]
        if op == "Where":
            return [np.where(a[0], a[1], a[2])]
        if op == "Concat":
            return [np.concatenate([np.atleast_1d(x) for x in a], axis=attrs.get("axis", 0))]
        raise SystemExit(f"node {node.name}: unsupported constant op {op}")

    # --------------------------------------------------------------------------------------------- forward
    def forward(self, images_uint8: np.ndarray) -> np.ndarray:
        x = np.asarray(images_uint8)
        if x.ndim == 3:
            x = x[:, None]
        env = {self.input_name: QT(x.astype(np.int64), float(self.meta["input_scale"]))}
        env.update(self.inits)
        env.update(self.const_nodes)
        done = set()                   # outputs already written by a fused node (bias Add, folded Div)
        for node in self.g.node:
            if node.name in self.interior or node.op_type == "Constant" or node.output[0] in done:
                continue
            op = node.op_type
            if node.name in self.patterns:
                kind, info = self.patterns[node.name]
                xin = env[info["x"]]
                assert isinstance(xin, QT), node.name
                s_out = self._scale(node)
                if kind == "gelu":
                    env[node.output[0]] = self._gelu(xin, info["form"], s_out)
                else:
                    env[node.output[0]] = self._layernorm(xin, info["gamma"], info["beta"], info["eps"], s_out)
                continue
            vals = [env[v] if v else None for v in node.input]
            anyq = any(isinstance(v, QT) for v in vals)
            if not anyq:
                outs = self._const_op(node, vals, self._attrs(node)) if op not in self.PASS else self._move(node, vals)
                for o, v in zip(node.output, outs):
                    env[o] = v
                continue
            if op == "Conv":
                env[node.output[0]] = self._conv(node, vals[0])
            elif op == "Gemm":
                env[node.output[0]] = self._gemm(node, vals[0])
            elif op == "MatMul" and node.input[1] in self.meta["layers"]:
                out, name, add = self._matmul_weight(node, vals[0])
                env[name] = out
                if add is not None:
                    done.add(name)
            elif op == "MatMul":
                assert isinstance(vals[0], QT) and isinstance(vals[1], QT), node.name
                out, out_node = self._matmul_act(node, vals[0], vals[1])
                env[out_node.output[0]] = out
                if out_node is not node:
                    done.add(out_node.output[0])
            elif op == "Softmax":
                env[node.output[0]] = self._softmax(node, vals[0])
            elif op == "LayerNormalization":
                at = self._attrs(node)
                assert at.get("axis", -1) in (-1, vals[0].v.ndim - 1), node.name
                env[node.output[0]] = self._layernorm(vals[0], vals[1], vals[2] if len(vals) > 2 else
                                                      np.zeros(vals[0].v.shape[-1], np.float32),
                                                      float(np.float32(at.get("epsilon", 1e-5))), self._scale(node))
            elif op == "Add":
                s_out = self._scale(node)
                a, b = vals
                if isinstance(a, QT) and isinstance(b, QT):
                    y = _clamp(llround((a.v.astype(np.float64) * (a.s / s_out)) +
                                       (b.v.astype(np.float64) * (b.s / s_out))), self.A)
                else:
                    qa, c = (a, b) if isinstance(a, QT) else (b, a)
                    y = _clamp(llround((qa.v.astype(np.float64) * (qa.s / s_out)) + (_f64(c) / s_out)), self.A)
                env[node.output[0]] = QT(y, s_out)
            elif op == "Concat":
                s_out = self._scale(node)
                parts = []
                for v in vals:
                    if isinstance(v, QT):
                        parts.append(_clamp(llround(v.v.astype(np.float64) * (v.s / s_out)), self.A))
                    else:
                        parts.append(_clamp(llround(_f64(v) / s_out), self.A))
                env[node.output[0]] = QT(np.concatenate(parts, axis=self._attrs(node)["axis"]), s_out)
            elif op == "Relu":
                env[node.output[0]] = QT(np.clip(vals[0].v, 0, self.A), vals[0].s)
            elif op == "MaxPool":
                at = self._attrs(node)
                assert list(at["kernel_shape"]) == [2, 2] and list(at.get("strides", [2, 2])) == [2, 2]
                v = vals[0].v
                n, c, h, w = v.shape
                env[node.output[0]] = QT(v[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
                                         .max(axis=(3, 5)), vals[0].s)
            elif op in self.PASS or op == "Shape":
                if op == "Shape":
                    env[node.output[0]] = np.array(vals[0].v.shape, dtype=np.int64)
                else:
                    for o, v in zip(node.output, self._move(node, vals)):
                        env[o] = v
            else:
                raise SystemExit(f"unsupported op {op} (node {node.name}) on a computed tensor")
        unused = set(self.meta["nodes"]) - self.used
        if unused:
            raise SystemExit(f"metadata nodes that need no scale: {sorted(unused)}")
        out = env[self.output_name]
        return out.v if isinstance(out, QT) else out


def _exact_gemm_nd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched int64 matmul, exact (float64 while K * max|a| * max|b| < 2^53)."""
    bound = a.shape[-1] * int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0))
    if bound >= 2 ** 53:
        return np.matmul(a, b)
    return np.rint(np.matmul(a.astype(np.float64), b.astype(np.float64))).astype(np.int64)


# ================================================================================== float graphs (no metadata)
class FloatModel(IntModel2):
    """Evaluates a float ONNX file (no metadata, e.g. make_float_vit.py's) in float32 numpy: an independent check
    that the export computes what the torch model computed (no onnxruntime on this machine)."""

    def __init__(self, path: str):
        mo = onnx.load(path)
        self.g = mo.graph
        self.opset = max(o.version for o in mo.opset_import if o.domain in ("", "ai.onnx"))
        self.inits = {t.name: numpy_helper.to_array(t) for t in self.g.initializer}
        self.input_name = [i.name for i in self.g.input if i.name not in self.inits][0]
        self.output_name = self.g.output[0].name
        self.const_nodes = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in self.g.node
                            if n.op_type == "Constant" and n.attribute[0].name == "value"}

    def _reduce_axes(self, node, vals):
        at = self._attrs(node)
        if "axes" in at:
            return tuple(at["axes"])
        return tuple(np.asarray(vals[1]).reshape(-1).tolist()) if len(vals) > 1 and vals[1] is not None else None

    def forward(self, images_uint8: np.ndarray) -> np.ndarray:
        x = np.asarray(images_uint8)
        if x.ndim == 3:
            x = x[:, None]
        env = {self.input_name: x.astype(np.float32) / np.float32(255.0)}
        env.update(self.inits)
        env.update(self.const_nodes)
        erf = np.frompyfunc(math.erf, 1, 1)
        for node in self.g.node:
            op = node.op_type
            if op == "Constant":
                continue
            vals = [env[v] if v else None for v in node.input]
            at = self._attrs(node)
            if op in self.PASS:
                outs = self._move(node, vals)
            elif op == "Conv":
                xv, w = vals[0].astype(np.float64), vals[1].astype(np.float64)
                assert at.get("group", 1) == 1 and list(at.get("dilations", [1, 1])) == [1, 1]
                kh, kw = w.shape[2:]
                sh, sw = at.get("strides", [1, 1])
                pt, pl, pb, pr = at.get("pads", [0, 0, 0, 0])
                v = np.pad(xv, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
                n, c, h, wd = v.shape
                oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
                cols = np.empty((n, oh, ow, c, kh, kw))
                for dy in range(kh):
                    for dx in range(kw):
                        cols[..., dy, dx] = v[:, :, dy:dy + sh * (oh - 1) + 1:sh,
                                              dx:dx + sw * (ow - 1) + 1:sw].transpose(0, 2, 3, 1)
                y = (cols.reshape(n * oh * ow, -1) @ w.reshape(w.shape[0], -1).T).reshape(n, oh, ow, -1)
                y = y.transpose(0, 3, 1, 2)
                if len(vals) > 2 and vals[2] is not None:
                    y = y + vals[2].reshape(1, -1, 1, 1)
                outs = [y.astype(np.float32)]
            elif op == "Gemm":
                a, b = vals[0], vals[1]
                a = a.T if at.get("transA", 0) else a
                b = b.T if at.get("transB", 0) else b
                y = at.get("alpha", 1.0) * (a @ b)
                if len(vals) > 2 and vals[2] is not None:
                    y = y + at.get("beta", 1.0) * vals[2]
                outs = [y.astype(np.float32)]
            elif op == "MatMul":
                outs = [np.matmul(vals[0], vals[1])]
            elif op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal", "Where", "Concat", "Shape", "Cast",
                        "ConstantOfShape"):
                outs = self._const_op(node, vals, at) if op != "Pow" else [np.power(vals[0], vals[1])]
            elif op == "Sqrt":
                outs = [np.sqrt(vals[0])]
            elif op == "Tanh":
                outs = [np.tanh(vals[0])]
            elif op == "Erf":
                outs = [erf(vals[0]).astype(vals[0].dtype)]
            elif op == "Relu":
                outs = [np.maximum(vals[0], 0)]
            elif op == "ReduceMean":
                outs = [vals[0].mean(axis=self._reduce_axes(node, vals), keepdims=bool(at.get("keepdims", 1)))]
            elif op == "Softmax":
                v = vals[0] - vals[0].max(axis=at.get("axis", -1), keepdims=True)
                e = np.exp(v)
                outs = [e / e.sum(axis=at.get("axis", -1), keepdims=True)]
            elif op == "LayerNormalization":
                v = vals[0]
                mu = v.mean(-1, keepdims=True)
                var = ((v - mu) ** 2).mean(-1, keepdims=True)
                y = (v - mu) / np.sqrt(var + np.float32(at.get("epsilon", 1e-5))) * vals[1]
                outs = [y + vals[2] if len(vals) > 2 else y]
            else:
                raise SystemExit(f"float evaluation: unsupported op {op} (node {node.name})")
            for o, v in zip(node.output, outs):
                env[o] = v
        return env[self.output_name]


def predict(onnx_path, images, batch=100):
    mo = onnx.load(onnx_path)
    props = {p.key: p.value for p in mo.metadata_props}
    fmt = json.loads(props["cimtlm.quant"])["format"] if "cimtlm.quant" in props else None
    if fmt is None:
        raise SystemExit(f"{onnx_path}: no metadata_props['cimtlm.quant'] (use predict_float for a float model)")
    model = IntModel2(onnx_path) if fmt == "cimtlm.quant/2" else IntModel(onnx_path)
    return np.concatenate([model.forward(images[i:i + batch]) for i in range(0, len(images), batch)])


def predict_float(onnx_path, images, batch=100):
    """Float32 logits of a float ONNX file (no metadata)."""
    model = FloatModel(onnx_path)
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
    ap.add_argument("--float", action="store_true", help="evaluate a float model (no metadata) in float32")
    ap.add_argument("--pred-npy", help="also write the predictions as an int64 (N,) .npy")
    ap.add_argument("--logits-npy", help="also write the logits of the first --logits-n images as .npy "
                                         "(int64 accumulators for a quantised model, float32 with --float)")
    ap.add_argument("--logits-n", type=int, default=16)
    args = ap.parse_args(argv)
    if args.images_npy:
        x = np.load(args.images_npy)
        y = np.load(args.labels_npy) if args.labels_npy else np.full(len(x), -1)
    else:
        x = load_idx(f"{args.data}/t10k-images-idx3-ubyte.gz")
        y = load_idx(f"{args.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    logits = (predict_float if args.float else predict)(args.onnx, x)
    pred = np.argmax(logits, axis=1)          # ties: the first maximal index
    if args.pred_npy:
        np.save(args.pred_npy, pred.astype(np.int64))
    if args.logits_npy:
        np.save(args.logits_npy, logits[:args.logits_n].astype(np.float32 if args.float else np.int64))
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
