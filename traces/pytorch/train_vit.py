#!/usr/bin/python3
"""Train a small vision transformer on Fashion-MNIST with 8-bit QAT matching cimtlm's transformer integer semantics.

Phase 1: float training (AdamW, one-cycle LR). Phase 2: activation scales calibrated, QAT fine-tuning (fake-quant
weights, LayerNorm gamma/beta, activations, softmax output; straight-through gradients). Then the INTEGER model
(integer_forward_vit) is evaluated on the 10000 test images and exported: <out>/<name>.onnx (opset 17,
metadata cimtlm.quant/2), <name>.md (model card), <name>.predictions.csv.

  OMP_WAIT_POLICY=passive /usr/bin/python3 traces/pytorch/train_vit.py --threads 2 --out traces/models
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
# torch's matrix products go to OpenBLAS, which has its own thread pool: give it the --threads count too.
_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=2)
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(_pre.parse_known_args()[0].threads))

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cimtlm_vit as cv  # noqa: E402
from train import accuracy, batches, seeded_data  # noqa: E402  (the CNN trainer's set-up, data order, flips)


@torch.no_grad()
def predict_torch(model, x_u8, bs=500):
    model.eval()
    return np.concatenate([model(x_u8[i:i + bs].unsqueeze(1).float() / 255.0).argmax(1).numpy()
                           for i in range(0, x_u8.shape[0], bs)])


def run_epochs(model, x, y, epochs, lr, wd, gen, bs, tag, xt, yt, log, flip, pct_start, smoothing):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "pos_embed" not in n and "cls_token" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "pos_embed" not in n
                                                                and "cls_token" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    steps = epochs * ((x.shape[0] + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=pct_start,
                                                anneal_strategy="cos") if steps > 0 else None
    for ep in range(epochs):
        model.train()
        t0 = time.time()
        tot, n = 0.0, 0
        for xb, yb in batches(x, y, bs, gen, flip):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb, label_smoothing=smoothing)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(yb)
            n += len(yb)
        dt = time.time() - t0
        acc = accuracy(model, xt, yt)
        print(f"[{tag}] epoch {ep + 1}/{epochs}: loss {tot / n:.4f}  test acc {100 * acc:.2f} %  "
              f"epoch time {dt:.1f} s", flush=True)
        log.append(dict(phase=tag, epoch=ep + 1, loss=tot / n, acc=acc, time=dt))
    return log


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=8, help="float epochs")
    ap.add_argument("--qat-epochs", type=int, default=1, help="QAT fine-tuning epochs")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp", type=int, default=128)
    ap.add_argument("--patch", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    ap.add_argument("--name", default="fmnist_vit")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--qat-lr", type=float, default=2e-4)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--smoothing", type=float, default=0.0, help="label smoothing")
    ap.add_argument("--flip", type=int, default=1, help="random horizontal flips while training (1/0)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (debug)")
    ap.add_argument("--no-export", action="store_true", help="train and evaluate only (experiments)")
    ap.add_argument("--data", default=cv.FMNIST_DIR)
    args = ap.parse_args(argv)

    xtr, ytr, xte, yte, Xtr, Ytr, Xte, Yte, gen = seeded_data(args)
    t_start = time.time()
    log = []

    cfg = cv.ViTConfig(patch=args.patch, dim=args.dim, depth=args.depth, heads=args.heads, mlp=args.mlp)
    model = cv.build_vit(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"config {cfg}, {n_params} parameters", flush=True)

    # ---- phase 1: float
    run_epochs(model, Xtr, Ytr, args.epochs, args.lr, args.wd, gen, args.batch, "float", Xte, Yte, log,
               bool(args.flip), 0.15, args.smoothing)
    float_acc = accuracy(model, Xte, Yte)

    # ---- phase 2: calibrate activation scales, QAT
    calib_gen = torch.Generator().manual_seed(args.seed + 1)
    cal = [xb for _, (xb, _) in zip(range(8), batches(Xtr, Ytr, 256, calib_gen))]
    model.calibrate(cal)
    model.set_quant(True)
    ptq_acc = accuracy(model, Xte, Yte)
    print(f"float acc {100 * float_acc:.2f} %, fake-quant (PTQ, before QAT) acc {100 * ptq_acc:.2f} %", flush=True)
    run_epochs(model, Xtr, Ytr, args.qat_epochs, args.qat_lr, args.wd, gen, args.batch, "qat", Xte, Yte, log,
               bool(args.flip), 0.05, args.smoothing)
    train_time = time.time() - t_start

    # ---- freeze + integer evaluation
    model.eval()
    model.freeze()
    fq_pred = predict_torch(model, Xte)
    fq_acc = float((fq_pred == yte).mean())
    t0 = time.time()
    logits = cv.integer_forward_vit(model, xte)
    int_time = time.time() - t0
    pred = cv.argmax_first(logits)
    int_correct = int((pred == yte).sum())
    agree = float((fq_pred == pred).mean())
    print(f"fake-quant acc {100 * fq_acc:.2f} %, INTEGER acc {100 * int_correct / len(yte):.2f} % "
          f"({int_correct}/{len(yte)}), fake-quant/integer argmax agreement {100 * agree:.2f} %, "
          f"integer_forward_vit {int_time:.1f} s", flush=True)
    if args.no_export:
        return

    # ---- export
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, f"{args.name}.onnx")
    meta = cv.export_onnx_vit(model, onnx_path)
    csv_path = os.path.join(args.out, f"{args.name}.predictions.csv")
    with open(csv_path, "w") as f:
        f.write("index,label,prediction\n")
        for i, (l, p) in enumerate(zip(yte, pred)):
            f.write(f"{i},{int(l)},{int(p)}\n")
    total_time = time.time() - t_start
    card = make_card(args, cfg, n_params, log, float_acc, ptq_acc, fq_acc, int_correct, len(yte), agree,
                     train_time, total_time, int_time, meta, onnx_path, argv)
    with open(os.path.join(args.out, f"{args.name}.md"), "w") as f:
        f.write(card)
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), {csv_path}, model card; "
          f"training {train_time:.1f} s, total {total_time:.1f} s", flush=True)


def block_ops(onnx_path, block=0):
    """op_type sequence of one encoder block (nodes in the scope of blocks.<block>), in file order."""
    import onnx
    mo = onnx.load(onnx_path)
    pre = f"/blocks/blocks.{block}/"
    return [n.op_type for n in mo.graph.node if n.name.startswith(pre)]


def make_card(args, cfg, n_params, log, float_acc, ptq_acc, fq_acc, int_correct, n_test, agree,
              train_time, total_time, int_time, meta, onnx_path, argv):
    cmd_args = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    rows = "\n".join(f"| {r['phase']} | {r['epoch']} | {r['loss']:.4f} | {100 * r['acc']:.2f} % | {r['time']:.1f} s |"
                     for r in log)
    layers = "\n".join(f"| `{k}` | {json.dumps(v['weight_scale'])} | {json.dumps(v['out_scale'])} |"
                       for k, v in meta["layers"].items())
    nodes = "\n".join(f"| `{k}` | {json.dumps(v['out_scale'])} |" for k, v in meta["nodes"].items())
    g = cfg.img // cfg.patch
    ops = " ".join(block_ops(onnx_path))
    return f"""# {args.name}: 8-bit QAT vision transformer on Fashion-MNIST

Produced by `traces/pytorch/train_vit.py`. All the numbers below were written by that run.

## Reproduce

```
OMP_WAIT_POLICY=passive /usr/bin/python3 traces/pytorch/train_vit.py {cmd_args}
```

(from the repository root). Deterministic: `torch.manual_seed({args.seed})`, a seeded `torch.Generator` for the data
order and flips, and `torch.use_deterministic_algorithms(True)`. torch {torch.__version__}, numpy {np.__version__},
Python {platform.python_version()}, {args.threads} thread(s), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')},
OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}.
The machine has 2 cores shared with other jobs, so the wall times below depend on the load at the time.

## Data

Fashion-MNIST from `{args.data}`: {'first ' + str(args.train_limit) + ' of the ' if args.train_limit else ''}60000 training images (no validation split held out),
10000 test images (`t10k`). Input = pixel byte / 255 (no mean/std normalisation), so the integer input is the byte itself.
Augmentation: {'random horizontal flip (p = 0.5) during training only' if args.flip else 'none'}.

## Architecture ({n_params} parameters)

* patch embedding: Conv {cfg.patch}x{cfg.patch}, stride {cfg.patch}, padding 0, 1 -> {cfg.dim} channels, bias:
  {g}x{g} = {g * g} patch tokens of dimension D = {cfg.dim};
* Concat of a learned class token (Expand over the batch), Add of a learned positional embedding ({g * g + 1} x {cfg.dim}):
  T = {g * g + 1} tokens;
* {cfg.depth} pre-LN encoder blocks: LayerNorm; Q, K, V Linear layers (D -> D, bias); {cfg.heads} heads of
  dh = {cfg.dim // cfg.heads}; Q.K^T MatMul followed by a Div by sqrt(dh) = {(cfg.dim // cfg.heads) ** 0.5:g}; Softmax; A.V MatMul;
  output projection Linear (D -> D); residual Add; LayerNorm; MLP Linear (D -> {cfg.mlp}) - GELU (erf form) -
  Linear ({cfg.mlp} -> D); residual Add;
* final LayerNorm (eps 1e-5 everywhere), class-token readout (Gather index 0 on the token axis), Linear head
  (D -> 10, bias) whose accumulator is the logits.

ONNX (opset 17, input `input` float32 (N,1,28,28) = pixel / 255 with a dynamic batch, output `logits`): the
op_type sequence of one encoder block is

```
{ops}
```

The token-wise Linear layers are `MatMul` with a [K, N] = w^T initializer (named after the torch parameter, e.g.
`blocks.0.attn.q.weight`) followed by an `Add` of the bias initializer; the head is a `Gemm`.

## Training

* Phase 1 (float): {args.epochs} epoch(s), AdamW (weight decay {args.wd} on matrices, none on biases, LayerNorm,
  class token and positional embedding), one-cycle LR (max {args.lr}, 15 % warm-up, cosine), batch {args.batch},
  label smoothing {args.smoothing}.
* Activation scales calibrated (maximum over 8 x 256 training images), then
* Phase 2 (QAT): {args.qat_epochs} epoch(s), AdamW, one-cycle LR (max {args.qat_lr}, 5 % warm-up), batch {args.batch}.
  Fake-quantised weights and biases, 8-bit LayerNorm gamma (beta on the gamma * 2^-16 grid), every activation at
  its own scale, softmax output at 1/255; straight-through gradients; s_out = EMA (momentum 0.9) of max|x| / 255.

| phase | epoch | train loss | test acc (float / fake-quant) | epoch time |
|---|---|---|---|---|
{rows}

Training wall time (phase 1 + 2, data loading included): **{train_time:.1f} s** ({train_time / 60:.1f} min) on {args.threads} thread(s);
whole run including integer evaluation and export: {total_time:.1f} s. integer_forward_vit on 10000 images: {int_time:.1f} s.

## Results (10000 test images)

| model | test accuracy |
|---|---|
| float (end of phase 1) | {100 * float_acc:.2f} % |
| fake-quant after calibration, before QAT (PTQ) | {100 * ptq_acc:.2f} % |
| fake-quant after QAT (frozen scales) | {100 * fq_acc:.2f} % |
| **integer (`integer_forward_vit`)** | **{100 * int_correct / n_test:.2f} %** |

Integer test accuracy: {int_correct}/{n_test}
Fake-quant vs integer argmax agreement: {100 * agree:.2f} %

`{args.name}.predictions.csv` holds `index,label,prediction` of `integer_forward_vit` for all {n_test} test images.
`traces/pytorch/predict.py` recomputes them from the ONNX file alone (onnx + numpy).

## Integer semantics (format {meta['format']})

8-bit weights and activations: A = 255, M = 127, llround = round half away from zero, scale arithmetic in float64 in
the order written, no fused multiply-add. Summary (the full text is in traces/README.md, "Transformer integer
semantics"):
* weight layers (patch Conv, the MatMul + bias Add Linear layers, the head Gemm): s_w = max|w| / 127 per tensor,
  w_int = clamp(llround(w / s_w), -127, 127), bias_int = llround(b / (s_w * s_in)), acc exact in int64,
  y = clamp(llround(acc * m), -255, 255) with m = (s_w * s_in) / s_out; the head outputs acc (the logits);
  signed inputs (after LayerNorm) are allowed;
* Concat: each computed input requantised to the output scale, the class token (float32 constant c) becomes
  clamp(llround(c / s_out)); positional Add with a constant: clamp(llround((a * (s_a / s_out)) + (c / s_out)));
* Q.K^T and A.V: exact int64 products, y = clamp(llround(acc * m)), m = ((s_a * s_b) * c) / s_out with c = 1.0 / d
  folded from the Div by d = sqrt(dh) (c = 1.0 for A.V);
* Softmax (last axis, input scale S): E[d] = llround(65536.0 * exp(-(d * S))) for d = 0 .. 510,
  e_j = E[max - x_j], y_j = div_round(e_j * 255, sum e), output scale 1/255;
* LayerNorm: t = sum x, d_i = n x_i - t, V = sum d_i^2, Eps = llround(((n * n) * eps) / (S * S)),
  r = max(1, isqrt(V // n + Eps)), z_i = div_round(d_i * 65536, r), s_g = max|gamma| / 127,
  g_i = clamp(llround(gamma_i / s_g)), b_i = llround(beta_i / (s_g * 2^-16)), y = clamp(llround((z_i g_i + b_i) * m)),
  m = (s_g * 2^-16) / s_out;
* GELU (erf): a table over the 511 input integers, G[q] = clamp(llround(((0.5 v) (1 + erf(v * 0.7071067811865476))) / s_out)), v = q * S;
* residual Add: y = clamp(llround((a * (s_a / s_out)) + (b * (s_b / s_out)))).

The ONNX initializers of the weight layers hold w_int * s_w and bias_int * s_w * s_in (float32); LayerNorm gamma and
beta, the class token and the positional embedding are the trained float32 parameters. `metadata_props["cimtlm.quant"]`:

| weight initializer | weight_scale | out_scale |
|---|---|---|
{layers}

| node | out_scale |
|---|---|
{nodes}

File size: {os.path.getsize(onnx_path)} bytes.
"""


if __name__ == "__main__":
    main()
