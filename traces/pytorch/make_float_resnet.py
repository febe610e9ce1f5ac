#!/usr/bin/python3
"""A small float ResNet-style model for 28x28x1 (for the C++ side's post-training-quantisation test).

stem: Conv3x3(1->16)+BN+ReLU; block1: basic block 16->16 (identity shortcut, residual Add);
block2: basic block 16->32, stride 2, shortcut = Conv1x1 stride 2 + BN; GlobalAveragePool; Linear(32->10, bias).
Trained briefly (default: 8 epochs over the 60000 training images, Adam 3e-3, batch 64, seed 0; ~15 min on one core;
89.9 % on the first 1000 test images), exported with plain torch.onnx.export
(opset 13, input "input" = pixel/255 float32 (N,1,28,28), dynamic batch; no metadata). The model is exported in
eval mode with TrainingMode.PRESERVE so BatchNormalization nodes stay in the graph (EVAL mode would fold them).

Writes to --out-dir:
  resnet_float.onnx
  resnet_float.images.npy       uint8 (N,1,28,28): the first N Fashion-MNIST test images
  resnet_float.labels.npy       int64 (N,)
  resnet_float.predictions.csv  index,label,prediction of the float torch model on those images

  OMP_WAIT_POLICY=passive /usr/bin/python3 traces/pytorch/make_float_resnet.py --out-dir traces/models --n 1000
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cimtlm_quant import load_fmnist, FMNIST_DIR, materialise_shared_initializers  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        sc = x if self.downsample is None else self.downsample(x)
        return F.relu(y + sc)


class SmallResNet(nn.Module):
    def __init__(self, width=16, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.block1 = BasicBlock(width, width, 1)
        self.block2 = BasicBlock(width, 2 * width, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def export(model, path):
    import onnx
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    mo = onnx.load(path)
    # torch deduplicates equal initializers (block2.bn2.bias and block2.downsample.1.bias get identical gradients,
    # so they stay equal) and re-creates the second one with an Identity node. Materialise it as an initializer
    # so the graph has no Identity nodes.
    materialise_shared_initializers(mo)
    onnx.checker.check_model(mo)
    onnx.save(mo, path)
    ops = [n.op_type for n in mo.graph.node]
    assert "BatchNormalization" in ops and "Add" in ops and "Identity" not in ops, ops
    return ops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    ap.add_argument("--n", type=int, default=1000, help="number of test images to write")
    ap.add_argument("--train-images", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="resnet_float")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--data", default=FMNIST_DIR)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()

    xtr, ytr = load_fmnist("train", args.data)
    xte, yte = load_fmnist("t10k", args.data)
    X = torch.from_numpy(xtr[:args.train_images].copy()).unsqueeze(1).float() / 255.0
    Y = torch.from_numpy(ytr[:args.train_images])
    model = SmallResNet()
    opt = torch.optim.Adam(model.parameters(), args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    for ep in range(args.epochs):
        model.train()
        order = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), 64):
            idx = order[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), Y[idx]).backward()
            opt.step()
    model.eval()

    n = min(args.n, len(xte))
    imgs = np.ascontiguousarray(xte[:n][:, None]).astype(np.uint8)
    labels = yte[:n].astype(np.int64)
    with torch.no_grad():
        pred = np.concatenate([model(torch.from_numpy(imgs[i:i + 500]).float() / 255.0).argmax(1).numpy()
                               for i in range(0, n, 500)])
    os.makedirs(args.out_dir, exist_ok=True)
    base = os.path.join(args.out_dir, args.name)
    ops = export(model, base + ".onnx")
    np.save(base + ".images.npy", imgs)
    np.save(base + ".labels.npy", labels)
    with open(base + ".predictions.csv", "w") as f:
        f.write("index,label,prediction\n")
        for i, (l, p) in enumerate(zip(labels, pred)):
            f.write(f"{i},{int(l)},{int(p)}\n")
    print(f"float accuracy on {n} test images: {100 * float((pred == labels).mean()):.2f} %; "
          f"ops: {sorted(set(ops))}; wrote {base}.onnx/.images.npy/.labels.npy/.predictions.csv "
          f"({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
