"""QAT building blocks that match cimtlm's integer semantics exactly.

Integer scheme (the contract with the C++ side; A = 2^input_bits - 1, M = 2^(weight_bits-1) - 1):
  * input: x_int = pixel byte p (0..255), input_scale = 1/255.
  * weight layer (Conv2d 3x3 pad 1 stride 1 / Linear): s_w = max|w| / M (float64, frozen at export),
    w_int = clamp(llround(w / s_w), -M, M); optional bias_int = llround(b / (s_w * s_in)).
  * acc = sum(w_int * x_int) + bias_int (exact int64).
  * every weight layer except the last: y_int = clamp(llround(acc * m), -A, A), m = (s_w * s_in) / s_out
    in float64, evaluated exactly in that order. The last layer's output is acc (the logits).
  * ReLU = clamp(y, 0, A); MaxPool 2x2/2 = max; Flatten in NCHW order. Scales pass through unchanged.
llround rounds half away from zero.

Public API: QuantConv2d, QuantLinear, QuantNet, build_vgg8s, fold_bn_into, quantize_input,
integer_forward(model, images_uint8) -> int64 logits, export_onnx(model, path), llround_np.
"""
from __future__ import annotations

import json
import math
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

WEIGHT_BITS = 8
INPUT_BITS = 8
A = 2 ** INPUT_BITS - 1          # 255
M = 2 ** (WEIGHT_BITS - 1) - 1   # 127
INPUT_SCALE = 1.0 / 255.0
FORMAT = "cimtlm.quant/1"


# ----------------------------------------------------------------------------------------- rounding
def llround_np(v: np.ndarray) -> np.ndarray:
    """C llround on float64 arrays: round half away from zero, exact (no floor(x+0.5) double rounding)."""
    v = np.asarray(v, dtype=np.float64)
    t = np.trunc(v)
    frac = v - t                       # exact in binary floating point
    r = t + np.where(np.abs(frac) >= 0.5, np.sign(v), 0.0)
    return r.astype(np.int64)


def round_half_away(x: torch.Tensor) -> torch.Tensor:
    """torch equivalent of llround (result stays floating point)."""
    t = torch.trunc(x)
    frac = x - t
    return t + torch.where(frac.abs() >= 0.5, torch.sign(x), torch.zeros_like(x))


def ste(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Straight-through estimator: forward q, backward identity."""
    return x + (q - x).detach()


def quantize_input(images_uint8) -> torch.Tensor:
    """uint8 images (N,28,28) or (N,1,28,28) -> float32 (N,1,H,W) = p/255 (x_int * input_scale)."""
    x = torch.from_numpy(np.array(images_uint8, copy=True))
    if x.dim() == 3:
        x = x.unsqueeze(1)
    return x.to(torch.float32) / 255.0


# ------------------------------------------------------------------------------------- quant layers
class _QuantMixin:
    """Shared state of a quantised weight layer.

    quant: fake-quantisation on/off (off = plain float layer).
    act_quant: whether the layer's output is requantised (False for the logits layer).
    act_scale: s_out, float64 buffer, EMA of max|pre-activation| / A while training in quant mode.
    frozen_w_scale: s_w frozen at export / eval (float64 buffer, 0 = not frozen: use the live max|w|/M).
    """

    def _init_quant(self, act_quant: bool, momentum: float = 0.9):
        self.quant = False
        self.act_quant = act_quant
        self.momentum = momentum
        self.register_buffer("act_scale", torch.zeros((), dtype=torch.float64))
        self.register_buffer("frozen_w_scale", torch.zeros((), dtype=torch.float64))
        self.calibrating = False

    # s_w as a python float (float64)
    def weight_scale(self) -> float:
        if float(self.frozen_w_scale) > 0.0:
            return float(self.frozen_w_scale)
        return float(self.weight.detach().abs().max().double()) / M

    def freeze(self):
        self.frozen_w_scale.fill_(float(self.weight.detach().abs().max().double()) / M)

    def unfreeze(self):
        self.frozen_w_scale.fill_(0.0)

    def int_weight(self) -> np.ndarray:
        s_w = self.weight_scale()
        w = self.weight.detach().double().cpu().numpy()
        return np.clip(llround_np(w / s_w), -M, M)

    def int_bias(self, s_in: float) -> Optional[np.ndarray]:
        if self.bias is None:
            return None
        b = self.bias.detach().double().cpu().numpy()
        return llround_np(b / (self.weight_scale() * s_in))

    def requant_multiplier(self, s_in: float) -> float:
        return (self.weight_scale() * s_in) / float(self.act_scale)

    def _fq_params(self, s_in: float):
        s_w = self.weight_scale()
        w = self.weight
        wq = ste(w, torch.clamp(round_half_away(w / s_w), -M, M) * s_w)
        b = self.bias
        if b is not None:
            sb = s_w * s_in
            b = ste(b, round_half_away(b / sb) * sb)
        return wq, b

    def _params(self, s_in: float):
        """Weight and bias for the forward pass: fake-quantised in quant mode, float otherwise."""
        return self._fq_params(s_in) if self.quant else (self.weight, self.bias)

    def _act(self, y: torch.Tensor) -> torch.Tensor:
        if not self.act_quant:
            return y
        if self.calibrating or (self.training and self.quant):
            cur = float(y.detach().abs().max().double()) / A
            if float(self.act_scale) <= 0.0 or self.calibrating and float(self.act_scale) < cur:
                self.act_scale.fill_(cur if float(self.act_scale) <= 0.0 else max(cur, float(self.act_scale)))
            else:
                self.act_scale.mul_(self.momentum).add_((1.0 - self.momentum) * cur)
        if not self.quant:
            return y
        s = float(self.act_scale)
        return ste(y, torch.clamp(round_half_away(y / s), -A, A) * s)


class QuantConv2d(nn.Conv2d, _QuantMixin):
    def __init__(self, cin, cout, act_quant=True, bias=True):
        nn.Conv2d.__init__(self, cin, cout, kernel_size=3, stride=1, padding=1, bias=bias)
        self._init_quant(act_quant)

    def qforward(self, x, s_in: float):
        return self._act(F.conv2d(x, *self._params(s_in), stride=1, padding=1))


class QuantLinear(nn.Linear, _QuantMixin):
    def __init__(self, fin, fout, act_quant=True, bias=True):
        nn.Linear.__init__(self, fin, fout, bias=bias)
        self._init_quant(act_quant)

    def qforward(self, x, s_in: float):
        return self._act(F.linear(x, *self._params(s_in)))


QUANT_LAYERS = (QuantConv2d, QuantLinear)


class QuantNet(nn.Module):
    """features (Sequential of QuantConv2d/ReLU/MaxPool2d[/BatchNorm2d]) -> flatten -> classifier.

    Forward tracks the activation scale so each layer knows its s_in (= s_out of the previous weight layer).
    The last weight layer must have act_quant=False (logits).
    """

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential):
        super().__init__()
        self.features = features
        self.classifier = classifier

    def chain(self):
        return list(self.features) + [nn.Flatten()] + list(self.classifier)

    def weight_layers(self):
        return [(n, m) for n, m in self.named_modules() if isinstance(m, QUANT_LAYERS)]

    def forward(self, x):
        s = INPUT_SCALE
        for m in self.features:
            if isinstance(m, QUANT_LAYERS):
                x = m.qforward(x, s)
                s = float(m.act_scale) if m.act_quant else float("nan")
            else:
                x = m(x)
        x = torch.flatten(x, 1)
        for m in self.classifier:
            if isinstance(m, QUANT_LAYERS):
                x = m.qforward(x, s)
                s = float(m.act_scale) if m.act_quant else float("nan")
            else:
                x = m(x)
        return x

    def set_quant(self, on: bool):
        for _, m in self.weight_layers():
            m.quant = on

    def freeze(self):
        for _, m in self.weight_layers():
            m.freeze()

    def unfreeze(self):
        for _, m in self.weight_layers():
            m.unfreeze()

    @torch.no_grad()
    def calibrate(self, batches):
        """Initialise s_out = max over batches of max|pre-activation| / A (float forward)."""
        was_training = self.training
        self.eval()
        quant = [m.quant for _, m in self.weight_layers()]
        for _, m in self.weight_layers():
            m.act_scale.fill_(0.0)
            m.calibrating = True
        for xb in batches:
            self(xb)
        for (_, m), q in zip(self.weight_layers(), quant):
            m.calibrating = False
            m.quant = q
        self.train(was_training)


# ------------------------------------------------------------------------------------------ network
VGG8S_CFG = [32, 32, "M", 64, 64, "M", 128, 128, "M"]


def build_vgg8s(bn: bool = False, cfg=None, fc: int = 256, num_classes: int = 10, in_hw: int = 28) -> QuantNet:
    """Width-reduced VGG-8 (configs/networks/vgg8_fmnist_small.yaml). With bn=True, BatchNorm2d follows each
    conv (float warm-up only; fold with fold_bn_into before QAT/export)."""
    cfg = VGG8S_CFG if cfg is None else cfg
    layers: List[nn.Module] = []
    cin, hw = 1, in_hw
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            hw //= 2
        else:
            layers.append(QuantConv2d(cin, v))
            if bn:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            cin = v
    classifier = nn.Sequential(QuantLinear(cin * hw * hw, fc), nn.ReLU(),
                               QuantLinear(fc, num_classes, act_quant=False))
    return QuantNet(nn.Sequential(*layers), classifier)


@torch.no_grad()
def fold_bn_into(src: QuantNet, dst: QuantNet):
    """Copy src (conv[-bn]-relu...) into dst (same layers, no BN), folding eval-mode BN into conv w/b."""
    sf = list(src.features)
    df = [m for m in dst.features]
    di = 0
    i = 0
    while i < len(sf):
        m = sf[i]
        while not isinstance(df[di], type(m)) and not (isinstance(m, QuantConv2d) and isinstance(df[di], QuantConv2d)):
            di += 1
        if isinstance(m, QuantConv2d):
            w = m.weight.double()
            b = m.bias.double() if m.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
            if i + 1 < len(sf) and isinstance(sf[i + 1], nn.BatchNorm2d):
                bn = sf[i + 1]
                g = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
                w = w * g.view(-1, 1, 1, 1)
                b = (b - bn.running_mean.double()) * g + bn.bias.double()
                i += 1
            df[di].weight.copy_(w.float())
            df[di].bias.copy_(b.float())
        i += 1
        di += 1
    dst.classifier.load_state_dict(src.classifier.state_dict())


# ------------------------------------------------------------------------------- integer reference
def _conv3x3_int(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact integer 3x3/pad1/stride1 conv. x int64 (N,C,H,W), w int64 (O,C,3,3) -> int64 (N,O,H,W).

    The multiply-accumulate runs as a float64 convolution (torch, im2col + dgemm). This is exact: every
    product and every partial sum is an integer of magnitude <= C*9 * max|w| * max|x| < 2^53 (asserted), so
    any summation order (and FMA) gives the exact int64 result, bit-identical to an int64 loop
    (_conv3x3_int_ref; checked in the tests)."""
    c = x.shape[1]
    bound = c * 9 * int(np.abs(w).max(initial=0)) * int(np.abs(x).max(initial=0))
    assert bound < 2 ** 53, "accumulator bound exceeds float64 exact range"
    out = F.conv2d(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)),
                   torch.from_numpy(np.ascontiguousarray(w, dtype=np.float64)), padding=1).numpy()
    return np.rint(out).astype(np.int64)


def _conv3x3_int_ref(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Plain int64 reference (slow; for tests)."""
    n, c, h, wd = x.shape
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd), dtype=np.int64)
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, dy:dy + h, dx:dx + wd], w[:, :, dy, dx].astype(np.int64))
    return out


def _linear_int(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    bound = x.shape[1] * int(np.abs(w).max(initial=0)) * int(np.abs(x).max(initial=0))
    assert bound < 2 ** 53
    return np.rint(x.astype(np.float64) @ w.astype(np.float64).T).astype(np.int64)


def _maxpool2(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    return x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def extract_int_program(model: QuantNet):
    """The model as an integer program: a list of ops
    ("conv"|"linear", w_int, bias_int|None, multiplier|None), ("relu",), ("pool",), ("flatten",)."""
    prog = []
    s = INPUT_SCALE
    for m in model.chain():
        if isinstance(m, QUANT_LAYERS):
            kind = "conv" if isinstance(m, QuantConv2d) else "linear"
            mult = m.requant_multiplier(s) if m.act_quant else None
            prog.append((kind, m.int_weight(), m.int_bias(s), mult))
            s = float(m.act_scale) if m.act_quant else float("nan")
        elif isinstance(m, nn.ReLU):
            prog.append(("relu",))
        elif isinstance(m, nn.MaxPool2d):
            prog.append(("pool",))
        elif isinstance(m, nn.Flatten):
            prog.append(("flatten",))
        else:
            raise TypeError(f"unsupported module in integer model: {m}")
    return prog


def run_int_program(prog, images_uint8, batch: int = 100) -> np.ndarray:
    imgs = np.asarray(images_uint8)
    if imgs.ndim == 3:
        imgs = imgs[:, None]
    outs = []
    for i in range(0, imgs.shape[0], batch):
        x = imgs[i:i + batch].astype(np.int64)       # x_int = p
        for op in prog:
            if op[0] in ("conv", "linear"):
                _, w, b, mult = op
                acc = _conv3x3_int(x, w) if op[0] == "conv" else _linear_int(x, w)
                if b is not None:
                    acc = acc + (b.reshape(1, -1, 1, 1) if op[0] == "conv" else b.reshape(1, -1))
                if mult is None:
                    x = acc
                else:
                    x = np.clip(llround_np(acc.astype(np.float64) * mult), -A, A)
            elif op[0] == "relu":
                x = np.clip(x, 0, A)
            elif op[0] == "pool":
                x = _maxpool2(x)
            elif op[0] == "flatten":
                x = x.reshape(x.shape[0], -1)
        outs.append(x)
    return np.concatenate(outs, axis=0).astype(np.int64)


def integer_forward(model: QuantNet, images_uint8, batch: int = 100) -> np.ndarray:
    """The quantised model in exact integer arithmetic (int64 logits, shape (N, classes)).
    Uses the frozen weight scales if frozen (export freezes them), else max|w|/M of the current weights."""
    return run_int_program(extract_int_program(model), images_uint8, batch)


def argmax_first(logits: np.ndarray) -> np.ndarray:
    return np.argmax(logits, axis=1)   # numpy returns the first index on ties


# ------------------------------------------------------------------------------------------- export
class _PlainNet(nn.Module):
    def __init__(self, features, classifier):
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


@torch.no_grad()
def to_plain_dequantised(model: QuantNet) -> _PlainNet:
    """Plain Conv/ReLU/MaxPool/Linear copy with weights = w_int * s_w (float32) and bias = bias_int*s_w*s_in,
    keeping the parameter names (features.0.weight, ...)."""
    s = INPUT_SCALE

    def conv(m: nn.Module, s_in):
        if isinstance(m, QuantConv2d):
            p = nn.Conv2d(m.in_channels, m.out_channels, 3, 1, 1, bias=m.bias is not None)
        elif isinstance(m, QuantLinear):
            p = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        else:
            return m
        s_w = m.weight_scale()
        p.weight.copy_(torch.from_numpy((m.int_weight() * s_w).astype(np.float32)))
        if m.bias is not None:
            p.bias.copy_(torch.from_numpy((m.int_bias(s_in) * (s_w * s_in)).astype(np.float32)))
        return p

    feats, cls = [], []
    for m in model.features:
        feats.append(conv(m, s))
        if isinstance(m, QUANT_LAYERS):
            s = float(m.act_scale) if m.act_quant else float("nan")
    for m in model.classifier:
        cls.append(conv(m, s))
        if isinstance(m, QUANT_LAYERS):
            s = float(m.act_scale) if m.act_quant else float("nan")
    return _PlainNet(nn.Sequential(*feats), nn.Sequential(*cls)).eval()


def quant_metadata(model: QuantNet) -> Dict:
    layers = {}
    for name, m in model.weight_layers():
        layers[f"{name}.weight"] = {"weight_scale": m.weight_scale(),
                                    "out_scale": float(m.act_scale) if m.act_quant else None}
    return {"format": FORMAT, "weight_bits": WEIGHT_BITS, "input_bits": INPUT_BITS,
            "input_scale": INPUT_SCALE, "layers": layers, "adds": {}}


def export_onnx(model: QuantNet, path: str, in_shape=(1, 1, 28, 28)) -> Dict:
    """Freeze the weight scales, export opset 13 (input "input", output "logits", dynamic batch) with float
    initializers = dequantised weights, attach metadata_props["cimtlm.quant"], verify names, check_model.
    Returns the metadata dict."""
    import onnx
    from onnx import numpy_helper

    model.eval()
    model.freeze()
    for name, m in model.weight_layers():
        if m.act_quant:
            assert float(m.act_scale) > 0.0, f"{name}: activation scale not set"
    plain = to_plain_dequantised(model)
    torch.onnx.export(plain, torch.zeros(*in_shape), path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True, export_params=True, keep_initializers_as_inputs=False)
    meta = quant_metadata(model)
    mo = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in mo.graph.initializer}
    sd = plain.state_dict()
    # torch may rename or constant-fold initializers (e.g. a transposed Gemm weight); map back by value.
    for pname, ref in sd.items():
        ref = ref.numpy()
        if pname in inits and inits[pname].shape == ref.shape and np.array_equal(inits[pname], ref):
            continue
        cand = [n for n, a in inits.items() if a.shape == ref.shape and np.array_equal(a, ref)]
        if len(cand) != 1:
            raise RuntimeError(f"cannot locate initializer for {pname} in exported graph ({cand})")
        _rename_tensor(mo.graph, cand[0], pname)
        inits[pname] = inits.pop(cand[0])
    for lname in meta["layers"]:
        assert lname in inits, f"{lname} missing from ONNX initializers"
    del mo.metadata_props[:]
    p = mo.metadata_props.add()
    p.key = "cimtlm.quant"
    p.value = json.dumps(meta)
    onnx.checker.check_model(mo)
    onnx.save(mo, path)
    return meta


def materialise_shared_initializers(mo):
    """torch's ONNX export shares equal initializers and re-creates each copy with an Identity node: make every such
    copy an initializer of its own and drop the Identity, so the graph has no Identity on an initializer."""
    import onnx
    inits = {t.name: t for t in mo.graph.initializer}
    for node in [n for n in mo.graph.node if n.op_type == "Identity" and n.input[0] in inits]:
        t = onnx.TensorProto()
        t.CopyFrom(inits[node.input[0]])
        t.name = node.output[0]
        mo.graph.initializer.append(t)
        mo.graph.node.remove(node)


def _rename_tensor(graph, old: str, new: str):
    for t in graph.initializer:
        if t.name == old:
            t.name = new
    for n in graph.node:
        for i, v in enumerate(n.input):
            if v == old:
                n.input[i] = new


# --------------------------------------------------------------------------------------- data utils
def load_idx(path: str) -> np.ndarray:
    import gzip
    import struct
    data = gzip.open(path, "rb").read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        r, c = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, r, c)
    assert magic == 2049, f"bad IDX magic {magic}"
    return np.frombuffer(data, np.uint8, offset=8)


FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


def load_fmnist(split: str, root: str = FMNIST_DIR):
    """split 'train' or 't10k' -> (images uint8 (N,28,28), labels int64 (N,))."""
    x = load_idx(f"{root}/{split}-images-idx3-ubyte.gz")
    y = load_idx(f"{root}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return x, y
