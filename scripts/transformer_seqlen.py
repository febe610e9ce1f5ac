#!/usr/bin/env python3
"""Sequence-length sweep of a BERT-base-wide encoder: the attention products' cost against the weight layers'.

For each sequence length and each attention option (digital MAC lanes, CIM subarrays written at run time), writes
the network with scripts/make_transformer_network.py (BERT-base width: D 768, 12 heads, MLP 3072; DEPTH blocks),
runs `cimtlm run` on one synthetic input
with a 64 MiB global buffer at every point (1024 tokens need ~26 MB of live scores and probabilities) and reads report.json's by_operator breakdown. Writes OUT.csv (one row per
point and operator kind: latency_s, dynamic_energy_j) and OUT.png (energy and latency per operator kind against
tokens, log-log, digital and CIM attention).

  scripts/transformer_seqlen.py build/cimtlm docs/results/transformers/seqlen --tokens 64 128 256 512 1024
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KINDS = ["weight_matmul", "attention", "softmax", "layernorm", "gelu", "data_movement", "other"]


def run_point(cimtlm, tmp, tokens, depth, impl):
    net = os.path.join(tmp, f"bert_t{tokens}.yaml")
    if not os.path.exists(net):
        text = subprocess.run([sys.executable, os.path.join(HERE, "make_transformer_network.py"), "bert",
                               "--tokens", str(tokens), "--dim", "768", "--heads", "12", "--depth", str(depth),
                               "--mlp", "3072", "--classes", "2", "--name", f"bert_t{tokens}"],
                              check=True, capture_output=True, text=True).stdout
        with open(net, "w") as f:
            f.write(text)
    out = os.path.join(tmp, f"t{tokens}_{impl}")
    subprocess.run([cimtlm, "run", os.path.join(ROOT, "configs/experiments/vgg8_cifar10.yaml"), "--set",
                    f"network={net}", "--set", "run.dataset=synthetic", "--set", f"chip.attention.impl={impl}",
                    "--set", "chip.global_buffer.size=64 MiB",
                    "--out", out, "-q"], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "report.json")) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cimtlm")
    ap.add_argument("out", help="output path without extension (OUT.csv, OUT.png)")
    ap.add_argument("--tokens", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    ap.add_argument("--depth", type=int, default=2, help="encoder blocks (cost per block is what scales)")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for impl in ["digital", "cim"]:
            for t in a.tokens:
                r = run_point(a.cimtlm, tmp, t, a.depth, impl)
                bo = r["by_operator"]
                for k in KINDS:
                    rows.append({"attention_impl": impl, "tokens": t, "operator": k,
                                 "latency_s": bo["latency_s"][k], "dynamic_energy_j": bo["dynamic_energy_j"][k],
                                 "area_m2": bo["area_m2"][k]})
                print(f"{impl:8s} T={t:5d}  weight {bo['dynamic_energy_j']['weight_matmul']*1e6:10.2f} uJ  "
                      f"attention {bo['dynamic_energy_j']['attention']*1e6:10.2f} uJ  "
                      f"latency {r['summary']['latency_s']*1e3:9.3f} ms", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp_csv = a.out + ".csv.tmp"
    with open(tmp_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp_csv, a.out + ".csv")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, label in [(axes[0], "dynamic_energy_j", "dynamic energy per inference (J)"),
                           (axes[1], "latency_s", "latency per inference (s)")]:
        for impl, style in [("digital", "-"), ("cim", "--")]:
            for k, color in [("weight_matmul", "C0"), ("attention", "C3"), ("softmax", "C2"), ("layernorm", "C1")]:
                pts = sorted((r["tokens"], r[key]) for r in rows if r["attention_impl"] == impl and r["operator"] == k)
                if impl == "cim" and k != "attention":
                    continue  # the other operators do not depend on the attention option
                ax.loglog([p[0] for p in pts], [max(p[1], 1e-30) for p in pts], style, color=color, marker="o",
                          label=f"{k}" + (f" ({impl})" if k == "attention" else ""))
        ts = sorted(set(a.tokens))
        ax.set_xlabel("tokens")
        ax.set_ylabel(label)
        ax.set_xticks(ts)
        ax.set_xticklabels([str(t) for t in ts])
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"BERT-base width, {a.depth} encoder blocks, one sequence: cost by operator kind")
    fig.tight_layout()
    tmp_png = a.out + ".tmp.png"
    fig.savefig(tmp_png, dpi=110)
    os.replace(tmp_png, a.out + ".png")
    print(f"wrote {a.out}.csv and {a.out}.png")


if __name__ == "__main__":
    main()
