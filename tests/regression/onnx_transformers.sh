#!/usr/bin/env bash
# Transformer encoders imported from ONNX, through cimtlm with ideal hardware (lossless 12-bit ADC, fixed full
# scale, no device effects), as onnx_models.sh does for the CNNs:
#  1. traces/models/fmnist_vit.onnx (8-bit QAT vision transformer, scales in its cimtlm.quant/2 metadata) on the
#     first IMAGES images of the Fashion-MNIST test set (third argument; default 2000, 0 = all 10000, which
#     `make agreement` runs): the integer path is exact, so cimtlm's predictions must equal the PyTorch integer
#     reference's (traces/models/fmnist_vit.predictions.csv) on every image. Skipped, with the reason printed,
#     without Debian's dataset-fashion-mnist.
#  2. traces/models/vit_float_ptq.onnx (float ViT exported by plain torch.onnx.export at opset 14: decomposed
#     LayerNorm, tanh GELU, fused qkv with Split/Squeeze, shape arithmetic; no metadata; traces/pytorch/
#     make_float_vit.py) quantised on import (8-bit, activation scales max-calibrated on 8 of its images): the
#     8-bit top-1 accuracy must be within 1 percentage point of PyTorch's float accuracy on its 1000 images; the
#     same for vit_float_ptq_erf.onnx (the same weights exported with the erf GELU).
#  3. An unsupported operator in a transformer gives one error line naming the file and the node.
set -euo pipefail
cimtlm=$1; src=$2; images=${3:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ideal=(--set subarray.adc_bits=12 --set adc.reference=full_scale --set adc.transfer=linear --set quant.encoding=offset)
agree() {  # agree CIMTLM_CSV REFERENCE_CSV -> prints "agree total correct_cimtlm correct_reference"
  /usr/bin/python3 - "$1" "$2" <<'PY'
import csv, sys
a = {int(r["index"]): (int(r["label"]), int(r["prediction"])) for r in csv.DictReader(open(sys.argv[1]))}
b = {int(r["index"]): (int(r["label"]), int(r["prediction"])) for r in csv.DictReader(open(sys.argv[2]))}
print(sum(a[i][1] == b[i][1] for i in a), len(a), sum(a[i][0] == a[i][1] for i in a), sum(b[i][0] == b[i][1] for i in a))
PY
}
cfg="$src/configs/experiments/default.yaml"
m="$src/traces/models"
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  "$cimtlm" accuracy "$cfg" --set network="$m/fmnist_vit.onnx" --limit "$images" --threads 2 "${ideal[@]}" \
    --out "$tmp/q" -q --predictions "$tmp/q.csv" > "$tmp/q.txt"
  read -r same total ok_c ok_r < <(agree "$tmp/q.csv" "$m/fmnist_vit.predictions.csv")
  echo "shipped ViT: cimtlm agrees with the PyTorch integer model on $same of $total test images" \
       "(accuracy: cimtlm $ok_c, PyTorch $ok_r of $total)"
  want=$images; [ "$want" -eq 0 ] && want=10000
  if [ "$total" -ne "$want" ] || [ "$same" -ne "$total" ]; then echo "FAIL: expected $want of $want"; exit 1; fi
else
  echo "SKIPPED: the shipped ViT's agreement with PyTorch (dataset-fashion-mnist is not installed)"
fi
for variant in vit_float_ptq vit_float_ptq_erf; do  # tanh GELU; the same weights with the erf GELU
  "$cimtlm" accuracy "$cfg" --set network="$m/$variant.onnx" \
    --dataset "npy:$m/vit_float_ptq.images.npy,$m/vit_float_ptq.labels.npy" \
    --set run.calibration_dataset=same --set run.calibration_images=8 --limit 0 --threads 2 "${ideal[@]}" \
    --out "$tmp/f" -q --predictions "$tmp/f.csv" > /dev/null
  read -r same total ok_c ok_r < <(agree "$tmp/f.csv" "$m/$variant.predictions.csv")
  echo "float ViT $variant (8-bit post-training quantisation): accuracy $ok_c of $total against PyTorch float" \
       "$ok_r; top-1 agreement $same of $total"
  if [ "$total" -ne 1000 ] || [ $(( (ok_c - ok_r) * 100 )) -lt $(( -total )) ] || [ $(( (ok_c - ok_r) * 100 )) -gt "$total" ]; then
    echo "FAIL: $variant: the 8-bit accuracy is not within 1 percentage point of the float accuracy"; exit 1
  fi
done
# 3. An operator the importer does not know, inside the shipped ViT: one error line naming the file and the node,
#    exit code 2.
/usr/bin/python3 - "$m/fmnist_vit.onnx" "$tmp/hardmax.onnx" <<'PY'
import sys, onnx
mo = onnx.load(sys.argv[1])
node = next(n for n in mo.graph.node if n.op_type == "Softmax")
node.op_type = "Hardmax"
onnx.save(mo, sys.argv[2])
PY
set +e
"$cimtlm" run "$cfg" --set network="$tmp/hardmax.onnx" --out "$tmp/o" -q 2> "$tmp/err"
rc=$?
set -e
cat "$tmp/err"
if [ "$rc" -ne 2 ] || [ "$(wc -l < "$tmp/err")" -ne 1 ] || ! grep -q "hardmax.onnx" "$tmp/err" ||
   ! grep -q "nodes./blocks/blocks.0/attn/softmax/Softmax" "$tmp/err" || ! grep -q "unsupported operator 'Hardmax'" "$tmp/err"; then
  echo "FAIL: expected one error line naming the file and the node, exit code 2 (got $rc)"; exit 1
fi
