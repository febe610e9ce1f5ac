#!/usr/bin/python3
"""Writes a transformer encoder as a cimtlm network file (YAML; synthetic weights at run time).

  make_transformer_network.py vit  --image 224 --channels 3 --patch 16 --dim 768 --heads 12 --depth 12 --mlp 3072 \\
                                   --classes 1000 --name vit_b16_imagenet > configs/networks/vit_b16_imagenet.yaml
  make_transformer_network.py bert --tokens 128 --dim 768 --heads 12 --depth 12 --mlp 3072 --classes 2 \\
                                   --name bert_base > configs/networks/bert_base.yaml

ViT (Dosovitskiy et al., ICLR 2021): patch embedding (a convolution with kernel = stride = patch), class token,
positional embedding, pre-LN encoder blocks (LN, multi-head self-attention, residual; LN, MLP with GELU, residual),
final LN, the class token's features into a linear head.
BERT (Devlin et al., NAACL 2019): the input is the embedded sequence (token + position + segment embeddings, a table
lookup outside the crossbars), embedding LN, post-LN encoder blocks (attention, residual, LN; MLP with GELU,
residual, LN), the first token's features into a pooler linear and a classifier linear.
Attention per block: Q, K, V linear (D -> D each), heads split by reshape + transpose, scores = Q K^T / sqrt(d)
(a matmul with scale), softmax, context = A V, heads joined, output projection.
"""
import argparse
import math
import sys


def block(out, i, tokens, dim, heads, mlp, x, pre_ln):
    d = dim // heads
    p = f"b{i}_"
    lines = []

    def add(s):
        lines.append("  - " + s)

    a_in = x
    if pre_ln:
        add(f"{{name: {p}ln1, type: layernorm, inputs: [{x}]}}")
        a_in = f"{p}ln1"
    for n in "qkv":
        add(f"{{name: {p}{n}, type: linear, out_features: {dim}, inputs: [{a_in}]}}")
        add(f"{{name: {p}{n}_heads, type: reshape, shape: [{tokens}, {heads}, {d}]}}")
        perm = "[1, 2, 0]" if n == "k" else "[1, 0, 2]"  # K transposed for Q K^T
        add(f"{{name: {p}{n}_t, type: transpose, perm: {perm}}}")
    add(f"{{name: {p}scores, type: matmul, inputs: [{p}q_t, {p}k_t], scale: {1.0 / math.sqrt(d)!r}}}")
    add(f"{{name: {p}attn, type: softmax}}")
    add(f"{{name: {p}context, type: matmul, inputs: [{p}attn, {p}v_t]}}")
    add(f"{{name: {p}context_t, type: transpose, perm: [1, 0, 2]}}")
    add(f"{{name: {p}context_join, type: reshape, shape: [{tokens}, {dim}]}}")
    add(f"{{name: {p}proj, type: linear, out_features: {dim}}}")
    add(f"{{name: {p}res1, type: add, inputs: [{p}proj, {x}]}}")
    m_in = f"{p}res1"
    if pre_ln:
        add(f"{{name: {p}ln2, type: layernorm}}")
        m_in = f"{p}ln2"
    else:
        add(f"{{name: {p}ln1, type: layernorm}}")
        m_in = f"{p}ln1"
    add(f"{{name: {p}fc1, type: linear, out_features: {mlp}, inputs: [{m_in}]}}")
    add(f"{{name: {p}gelu, type: gelu}}")
    add(f"{{name: {p}fc2, type: linear, out_features: {dim}}}")
    add(f"{{name: {p}res2, type: add, inputs: [{p}fc2, {m_in if not pre_ln else p + 'res1'}]}}")
    last = f"{p}res2"
    if not pre_ln:
        add(f"{{name: {p}ln2, type: layernorm}}")
        last = f"{p}ln2"
    out.extend(lines)
    return last


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["vit", "bert"])
    ap.add_argument("--name", required=True)
    ap.add_argument("--image", type=int, default=224)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--mlp", type=int, default=3072)
    ap.add_argument("--classes", type=int, default=1000)
    a = ap.parse_args()
    if a.dim % a.heads:
        sys.exit("--dim must be a multiple of --heads")
    out = []
    if a.kind == "vit":
        if a.image % a.patch:
            sys.exit("--image must be a multiple of --patch")
        g = a.image // a.patch
        tokens = g * g + 1
        src = ("Vision transformer (Dosovitskiy et al., ICLR 2021), written by scripts/make_transformer_network.py "
               f"vit --image {a.image} --channels {a.channels} --patch {a.patch} --dim {a.dim} --heads {a.heads} "
               f"--depth {a.depth} --mlp {a.mlp} --classes {a.classes}")
        print(f"name: {a.name}\nsource: \"{src}\"\ninput: {{channels: {a.channels}, height: {a.image}, width: {a.image}}}")
        out.append(f"  - {{name: patch_embed, type: conv2d, out_channels: {a.dim}, kernel: {a.patch}, stride: {a.patch}}}")
        out.append(f"  - {{name: patches, type: reshape, shape: [{a.dim}, {g * g}]}}")
        out.append("  - {name: tokens, type: transpose, perm: [1, 0]}")
        out.append(f"  - {{name: cls, type: concat, axis: 0, constant: [1, {a.dim}]}}")
        out.append(f"  - {{name: pos_embed, type: add, constant: [{tokens}, {a.dim}]}}")
        x = "pos_embed"
        for i in range(a.depth):
            x = block(out, i, tokens, a.dim, a.heads, a.mlp, x, pre_ln=True)
        out.append(f"  - {{name: ln_final, type: layernorm, inputs: [{x}]}}")
        out.append("  - {name: cls_token, type: slice, axis: 0, begin: 0, end: 1}")
        out.append(f"  - {{name: head, type: linear, out_features: {a.classes}}}")
    else:
        tokens = a.tokens
        src = ("BERT encoder (Devlin et al., NAACL 2019) on an embedded sequence, written by "
               f"scripts/make_transformer_network.py bert --tokens {a.tokens} --dim {a.dim} --heads {a.heads} "
               f"--depth {a.depth} --mlp {a.mlp} --classes {a.classes}")
        print(f"name: {a.name}\nsource: \"{src}\"\ninput: {{tokens: {tokens}, features: {a.dim}}}")
        out.append("  - {name: ln_embed, type: layernorm}")
        x = "ln_embed"
        for i in range(a.depth):
            x = block(out, i, tokens, a.dim, a.heads, a.mlp, x, pre_ln=False)
        out.append(f"  - {{name: first_token, type: slice, axis: 0, begin: 0, end: 1, inputs: [{x}]}}")
        out.append(f"  - {{name: pooler, type: linear, out_features: {a.dim}}}")
        out.append(f"  - {{name: classifier, type: linear, out_features: {a.classes}}}")
    print("layers:")
    print("\n".join(out))


if __name__ == "__main__":
    main()
