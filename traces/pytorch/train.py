#!/usr/bin/python3
"""Train the width-reduced VGG-8 on Fashion-MNIST with 8-bit QAT matching cimtlm's integer semantics.

Phase 1: float warm-up with BatchNorm (Conv-BN-ReLU). Phase 2: BN folded into the convs, activation scales
calibrated, QAT fine-tuning (fake-quant weights + activations, STE). Then the INTEGER model (integer_forward)
is evaluated on the 10k test set and exported: <out>/fmnist_vgg8s.onnx, .md (model card), .predictions.csv.

  OMP_WAIT_POLICY=passive /usr/bin/python3 traces/pytorch/train.py --threads 2 --out traces/models
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cimtlm_quant as cq  # noqa: E402


def batches(x_u8, y, bs, gen=None, flip=False):
    n = x_u8.shape[0]
    order = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)
    for i in range(0, n, bs):
        idx = order[i:i + bs]
        xb = x_u8[idx].unsqueeze(1).float() / 255.0          # p/255 exactly
        if flip:
            f = torch.rand(len(idx), generator=gen) < 0.5
            xb[f] = xb[f].flip(-1)
        yield xb, y[idx]


@torch.no_grad()
def accuracy(model, x_u8, y, bs=500):
    model.eval()
    correct = 0
    for xb, yb in batches(x_u8, y, bs):
        correct += int((model(xb).argmax(1) == yb).sum())
    return correct / x_u8.shape[0]


def seeded_data(args):
    """The set-up both trainers share: threads and seeds (args.threads, args.seed), deterministic algorithms, and
    Fashion-MNIST from args.data (the first args.train_limit training images when set). Returns the uint8 arrays,
    the same as tensors, and the seeded generator of the data order and flips."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    xtr, ytr = cq.load_fmnist("train", args.data)
    xte, yte = cq.load_fmnist("t10k", args.data)
    if args.train_limit:
        xtr, ytr = xtr[:args.train_limit], ytr[:args.train_limit]
    Xtr, Ytr = torch.from_numpy(xtr.copy()), torch.from_numpy(ytr)
    Xte, Yte = torch.from_numpy(xte.copy()), torch.from_numpy(yte)
    gen = torch.Generator().manual_seed(args.seed)
    return xtr, ytr, xte, yte, Xtr, Ytr, Xte, Yte, gen


def run_epochs(model, params, x, y, epochs, lr, gen, bs, tag, xt, yt, log, flip):
    opt = torch.optim.Adam(params, lr=lr)
    steps = epochs * ((x.shape[0] + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15 if tag == "float" else 0.05,
                                                anneal_strategy="cos") if steps > 0 else None
    for ep in range(epochs):
        model.train()
        t0 = time.time()
        tot, n = 0.0, 0
        for xb, yb in batches(x, y, bs, gen, flip):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(yb)
            n += len(yb)
        dt = time.time() - t0
        acc = accuracy(model, xt, yt)
        msg = f"[{tag}] epoch {ep + 1}/{epochs}: loss {tot / n:.4f}  test acc {100 * acc:.2f} %  epoch time {dt:.1f} s"
        print(msg, flush=True)
        log.append(dict(phase=tag, epoch=ep + 1, loss=tot / n, acc=acc, time=dt))
    return log


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=4, help="float (BN) warm-up epochs")
    ap.add_argument("--qat-epochs", type=int, default=1, help="QAT fine-tuning epochs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    ap.add_argument("--name", default="fmnist_vgg8s")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--qat-lr", type=float, default=2e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (debug)")
    ap.add_argument("--data", default=cq.FMNIST_DIR)
    args = ap.parse_args(argv)

    xtr, ytr, xte, yte, Xtr, Ytr, Xte, Yte, gen = seeded_data(args)
    t_start = time.time()
    log = []

    # ---- phase 1: float with BN
    fmodel = cq.build_vgg8s(bn=True)
    run_epochs(fmodel, fmodel.parameters(), Xtr, Ytr, args.epochs, args.lr, gen, args.batch, "float", Xte, Yte, log, True)
    float_acc = accuracy(fmodel, Xte, Yte)

    # ---- phase 2: fold BN, calibrate activation scales, QAT
    qmodel = cq.build_vgg8s(bn=False)
    cq.fold_bn_into(fmodel.eval(), qmodel)
    folded_acc = accuracy(qmodel, Xte, Yte)
    calib_gen = torch.Generator().manual_seed(args.seed + 1)
    cal = [xb for i, (xb, _) in zip(range(8), batches(Xtr, Ytr, 256, calib_gen))]
    qmodel.calibrate(cal)
    qmodel.set_quant(True)
    ptq_acc = accuracy(qmodel, Xte, Yte)
    print(f"folded float acc {100 * folded_acc:.2f} %, fake-quant (PTQ, before QAT) acc {100 * ptq_acc:.2f} %", flush=True)
    run_epochs(qmodel, qmodel.parameters(), Xtr, Ytr, args.qat_epochs, args.qat_lr, gen, args.batch, "qat", Xte, Yte, log, True)
    train_time = time.time() - t_start

    # ---- freeze + integer evaluation
    qmodel.eval()
    qmodel.freeze()
    fq_acc = accuracy(qmodel, Xte, Yte)
    t0 = time.time()
    logits = cq.integer_forward(qmodel, xte)
    int_time = time.time() - t0
    pred = cq.argmax_first(logits)
    int_correct = int((pred == yte).sum())
    with torch.no_grad():
        fq_pred = np.concatenate([qmodel(xb).argmax(1).numpy() for xb, _ in batches(Xte, Yte, 500)])
    agree = float((fq_pred == pred).mean())
    print(f"fake-quant acc {100 * fq_acc:.2f} %, INTEGER acc {100 * int_correct / len(yte):.2f} % "
          f"({int_correct}/{len(yte)}), fake-quant/integer argmax agreement {100 * agree:.2f} %, "
          f"integer_forward {int_time:.1f} s", flush=True)

    # ---- export
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, f"{args.name}.onnx")
    meta = cq.export_onnx(qmodel, onnx_path)
    csv_path = os.path.join(args.out, f"{args.name}.predictions.csv")
    with open(csv_path, "w") as f:
        f.write("index,label,prediction\n")
        for i, (l, p) in enumerate(zip(yte, pred)):
            f.write(f"{i},{int(l)},{int(p)}\n")
    total_time = time.time() - t_start
    card = make_card(args, log, float_acc, folded_acc, ptq_acc, fq_acc, int_correct, len(yte), agree,
                     train_time, total_time, int_time, meta, onnx_path, argv)
    with open(os.path.join(args.out, f"{args.name}.md"), "w") as f:
        f.write(card)
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), {csv_path}, model card; "
          f"training {train_time:.1f} s, total {total_time:.1f} s", flush=True)


def make_card(args, log, float_acc, folded_acc, ptq_acc, fq_acc, int_correct, n_test, agree,
              train_time, total_time, int_time, meta, onnx_path, argv):
    cmd_args = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    rows = "\n".join(f"| {r['phase']} | {r['epoch']} | {r['loss']:.4f} | {100 * r['acc']:.2f} % | {r['time']:.1f} s |"
                     for r in log)
    layers = "\n".join(f"| `{k}` | {json.dumps(v['weight_scale'])} | {json.dumps(v['out_scale'])} |" for k, v in meta["layers"].items())
    return f"""# fmnist_vgg8s: 8-bit QAT width-reduced VGG-8 on Fashion-MNIST

Produced by `traces/pytorch/train.py`. All the numbers below were written by that run.

## Reproduce

```
OMP_WAIT_POLICY=passive /usr/bin/python3 traces/pytorch/train.py {cmd_args}
```

Deterministic: `torch.manual_seed({args.seed})`, a seeded `torch.Generator` for the data order and flips,
and `torch.use_deterministic_algorithms(True)`. torch {torch.__version__}, numpy {np.__version__},
Python {platform.python_version()}, {args.threads} thread(s), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}.

## Data

Fashion-MNIST from `{args.data}`: {'first ' + str(args.train_limit) + ' of the ' if args.train_limit else ''}60000 training images (no validation split held out),
10000 test images (`t10k`). Input = pixel byte / 255 (no mean/std normalisation), so the integer input is the byte itself.
Augmentation: random horizontal flip (p = 0.5) during training only.

## Architecture

Same layer shapes as `configs/networks/vgg8_fmnist_small.yaml`:
conv32-conv32-maxpool-conv64-conv64-maxpool-conv128-conv128-maxpool-flatten-fc256-fc10, 3x3 convs with
padding 1 and stride 1, ReLU after every conv and after fc256, 2x2/2 max pooling, biases on all layers.
Exported graph: Conv, Relu, MaxPool, Flatten, Gemm only (opset 13, input `input` with a dynamic batch, output `logits`).

## Training

* Phase 1 (float): {args.epochs} epoch(s), Conv-BN-ReLU, Adam, one-cycle LR (max {args.lr}), batch {args.batch}.
* BN folded into the conv weights/biases (float64), activation scales calibrated on 8 x 256 training images.
* Phase 2 (QAT): {args.qat_epochs} epoch(s), Adam, one-cycle LR (max {args.qat_lr}), batch {args.batch}; fake-quantised weights
  and biases and activation quantisers with straight-through gradients; s_out = EMA (momentum 0.9) of
  max|pre-activation| / 255.

| phase | epoch | train loss | test acc (float / fake-quant) | epoch time |
|---|---|---|---|---|
{rows}

Training wall time (phase 1 + 2, data loading included): **{train_time:.1f} s** ({train_time / 60:.1f} min) on {args.threads} thread(s);
whole run including integer evaluation and export: {total_time:.1f} s. integer_forward on 10000 images: {int_time:.1f} s.

## Results (10000 test images)

| model | test accuracy |
|---|---|
| float (BN, end of phase 1) | {100 * float_acc:.2f} % |
| float, BN folded | {100 * folded_acc:.2f} % |
| fake-quant after calibration, before QAT (PTQ) | {100 * ptq_acc:.2f} % |
| fake-quant after QAT (frozen scales) | {100 * fq_acc:.2f} % |
| **integer (`integer_forward`)** | **{100 * int_correct / n_test:.2f} %** |

Integer test accuracy: {int_correct}/{n_test}
Fake-quant vs integer argmax agreement: {100 * agree:.2f} %

`fmnist_vgg8s.predictions.csv` holds `index,label,prediction` of `integer_forward` for all {n_test} test images
(the reference for cimtlm's >= 99.9 % agreement test).

## Quantisation scheme (format {meta['format']})

8-bit weights, 8-bit inputs: A = 255, M = 127, llround = round half away from zero, all scale arithmetic in float64.
* x_int = pixel byte, input_scale = 1/255.
* per-tensor symmetric weights: s_w = max|w| / 127, w_int = clamp(llround(w / s_w), -127, 127);
  bias_int = llround(b / (s_w * s_in)) added to the int64 accumulator.
* every weight layer but the last: y_int = clamp(llround(acc * m), -255, 255), m = (s_w * s_in) / s_out.
  The last layer (fc 10) outputs acc (the logits); prediction = argmax, first index on ties.
* ReLU = clamp(y, 0, 255), max pooling = max, NCHW flatten; scales pass through unchanged.

The ONNX initializers are the dequantised values (w_int * s_w and bias_int * s_w * s_in, as float32) and
`metadata_props["cimtlm.quant"]` holds the scales:

| initializer | weight_scale | out_scale |
|---|---|---|
{layers}

File size: {os.path.getsize(onnx_path)} bytes.
"""


if __name__ == "__main__":
    main()
