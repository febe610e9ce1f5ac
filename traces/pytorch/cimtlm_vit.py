"""A small vision transformer with QAT that matches cimtlm's integer transformer semantics exactly.

The integer semantics (format cimtlm.quant/2) are written out in traces/README.md, section "Transformer integer
semantics". In short (A = 255, M = 127, llround = round half away from zero, scale arithmetic in float64 in the
order written, no fused multiply-add):
  * weight layers (patch Conv, Linear as MatMul + bias Add, head Gemm) as in cimtlm.quant/1; inputs may be signed;
  * activation x activation MatMul (Q.K^T, A.V): exact int64 products, an optional constant folded from the Div that
    follows (c = 1.0 / d), y = clamp(llround(acc * m)), m = ((s_a * s_b) * c) / s_out;
  * Add: y = clamp(llround((a * ma) + (b * mb))); Add with a constant: y = clamp(llround((a * ma) + (c / s_out)));
  * Concat: each computed input requantised to s_out, a constant input becomes clamp(llround(c / s_out));
  * Softmax: a 16-bit exp table over d = max - x (d = 0 .. 2A), y = div_round(e * 255, sum e), scale 1/255;
  * LayerNorm: integer mean/variance, r = isqrt(V // n + Eps), z = div_round(d * 65536, r), 8-bit gamma,
    acc = z * g + b, y = clamp(llround(acc * m)), m = (s_g * 2^-16) / s_out;
  * GELU (erf or tanh form): a table over the 2A + 1 input integers.

Public API: ViTConfig, QuantViT, build_vit, integer_forward_vit(model, images_uint8) -> int64 logits,
export_onnx_vit(model, path, opset=17), and the integer kernels (int_softmax, int_layernorm, gelu_table, ...).
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, asdict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from cimtlm_quant import (A, M, INPUT_SCALE, WEIGHT_BITS, INPUT_BITS, llround_np, round_half_away, ste,  # noqa: F401
                          argmax_first, load_fmnist, FMNIST_DIR, quantize_input, _rename_tensor)

FORMAT2 = "cimtlm.quant/2"
SOFTMAX_SCALE = 1.0 / 255.0          # fixed output scale of Softmax (values 0 .. 255)
EXP_ONE = 65536.0                    # exp table: 16 fractional bits
LN_FRAC = 65536                      # LayerNorm z: 16 fractional bits
INV_SQRT2 = 0.7071067811865476
SQRT_2_OVER_PI = 0.7978845608028654


# ======================================================================================= integer kernels
# Plain numpy int64 / float64, written in the order of the contract. They are also the reference for the tests.

def div_round(a, b):
    """sign(a) * ((2|a| + b) // (2b)) for int64 a and b > 0 (round half away from zero, exact)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    assert (b > 0).all()
    return np.sign(a) * ((2 * np.abs(a) + b) // (2 * b))


def isqrt_np(n):
    """floor(sqrt(n)) exactly for int64 n >= 0 (n < 2^52): float sqrt, then corrected by +-1 steps."""
    n = np.asarray(n, dtype=np.int64)
    assert (n >= 0).all() and (n < 2 ** 52).all()
    r = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    for _ in range(2):
        r = np.where(r * r > n, r - 1, r)
        r = np.where((r + 1) * (r + 1) <= n, r + 1, r)
    return r


def clamp_a(v):
    return np.clip(v, -A, A)


def requant(acc, m: float):
    """clamp(llround(acc * m), -A, A), acc int64, m float64."""
    return clamp_a(llround_np(np.asarray(acc, dtype=np.int64).astype(np.float64) * m))


def exact_matmul(a, b):
    """int64 a (..., K) @ b (..., K, Q) exactly. float64 BLAS is exact when every partial sum is an integer below
    2^53; the bound K * max|a| * max|b| is checked, else int64 matmul."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    bound = a.shape[-1] * int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0))
    if bound >= 2 ** 53:
        return np.matmul(a, b)
    return np.rint(np.matmul(a.astype(np.float64), b.astype(np.float64))).astype(np.int64)


def int_linear(x, w_int, b_int=None):
    """acc = x @ w_int^T + b_int: x int64 (..., K), w_int (Nout, K)."""
    acc = exact_matmul(x, np.asarray(w_int).T)
    if b_int is not None:
        acc = acc + b_int
    return acc


def act_matmul_multiplier(s_a: float, s_b: float, c: float, s_out: float) -> float:
    return ((s_a * s_b) * c) / s_out


def int_act_matmul(a, b, s_a: float, s_b: float, c: float, s_out: float):
    """Activation x activation MatMul: exact acc, y = clamp(llround(acc * m)), m = ((s_a * s_b) * c) / s_out."""
    return requant(exact_matmul(a, b), act_matmul_multiplier(s_a, s_b, c, s_out))


def int_add(a, b, s_a: float, s_b: float, s_out: float):
    """Residual Add: y = clamp(llround((a * ma) + (b * mb))), ma = s_a / s_out, mb = s_b / s_out (no fma)."""
    ma = s_a / s_out
    mb = s_b / s_out
    pa = np.asarray(a, dtype=np.int64).astype(np.float64) * ma
    pb = np.asarray(b, dtype=np.int64).astype(np.float64) * mb
    return clamp_a(llround_np(pa + pb))


def int_add_const(a, c, s_a: float, s_out: float):
    """Add with a constant c (float32 values as float64, broadcast): y = clamp(llround((a * ma) + (c / s_out)))."""
    ma = s_a / s_out
    pa = np.asarray(a, dtype=np.int64).astype(np.float64) * ma
    pc = np.asarray(c, dtype=np.float64) / s_out
    return clamp_a(llround_np(pa + pc))


def int_requant_to(x, s_x: float, s_out: float):
    """Concat input requantised to the output scale: clamp(llround(x * (s_x / s_out)))."""
    return clamp_a(llround_np(np.asarray(x, dtype=np.int64).astype(np.float64) * (s_x / s_out)))


def int_const_to(c, s_out: float):
    """A constant Concat input: clamp(llround(c / s_out))."""
    return clamp_a(llround_np(np.asarray(c, dtype=np.float64) / s_out))


def softmax_table(S: float) -> np.ndarray:
    """E[d] = llround(65536.0 * math.exp(-(d * S))), d = 0 .. 2A."""
    v = np.array([EXP_ONE * math.exp(-(float(d) * S)) for d in range(2 * A + 1)], dtype=np.float64)
    return llround_np(v)


def int_softmax(x, S: float, table: Optional[np.ndarray] = None):
    """Softmax over the last axis of x_int (scale S) -> integers in [0, 255] at scale 1/255."""
    E = softmax_table(S) if table is None else table
    x = np.asarray(x, dtype=np.int64)
    mx = x.max(axis=-1, keepdims=True)
    e = E[mx - x]
    s = e.sum(axis=-1, keepdims=True)
    return div_round(e * 255, s)


def layernorm_params(gamma32, beta32, eps32):
    """gamma, beta, eps as the float32 values of the graph -> (g_int, s_g, b_int, s_z, eps64)."""
    gamma = np.asarray(gamma32, dtype=np.float32).astype(np.float64)
    beta = np.asarray(beta32, dtype=np.float32).astype(np.float64)
    eps = float(np.float32(eps32))
    s_g = float(np.abs(gamma).max()) / M
    g = np.clip(llround_np(gamma / s_g), -M, M)
    s_z = s_g * 2.0 ** -16
    b = llround_np(beta / s_z)
    return g, s_g, b, s_z, eps


def int_layernorm(x, S: float, gamma32, beta32, eps32, s_out: float):
    """LayerNormalization over the last axis of x_int (scale S), output requantised to s_out."""
    x = np.asarray(x, dtype=np.int64)
    n = x.shape[-1]
    g, s_g, b, s_z, eps = layernorm_params(gamma32, beta32, eps32)
    t = x.sum(axis=-1, keepdims=True)
    d = n * x - t
    V = (d * d).sum(axis=-1, keepdims=True)
    nf = float(n)
    Eps = int(llround_np(((nf * nf) * eps) / (S * S)))
    r = np.maximum(1, isqrt_np(V // n + Eps))
    z = div_round(d * LN_FRAC, r)
    acc = z * g + b
    return requant(acc, s_z / s_out)


def gelu_value(v: float, form: str) -> float:
    if form == "erf":
        return (0.5 * v) * (1.0 + math.erf(v * INV_SQRT2))
    if form == "tanh":
        return (0.5 * v) * (1.0 + math.tanh(SQRT_2_OVER_PI * (v + ((0.044715 * v) * v) * v)))
    raise ValueError(form)


def gelu_table(S: float, s_out: float, form: str = "erf") -> np.ndarray:
    """G[q + A] = clamp(llround(gelu(q * S) / s_out), -A, A) for q = -A .. A."""
    g = np.array([gelu_value(float(q) * S, form) / s_out for q in range(-A, A + 1)], dtype=np.float64)
    return clamp_a(llround_np(g))


def int_gelu(x, table: np.ndarray):
    return table[np.asarray(x, dtype=np.int64) + A]


# ============================================================================================ QAT modules
class ActQuant(nn.Module):
    """Output scale s_out of one requantising op and its fake quantiser.

    s_out (float64 buffer) = EMA (momentum 0.9) of max|x| / A while training in quant mode; `calibrate` initialises
    it with the maximum over a few batches. Fake quantisation: clamp(round(x / s_out), -A, A) * s_out
    with a straight-through gradient. quant off: identity (float model)."""

    def __init__(self, momentum: float = 0.9):
        super().__init__()
        self.register_buffer("scale", torch.zeros((), dtype=torch.float64))
        self.momentum = momentum
        self.quant = False
        self.calibrating = False

    def s(self) -> float:
        return float(self.scale)

    def observe(self, x: torch.Tensor):
        mn, mx = torch.aminmax(x.detach())
        cur = max(-float(mn), float(mx)) / A
        if self.calibrating:
            self.scale.fill_(max(cur, float(self.scale)))
        elif self.training and self.quant:
            if float(self.scale) <= 0.0:
                self.scale.fill_(cur)
            else:
                self.scale.mul_(self.momentum).add_((1.0 - self.momentum) * cur)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.calibrating or (self.training and self.quant):
            self.observe(x)
        if not self.quant:
            return x
        return fq_fixed(x, float(self.scale), -A, A)


class _FakeQuant(torch.autograd.Function):
    """clamp(round(x / s), lo, hi) * s forward, identity backward (straight-through estimator).

    torch.round rounds exact halves to even where llround rounds them away from zero. The fake quantiser only has to
    approximate the integer model (an exact .5 quotient of float32 activations is a ~2^-23 event), and torch.round
    is ~10x faster than an exact half-away-from-zero rounding on this machine's torch build."""

    @staticmethod
    def forward(ctx, x, s: float, lo: int, hi: int):
        return torch.clamp(torch.round(x / s), lo, hi) * s

    @staticmethod
    def backward(ctx, g):
        return g, None, None, None


def fq_fixed(x: torch.Tensor, s: float, lo: int, hi: int) -> torch.Tensor:
    return _FakeQuant.apply(x, s, lo, hi)


class _WeightQuant:
    """Per-tensor symmetric weights (s_w = max|w| / M, frozen at export) and bias quantised with s_w * s_in."""

    def _init_wq(self):
        self.quant = False
        self.register_buffer("frozen_w_scale", torch.zeros((), dtype=torch.float64))

    def weight_scale(self) -> float:
        if float(self.frozen_w_scale) > 0.0:
            return float(self.frozen_w_scale)
        return float(self.weight.detach().abs().max().double()) / M

    def freeze(self):
        self.frozen_w_scale.fill_(float(self.weight.detach().abs().max().double()) / M)

    def unfreeze(self):
        self.frozen_w_scale.fill_(0.0)

    def int_weight(self) -> np.ndarray:
        return np.clip(llround_np(self.weight.detach().double().numpy() / self.weight_scale()), -M, M)

    def int_bias(self, s_in: float) -> Optional[np.ndarray]:
        if self.bias is None:
            return None
        return llround_np(self.bias.detach().double().numpy() / (self.weight_scale() * s_in))

    def params(self, s_in):
        """s_in: the input scale, a float or the ActQuant that produced the input (read only in quant mode)."""
        if not self.quant:
            return self.weight, self.bias
        if isinstance(s_in, ActQuant):
            s_in = s_in.s()
        s_w = self.weight_scale()
        w = fq_fixed(self.weight, s_w, -M, M)
        b = self.bias
        if b is not None:
            b = fq_fixed(b, s_w * s_in, -2 ** 62, 2 ** 62)
        return w, b


class QLinear(nn.Linear, _WeightQuant):
    """Linear layer. On tokens (N, T, K) torch exports MatMul(x, w^T initializer) + Add(bias); on (N, K) a Gemm."""

    def __init__(self, fin, fout, bias=True, logits=False):
        nn.Linear.__init__(self, fin, fout, bias=bias)
        self._init_wq()
        self.out = None if logits else ActQuant()

    def forward(self, x, s_in):
        y = F.linear(x, *self.params(s_in))
        return y if self.out is None else self.out(y)


class QPatchEmbed(nn.Conv2d, _WeightQuant):
    """Conv with kernel = stride = patch, padding 0."""

    def __init__(self, cin, dim, patch):
        nn.Conv2d.__init__(self, cin, dim, kernel_size=patch, stride=patch, padding=0, bias=True)
        self._init_wq()
        self.out = ActQuant()

    def forward(self, x, s_in):
        return self.out(F.conv2d(x, *self.params(s_in), stride=self.stride, padding=0))


class QMatMul(nn.Module):
    """Activation x activation MatMul, optionally followed by a Div by the constant `div` (exported as a Div node)."""

    def __init__(self, div: Optional[float] = None):
        super().__init__()
        self.div = div
        self.out = ActQuant()

    def constant(self) -> float:
        """c as the integer semantics read it: 1.0 / d with d the float32 constant of the graph, as float64."""
        return 1.0 if self.div is None else 1.0 / float(np.float32(self.div))

    def forward(self, a, b):
        y = torch.matmul(a, b)
        if self.div is not None:
            y = y / self.div
        return self.out(y)


class QAdd(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = ActQuant()

    def forward(self, a, b):
        return self.out(a + b)


class QConcatClassToken(nn.Module):
    """Concat(Expand(class token), patch tokens) along the token axis; the class token is a float32 parameter."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.out = ActQuant()

    def forward(self, x):
        c = self.cls_token.expand(x.shape[0], 1, self.dim)
        return self.out(torch.cat([c, x], dim=1))


class QPosEmbed(nn.Module):
    """Add with a constant: x + pos (float32 parameter (1, T, D))."""

    def __init__(self, tokens: int, dim: int):
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        self.out = ActQuant()

    def forward(self, x):
        return self.out(x + self.pos_embed)


class QLayerNorm(nn.LayerNorm):
    """LayerNorm with 8-bit gamma (s_g = max|gamma| / M of the float32 parameter), beta on the s_g * 2^-16 grid."""

    def __init__(self, dim: int, eps: float = 1e-5):
        nn.LayerNorm.__init__(self, dim, eps=eps)
        self.quant = False
        self.out = ActQuant()

    def forward(self, x):
        w, b = self.weight, self.bias
        if self.quant:
            s_g = float(w.detach().abs().max().double()) / M
            w = fq_fixed(w, s_g, -M, M)
            b = fq_fixed(b, s_g * 2.0 ** -16, -2 ** 62, 2 ** 62)
        return self.out(F.layer_norm(x, self.normalized_shape, w, b, self.eps))


class QSoftmax(nn.Module):
    """Softmax over the last axis; output fixed at scale 1/255, values 0 .. 255."""

    def __init__(self):
        super().__init__()
        self.quant = False

    def forward(self, x):
        y = torch.softmax(x, dim=-1)
        return fq_fixed(y, SOFTMAX_SCALE, 0, A) if self.quant else y


class QGELU(nn.Module):
    def __init__(self, form: str = "erf"):
        super().__init__()
        assert form in ("erf", "tanh")
        self.form = form
        self.out = ActQuant()

    def forward(self, x):
        return self.out(F.gelu(x, approximate="none" if self.form == "erf" else "tanh"))


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, tokens: int):
        super().__init__()
        assert dim % heads == 0
        self.heads, self.dh, self.tokens, self.dim = heads, dim // heads, tokens, dim
        self.q = QLinear(dim, dim)
        self.k = QLinear(dim, dim)
        self.v = QLinear(dim, dim)
        self.qk = QMatMul(div=math.sqrt(self.dh))
        self.softmax = QSoftmax()
        self.av = QMatMul()
        self.proj = QLinear(dim, dim)

    def forward(self, x, s_in):
        T, H, dh = self.tokens, self.heads, self.dh
        q = self.q(x, s_in).reshape(-1, T, H, dh).transpose(1, 2)          # (N, H, T, dh)
        kt = self.k(x, s_in).reshape(-1, T, H, dh).permute(0, 2, 3, 1)     # (N, H, dh, T)
        v = self.v(x, s_in).reshape(-1, T, H, dh).transpose(1, 2)          # (N, H, T, dh)
        a = self.softmax(self.qk(q, kt))                                    # (N, H, T, T)
        o = self.av(a, v).transpose(1, 2).reshape(-1, T, self.dim)          # (N, T, D)
        return self.proj(o, self.av.out)


class Block(nn.Module):
    """Pre-LN encoder block: x + proj(attn(LN1(x))), then x + fc2(GELU(fc1(LN2(x))))."""

    def __init__(self, dim: int, heads: int, mlp: int, tokens: int, gelu: str):
        super().__init__()
        self.norm1 = QLayerNorm(dim)
        self.attn = Attention(dim, heads, tokens)
        self.add1 = QAdd()
        self.norm2 = QLayerNorm(dim)
        self.fc1 = QLinear(dim, mlp)
        self.act = QGELU(gelu)
        self.fc2 = QLinear(mlp, dim)
        self.add2 = QAdd()

    def forward(self, x):
        x = self.add1(x, self.attn(self.norm1(x), self.norm1.out))
        h = self.act(self.fc1(self.norm2(x), self.norm2.out))
        return self.add2(x, self.fc2(h, self.act.out))


@dataclass
class ViTConfig:
    img: int = 28
    patch: int = 7
    dim: int = 64
    depth: int = 4
    heads: int = 4
    mlp: int = 128
    classes: int = 10
    gelu: str = "erf"


class QuantViT(nn.Module):
    """Patch Conv -> tokens -> Concat(class token) -> Add(pos) -> pre-LN blocks -> LN -> token 0 -> Linear head."""

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.cfg = cfg
        g = cfg.img // cfg.patch
        assert g * cfg.patch == cfg.img
        self.n_patches = g * g
        self.tokens = self.n_patches + 1
        self.patch_embed = QPatchEmbed(1, cfg.dim, cfg.patch)
        self.cls = QConcatClassToken(cfg.dim)
        self.pos = QPosEmbed(self.tokens, cfg.dim)
        self.blocks = nn.Sequential(*[Block(cfg.dim, cfg.heads, cfg.mlp, self.tokens, cfg.gelu)
                                      for _ in range(cfg.depth)])
        self.norm = QLayerNorm(cfg.dim)
        self.head = QLinear(cfg.dim, cfg.classes, logits=True)
        nn.init.trunc_normal_(self.cls.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos.pos_embed, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x, INPUT_SCALE)                                 # (N, D, g, g)
        x = x.reshape(-1, self.cfg.dim, self.n_patches).transpose(1, 2)     # (N, P, D)
        x = self.pos(self.cls(x))                                           # (N, T, D)
        x = self.blocks(x)
        x = self.norm(x)
        return self.head(x[:, 0], self.norm.out)

    # ------------------------------------------------------------------------------------ quant control
    def weight_layers(self) -> List[Tuple[str, nn.Module]]:
        return [(n, m) for n, m in self.named_modules() if isinstance(m, _WeightQuant)]

    def act_quants(self) -> List[Tuple[str, ActQuant]]:
        return [(n, m) for n, m in self.named_modules() if isinstance(m, ActQuant)]

    def set_quant(self, on: bool):
        for m in self.modules():
            if hasattr(m, "quant"):
                m.quant = on

    def freeze(self):
        for _, m in self.weight_layers():
            m.freeze()

    def unfreeze(self):
        for _, m in self.weight_layers():
            m.unfreeze()

    @torch.no_grad()
    def calibrate(self, batches):
        """s_out = max over the batches of max|x| / A for every requantising op (float forward)."""
        was_training = self.training
        quant = [getattr(m, "quant") for m in self.modules() if hasattr(m, "quant")]
        self.eval()
        self.set_quant(False)
        for _, q in self.act_quants():
            q.scale.fill_(0.0)
            q.calibrating = True
        for xb in batches:
            self(xb)
        for _, q in self.act_quants():
            q.calibrating = False
        for m, q in zip([m for m in self.modules() if hasattr(m, "quant")], quant):
            m.quant = q
        self.train(was_training)


def build_vit(cfg: Optional[ViTConfig] = None, **kw) -> QuantViT:
    cfg = cfg or ViTConfig(**kw)
    return QuantViT(cfg)


# ====================================================================================== integer program
def _f32(t: torch.Tensor) -> np.ndarray:
    """A float32 parameter as float64 (exact): the value the ONNX file holds."""
    return t.detach().to(torch.float32).numpy().astype(np.float64)


class IntViT:
    """The quantised model as integer data: weights, biases, scales, constants and tables."""

    def __init__(self, model: QuantViT):
        cfg = model.cfg
        self.cfg = cfg
        self.tokens = model.tokens
        pe = model.patch_embed
        self.patch = self._wl(pe, INPUT_SCALE)
        s = pe.out.s()
        self.cls = _f32(model.cls.cls_token).reshape(1, cfg.dim)
        self.s_patch = s
        self.s_cat = model.cls.out.s()
        self.pos = _f32(model.pos.pos_embed).reshape(self.tokens, cfg.dim)
        self.s_pos = model.pos.out.s()
        s = self.s_pos
        self.blocks = []
        for blk in model.blocks:
            b = {"s_in": s, "ln1": self._ln(blk.norm1, s)}
            s1 = blk.norm1.out.s()
            at = blk.attn
            b["q"], b["k"], b["v"] = self._wl(at.q, s1), self._wl(at.k, s1), self._wl(at.v, s1)
            b["s_q"], b["s_k"], b["s_v"] = at.q.out.s(), at.k.out.s(), at.v.out.s()
            b["qk_c"], b["s_qk"] = at.qk.constant(), at.qk.out.s()
            b["softmax_E"] = softmax_table(b["s_qk"])
            b["s_av"] = at.av.out.s()
            b["proj"] = self._wl(at.proj, b["s_av"])
            b["s_proj"] = at.proj.out.s()
            b["s_add1"] = blk.add1.out.s()
            b["ln2"] = self._ln(blk.norm2, b["s_add1"])
            s2 = blk.norm2.out.s()
            b["fc1"] = self._wl(blk.fc1, s2)
            b["s_fc1"] = blk.fc1.out.s()
            b["s_gelu"] = blk.act.out.s()
            b["gelu"] = gelu_table(b["s_fc1"], b["s_gelu"], blk.act.form)
            b["fc2"] = self._wl(blk.fc2, b["s_gelu"])
            b["s_fc2"] = blk.fc2.out.s()
            b["s_add2"] = blk.add2.out.s()
            s = b["s_add2"]
            self.blocks.append(b)
        self.norm = self._ln(model.norm, s)
        self.head = self._wl(model.head, model.norm.out.s())

    @staticmethod
    def _wl(m, s_in: float):
        out = None if m.out is None else m.out.s()
        mult = None if out is None else (m.weight_scale() * s_in) / out
        return {"w": m.int_weight(), "b": m.int_bias(s_in), "m": mult}

    @staticmethod
    def _ln(m: QLayerNorm, s_in: float):
        return {"S": s_in, "gamma": _f32(m.weight), "beta": _f32(m.bias), "eps": float(np.float32(m.eps)),
                "s_out": m.out.s()}

    @staticmethod
    def _apply_wl(x, wl):
        acc = int_linear(x, wl["w"], wl["b"])
        return acc if wl["m"] is None else requant(acc, wl["m"])

    @staticmethod
    def _apply_ln(x, ln):
        return int_layernorm(x, ln["S"], ln["gamma"], ln["beta"], ln["eps"], ln["s_out"])

    def forward(self, imgs: np.ndarray) -> np.ndarray:
        cfg = self.cfg
        n = imgs.shape[0]
        p, g, D, T, H = cfg.patch, cfg.img // cfg.patch, cfg.dim, self.tokens, cfg.heads
        dh = D // H
        x = imgs.astype(np.int64).reshape(n, g, p, g, p).transpose(0, 1, 3, 2, 4).reshape(n, g * g, p * p)
        w = self.patch["w"].reshape(D, p * p)
        x = requant(int_linear(x, w, self.patch["b"]), self.patch["m"])        # (n, P, D) = conv output, transposed
        cls = np.broadcast_to(int_const_to(self.cls, self.s_cat), (n, 1, D))
        x = np.concatenate([cls, int_requant_to(x, self.s_patch, self.s_cat)], axis=1)
        x = int_add_const(x, self.pos, self.s_cat, self.s_pos)
        for b in self.blocks:
            h = self._apply_ln(x, b["ln1"])
            q = self._apply_wl(h, b["q"]).reshape(n, T, H, dh).transpose(0, 2, 1, 3)
            kt = self._apply_wl(h, b["k"]).reshape(n, T, H, dh).transpose(0, 2, 3, 1)
            v = self._apply_wl(h, b["v"]).reshape(n, T, H, dh).transpose(0, 2, 1, 3)
            sc = int_act_matmul(q, kt, b["s_q"], b["s_k"], b["qk_c"], b["s_qk"])
            a = int_softmax(sc, b["s_qk"], b["softmax_E"])
            o = int_act_matmul(a, v, SOFTMAX_SCALE, b["s_v"], 1.0, b["s_av"])
            o = o.transpose(0, 2, 1, 3).reshape(n, T, D)
            o = self._apply_wl(o, b["proj"])
            x = int_add(x, o, b["s_in"], b["s_proj"], b["s_add1"])
            h = self._apply_ln(x, b["ln2"])
            h = int_gelu(self._apply_wl(h, b["fc1"]), b["gelu"])
            h = self._apply_wl(h, b["fc2"])
            x = int_add(x, h, b["s_add1"], b["s_fc2"], b["s_add2"])
        x = self._apply_ln(x, self.norm)
        return self._apply_wl(x[:, 0], self.head)


def integer_forward_vit(model: QuantViT, images_uint8, batch: int = 500) -> np.ndarray:
    """The quantised ViT in exact integer arithmetic: int64 logits (N, classes). Uses the frozen weight scales
    (export freezes them), else max|w| / M of the current weights."""
    prog = IntViT(model)
    imgs = np.asarray(images_uint8)
    if imgs.ndim == 3:
        imgs = imgs[:, None]
    assert imgs.dtype == np.uint8
    return np.concatenate([prog.forward(imgs[i:i + batch]) for i in range(0, imgs.shape[0], batch)], axis=0)


# ================================================================================================ export
def _normalised_scope(node_name: str) -> str:
    """'/blocks/blocks.0/attn/qk/Div' -> 'blocks.0.attn.qk' (torch 1.13 scope names: a child of a Sequential or
    ModuleList appears with its qualified name after its parent's)."""
    segs = node_name.split("/")[1:-1]
    out: List[str] = []
    for s in segs:
        if out and s.startswith(out[-1] + "."):
            out[-1] = s
        else:
            out.append(s)
    return ".".join(out)


def _quant_points(model: QuantViT):
    """(module path, kind) of every op that needs a `nodes` entry, with its output scale."""
    pts = [("cls", "concat", model.cls.out.s()), ("pos", "add_const", model.pos.out.s())]
    for i, blk in enumerate(model.blocks):
        p = f"blocks.{i}"
        pts += [(f"{p}.norm1", "layernorm", blk.norm1.out.s()),
                (f"{p}.attn.qk", "act_matmul", blk.attn.qk.out.s()),
                (f"{p}.attn.av", "act_matmul", blk.attn.av.out.s()),
                (f"{p}.add1", "add", blk.add1.out.s()),
                (f"{p}.norm2", "layernorm", blk.norm2.out.s()),
                (f"{p}.act", "gelu", blk.act.out.s()),
                (f"{p}.add2", "add", blk.add2.out.s())]
    pts.append(("norm", "layernorm", model.norm.out.s()))
    return pts


def _weight_s_in(model: QuantViT) -> Dict[str, float]:
    d = {"patch_embed": INPUT_SCALE}
    for i, blk in enumerate(model.blocks):
        p = f"blocks.{i}"
        for k in ("q", "k", "v"):
            d[f"{p}.attn.{k}"] = blk.norm1.out.s()
        d[f"{p}.attn.proj"] = blk.attn.av.out.s()
        d[f"{p}.fc1"] = blk.norm2.out.s()
        d[f"{p}.fc2"] = blk.act.out.s()
    d["head"] = model.norm.out.s()
    return d


def _pick_node(nodes, scope: str, kind: str, opset: int):
    """The ONNX node that carries the scale of the op in module `scope`."""
    mine = [n for n in nodes if _normalised_scope(n.name) == scope]
    ops = [n.op_type for n in mine]
    if kind == "concat":
        cand = [n for n in mine if n.op_type == "Concat" and n.attribute[0].i == 1]
    elif kind in ("add", "add_const"):
        cand = [n for n in mine if n.op_type == "Add"]
    elif kind == "act_matmul":
        cand = [n for n in mine if n.op_type == "Div"] or [n for n in mine if n.op_type == "MatMul"]
    elif kind == "layernorm":
        if opset >= 17:
            cand = [n for n in mine if n.op_type == "LayerNormalization"]
        else:   # decomposed: ReduceMean Sub Pow ReduceMean Add Sqrt Div Mul Add -> the last Add
            cand = [n for n in mine if n.op_type == "Add"][-1:]
            assert ops.count("ReduceMean") == 2 and "Sqrt" in ops, (scope, ops)
    elif kind == "gelu":
        cand = [n for n in mine if n.op_type == "Mul"][-1:]
        assert ("Erf" in ops) or ("Tanh" in ops), (scope, ops)
    else:
        raise ValueError(kind)
    if len(cand) != 1:
        raise RuntimeError(f"export: cannot identify the {kind} node of {scope}: {[(n.name, n.op_type) for n in mine]}")
    return cand[0]


@torch.no_grad()
def to_export_model(model: QuantViT) -> QuantViT:
    """A float copy for torch.onnx.export: fake quantisation off, weight layers hold w_int * s_w and
    bias_int * s_w * s_in (float32); LayerNorm gamma/beta, class token and positional embedding stay the float32
    parameters (the integer semantics derive their integers from these values)."""
    s_in = _weight_s_in(model)
    ex = copy.deepcopy(model).eval()
    ex.set_quant(False)
    for name, m in ex.weight_layers():
        src = dict(model.named_modules())[name]
        s_w = src.weight_scale()
        m.weight.copy_(torch.from_numpy((src.int_weight() * s_w).astype(np.float32)))
        if m.bias is not None:
            m.bias.copy_(torch.from_numpy((src.int_bias(s_in[name]) * (s_w * s_in[name])).astype(np.float32)))
    return ex


def export_onnx_vit(model: QuantViT, path: str, opset: int = 17) -> Dict:
    """Freeze the weight scales and export (input "input" float32 (N,1,28,28) = pixel/255, dynamic batch, output
    "logits") with metadata_props["cimtlm.quant"] in format cimtlm.quant/2. Weight initializers are renamed to
    the torch parameter names (a MatMul weight is [K, N] = w^T). Every metadata key is checked against the graph.
    opset 17 writes LayerNormalization nodes; opset 14 the decomposed form."""
    import onnx
    from onnx import numpy_helper

    model.eval()
    model.freeze()
    for name, q in model.act_quants():
        assert q.s() > 0.0, f"{name}: activation scale not set"
    ex = to_export_model(model)
    cfg = model.cfg
    torch.onnx.export(ex, torch.zeros(1, 1, cfg.img, cfg.img), path, opset_version=opset,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True, export_params=True, keep_initializers_as_inputs=False)
    mo = onnx.load(path)
    g = mo.graph
    # torch shares equal initializers through Identity nodes: materialise them as initializers.
    inits = {t.name: t for t in g.initializer}
    for node in [n for n in g.node if n.op_type == "Identity" and n.input[0] in inits]:
        t = onnx.TensorProto()
        t.CopyFrom(inits[node.input[0]])
        t.name = node.output[0]
        g.initializer.append(t)
        g.node.remove(node)
    arrays = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    consumers: Dict[str, List] = {}
    for n in g.node:
        for v in n.input:
            consumers.setdefault(v, []).append(n)

    layers = {}
    s_in = _weight_s_in(model)
    for name, m in ex.weight_layers():
        src = dict(model.named_modules())[name]
        w = m.weight.detach().numpy()
        pname = f"{name}.weight"
        if isinstance(m, QLinear) and name != "head":
            want = np.ascontiguousarray(w.T)       # MatMul(x, w^T)
        else:
            want = w
        cand = [k for k, a in arrays.items() if a.shape == want.shape and np.array_equal(a, want)]
        if len(cand) != 1:
            raise RuntimeError(f"cannot locate the weight initializer of {name} ({cand})")
        if cand[0] != pname:
            _rename_tensor(g, cand[0], pname)
            arrays[pname] = arrays.pop(cand[0])
        users = [n for n in g.node if pname in list(n.input)]
        assert len(users) == 1 and users[0].input[1] == pname and users[0].op_type in ("Conv", "Gemm", "MatMul"), \
            (pname, [(u.name, u.op_type) for u in users])
        if users[0].op_type == "MatMul":   # its bias is the Add of an initializer that reads it
            add = [n for n in g.node if n.op_type == "Add" and users[0].output[0] in list(n.input)]
            assert len(add) == 1, (pname, add)
            bname = [v for v in add[0].input if v != users[0].output[0]][0]
            assert bname in arrays, (pname, bname)
            bias = arrays[bname]
        else:
            bias = arrays[users[0].input[2]]
        # the importer's recovery is exact
        s_w = src.weight_scale()
        assert np.array_equal(np.clip(llround_np(arrays[pname].astype(np.float64) / s_w), -M, M),
                              src.int_weight().T if want is not w else src.int_weight()), pname
        assert np.array_equal(llround_np(bias.astype(np.float64) / (s_w * s_in[name])), src.int_bias(s_in[name])), name
        layers[pname] = {"weight_scale": s_w, "out_scale": None if src.out is None else src.out.s()}

    nodes = {}
    opset_v = mo.opset_import[0].version
    for scope, kind, s_out in _quant_points(model):
        node = _pick_node(g.node, scope, kind, opset_v)
        assert node.name and node.name not in nodes, node.name
        nodes[node.name] = {"out_scale": s_out}
    meta = {"format": FORMAT2, "weight_bits": WEIGHT_BITS, "input_bits": INPUT_BITS, "input_scale": INPUT_SCALE,
            "layers": layers, "nodes": nodes}
    names = {n.name for n in g.node}
    for k in nodes:
        assert k in names, k
    for k in layers:
        assert k in arrays, k
    # the float32 constants the integer semantics read are the parameters themselves
    for pname, t in (("cls.cls_token", model.cls.cls_token), ("pos.pos_embed", model.pos.pos_embed)):
        assert pname in arrays and np.array_equal(arrays[pname], t.detach().numpy()), pname
    del mo.metadata_props[:]
    p = mo.metadata_props.add()
    p.key = "cimtlm.quant"
    p.value = json.dumps(meta)
    onnx.checker.check_model(mo)
    onnx.save(mo, path)
    return meta


def config_dict(model: QuantViT) -> Dict:
    return asdict(model.cfg)
