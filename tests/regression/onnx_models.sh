#!/usr/bin/env bash
# The shipped trained model and a float model exported by plain torch.onnx.export, through cimtlm with ideal
# hardware (lossless 12-bit ADC, fixed full scale, no device effects):
#  1. traces/models/fmnist_vgg8s.onnx (8-bit QAT, scales in its cimtlm.quant metadata) on the first IMAGES images of
#     the Fashion-MNIST test set (third argument; default 2000, 0 = all 10000, which `make agreement` runs): the
#     integer path is exact, so cimtlm's predictions must equal the quantised PyTorch model's
#     (traces/models/fmnist_vgg8s.predictions.csv) on every image. Skipped, with the reason printed, without
#     Debian's dataset-fashion-mnist (`make test` installs it).
#  2. traces/models/resnet_float.onnx (float ResNet-style model with BatchNorm, residual adds, global average
#     pooling; no metadata; made by traces/pytorch/make_float_resnet.py, 8 epochs): quantised on import (8-bit
#     weights with one scale per output channel, the quant.weight_granularity default; activation scales max-calibrated
#     on 8 images). Top-1 must agree with PyTorch's float predictions on >= 99 % of its 1000 images (the issue's
#     target). Measured: 997 of 1000 (per-tensor weight scales give 987, below the target; 993-997 with 8-64
#     calibration images); on all 10000 test images 9920 (99.2 %) against 9853 per tensor (docs/onnx.md section 4).
#  3. A truncated ONNX file gives one clear error line and exit code 2.
set -euo pipefail
cimtlm=$1; src=$2; images=${3:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ideal=(--set subarray.adc_bits=12 --set adc.reference=full_scale --set adc.transfer=linear --set quant.encoding=offset)
agree() {  # agree CIMTLM_CSV REFERENCE_CSV -> prints "agree total"
  /usr/bin/python3 - "$1" "$2" <<'PY'
import csv, sys
a = {int(r["index"]): int(r["prediction"]) for r in csv.DictReader(open(sys.argv[1]))}
b = {int(r["index"]): int(r["prediction"]) for r in csv.DictReader(open(sys.argv[2]))}
print(sum(a[i] == b[i] for i in a), len(a))
PY
}
cfg="$src/configs/experiments/default.yaml"
if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  "$cimtlm" accuracy "$cfg" --limit "$images" --threads 2 "${ideal[@]}" --out "$tmp/q" -q --predictions "$tmp/q.csv" > "$tmp/q.txt"
  read -r same total < <(agree "$tmp/q.csv" "$src/traces/models/fmnist_vgg8s.predictions.csv")
  echo "shipped model: cimtlm agrees with the quantised PyTorch model on $same of $total test images"
  want=$images; [ "$want" -eq 0 ] && want=10000
  [ "$total" -eq "$want" ] && [ "$same" -eq "$total" ]
  grep "accuracy" "$tmp/q.txt"
else
  echo "SKIPPED: the shipped model's agreement with PyTorch (dataset-fashion-mnist is not installed)"
fi
m="$src/traces/models"
"$cimtlm" accuracy "$cfg" --set network="$m/resnet_float.onnx" --dataset "npy:$m/resnet_float.images.npy,$m/resnet_float.labels.npy" \
  --set run.calibration_dataset=same --set run.calibration_images=8 --limit 0 --threads 2 "${ideal[@]}" \
  --out "$tmp/f" -q --predictions "$tmp/f.csv" > /dev/null
read -r same total < <(agree "$tmp/f.csv" "$m/resnet_float.predictions.csv")
echo "float ResNet (8-bit post-training quantisation): top-1 agrees with PyTorch float on $same of $total"
[ "$total" -eq 1000 ] && [ $((same * 100)) -ge $((total * 99)) ]
head -c 100000 "$m/fmnist_vgg8s.onnx" > "$tmp/cut.onnx"
if "$cimtlm" run "$cfg" --set network="$tmp/cut.onnx" --out "$tmp/o" -q 2> "$tmp/err"; then echo "truncated ONNX accepted"; exit 1; fi
[ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "cut.onnx" "$tmp/err"
cat "$tmp/err"
