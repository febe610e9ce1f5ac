#!/usr/bin/python3
"""A small float vision transformer for 28x28x1 (for the C++ side's post-training-quantisation test).

Written the way timm writes a ViT, so the export has the shape arithmetic torch emits for real models:
patch embedding Conv 7x7/7 (1 -> 64) + flatten(2).transpose(1, 2); class token (expand + cat); positional
embedding Add; 4 pre-LN blocks (LayerNorm; one fused qkv Linear (64 -> 192) reshaped to (B, N, 3, heads, dh),
permuted and unbound (Split + Squeeze); (q @ k^T) * dh^-0.5 (a Mul by a constant); Softmax; @ v; transpose +
reshape; proj Linear; residual Add; LayerNorm; Linear (64 -> 128), GELU tanh form, Linear (128 -> 64); residual Add);
final LayerNorm; token 0 (Gather); Linear head (64 -> 10). Every Linear has a bias.

Exported with plain torch.onnx.export at opset 14, so each LayerNorm is the decomposed ReduceMean, Sub, Pow,
ReduceMean, Add, Sqrt, Div, Mul, Add chain; input "input" = pixel / 255 float32 (N,1,28,28) with a dynamic batch,
output "logits"; no metadata. Trained briefly (default 4 epochs over the 60000 training images, AdamW 2e-3 one-cycle,
batch 128, seed 0).

Writes to --out-dir:
  vit_float.onnx
  vit_float.images.npy       uint8 (N,1,28,28): the first N Fashion-MNIST test images
  vit_float.labels.npy       int64 (N,)
  vit_float.predictions.csv  index,label,prediction of the float torch model on those images
  vit_float.logits16.npy     float32 (16, 10): the torch float logits of the first 16 of those images
  vit_float_erf.onnx, vit_float_erf.predictions.csv, vit_float_erf.logits16.npy
                             the same weights with the erf GELU (torch GELU(approximate="none")), unless
                             --erf-variant 0; it reads the same images/labels NPY

  OMP_WAIT_POLICY=passive nice -n 10 /usr/bin/python3 traces/pytorch/make_float_vit.py --out-dir traces/models --n 1000
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=2)
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(_pre.parse_known_args()[0].threads))

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cimtlm_quant import load_fmnist, FMNIST_DIR, materialise_shared_initializers  # noqa: E402


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.dh = dim // heads
        self.scale = self.dh ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class FloatViT(nn.Module):
    def __init__(self, patch=7, dim=64, depth=4, heads=4, hidden=128, classes=10, img=28):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, dim, patch, patch)
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def export(model, path, opset=14):
    import onnx
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=opset,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    mo = onnx.load(path)
    materialise_shared_initializers(mo)
    onnx.checker.check_model(mo)
    onnx.save(mo, path)
    ops = [n.op_type for n in mo.graph.node]
    gelu = {type(m.act).__name__ + ":" + m.act.approximate for m in model.modules() if isinstance(m, Mlp)}
    want, other = ("Tanh", "Erf") if gelu == {"GELU:tanh"} else ("Erf", "Tanh")
    assert "LayerNormalization" not in ops and want in ops and other not in ops and "Identity" not in ops, ops
    return ops


def set_gelu(model, approximate):
    """Switch every MLP's GELU to the tanh ("tanh") or the erf ("none") form (same weights)."""
    for m in model.modules():
        if isinstance(m, Mlp):
            m.act = nn.GELU(approximate=approximate)


@torch.no_grad()
def logits_of(model, imgs_u8):
    return torch.cat([model(torch.from_numpy(imgs_u8[i:i + 500]).float() / 255.0)
                      for i in range(0, len(imgs_u8), 500)]).numpy()


def write_variant(model, base, imgs, labels):
    """<base>.onnx, <base>.predictions.csv (torch float argmax on imgs), <base>.logits16.npy (float32 logits of
    the first 16 images); returns (ops, predictions)."""
    ops = export(model, base + ".onnx")
    lg = logits_of(model, imgs)
    pred = lg.argmax(1)
    np.save(base + ".logits16.npy", lg[:16].astype(np.float32))
    with open(base + ".predictions.csv", "w") as f:
        f.write("index,label,prediction\n")
        for i, (l, p) in enumerate(zip(labels, pred)):
            f.write(f"{i},{int(l)},{int(p)}\n")
    return ops, pred


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    ap.add_argument("--n", type=int, default=1000, help="number of test images to write")
    ap.add_argument("--train-images", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="vit_float")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--eval-all", type=int, default=1, help="also report the accuracy on all 10000 test images (1/0)")
    ap.add_argument("--erf-variant", type=int, default=1,
                    help="also write <name>_erf.*: the same weights with the erf GELU (1/0)")
    ap.add_argument("--data", default=FMNIST_DIR)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    t0 = time.time()

    xtr, ytr = load_fmnist("train", args.data)
    xte, yte = load_fmnist("t10k", args.data)
    X = torch.from_numpy(xtr[:args.train_images].copy())
    Y = torch.from_numpy(ytr[:args.train_images])
    model = FloatViT()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n and "token" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n and "token" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                            lr=args.lr)
    steps = args.epochs * ((len(X) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=max(steps, 1), pct_start=0.15)
    gen = torch.Generator().manual_seed(args.seed)
    for ep in range(args.epochs):
        model.train()
        order = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), args.batch):
            idx = order[i:i + args.batch]
            opt.zero_grad()
            F.cross_entropy(model(X[idx].unsqueeze(1).float() / 255.0), Y[idx]).backward()
            opt.step()
            sched.step()
        print(f"epoch {ep + 1}/{args.epochs} done ({time.time() - t0:.0f} s)", flush=True)
    model.eval()
    train_time = time.time() - t0

    n = min(args.n, len(xte))
    imgs = np.ascontiguousarray(xte[:n][:, None]).astype(np.uint8)
    labels = yte[:n].astype(np.int64)
    os.makedirs(args.out_dir, exist_ok=True)
    base = os.path.join(args.out_dir, args.name)
    np.save(base + ".images.npy", imgs)
    np.save(base + ".labels.npy", labels)
    msg = []
    for suffix, approx in (("", "tanh"), ("_erf", "none")) if args.erf_variant else (("", "tanh"),):
        set_gelu(model, approx)
        ops, pred = write_variant(model, base + suffix, imgs, labels)
        acc = f"{100 * float((pred == labels).mean()):.2f} %"
        if args.eval_all:
            full = logits_of(model, np.ascontiguousarray(xte[:, None])).argmax(1)
            acc += f" (all 10000: {100 * float((full == yte).mean()):.2f} %)"
        msg.append(f"{args.name}{suffix} (GELU {approx}): float accuracy on the first {n} test images {acc}; "
                   f"ops {sorted(set(ops))}")
    set_gelu(model, "tanh")
    print("\n".join(msg))
    print(f"training {train_time:.0f} s on {args.threads} thread(s); wrote {base}*.onnx/.images.npy/.labels.npy/"
          f".predictions.csv/.logits16.npy ({time.time() - t0:.1f} s)")

if __name__ == "__main__":
    main()
