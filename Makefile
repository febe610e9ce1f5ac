# cimtlm top-level driver. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := build

export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE := 1

CONFIG ?= configs/experiments/default.yaml
OUT    ?= out
JOBS   ?= 2
# The Python that the extension cimtlm._core is built for and the pytest suite runs with (Debian's, which has
# numpy, pandas and torch).
PYTHON ?= /usr/bin/python3
VENV   ?= .venv

BUILD_DIR := build
ASAN_DIR  := build-asan
TSAN_DIR  := build-tsan
FUZZ_DIR  := build-fuzz

DEB_PACKAGES := build-essential cmake ninja-build pkg-config libsystemc-dev libeigen3-dev \
                libyaml-cpp-dev libgtest-dev nlohmann-json3-dev libcli11-dev libfmt-dev \
                libbenchmark-dev zlib1g-dev verilator gtkwave dataset-fashion-mnist \
                libonnx-dev libprotobuf-dev protobuf-compiler \
                python3-torch python3-onnx python3-numpy python3-matplotlib python3-pytest python3-yaml libopenblas0-pthread \
                slurm-wlm munge python3-optuna \
                pybind11-dev python3-pybind11 python3-dev python3-pandas

FUZZ_TIME ?= 60

.PHONY: help deps build python run test agreement bench docs fuzz clean

help:
	@echo "targets: deps build python run test agreement bench docs fuzz clean"
	@echo "  make run CONFIG=configs/experiments/default.yaml OUT=out"

deps:
	@scripts/install-deps.sh $(DEB_PACKAGES)

build: deps
	@if [[ ! -f $(BUILD_DIR)/build.ninja ]]; then \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=$(PYTHON); \
	fi
	cmake --build $(BUILD_DIR) -j$(JOBS)

# `import cimtlm` (docs/python.md): a virtual environment $(VENV) that sees Debian's numpy, pandas and torch
# (--system-site-packages), with the package installed from this tree (pip, no network, no build isolation).
python: build
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/pip install --no-index --no-build-isolation --no-deps -q ./$(BUILD_DIR)/python
	@echo "python: $(VENV)/bin/python -c 'import cimtlm'"

run: build
	./$(BUILD_DIR)/cimtlm run $(CONFIG) --out $(OUT)

# The sanitizer builds use -O1 -g1 (AddressSanitizer's recommended level, line tables only): about a third of the
# compile time of RelWithDebInfo's -O2 -g, with the same checks (README, Quick start).
SAN_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS) --timeout 300
	@if [[ ! -f $(ASAN_DIR)/build.ninja ]]; then \
	  cmake -S . -B $(ASAN_DIR) -G Ninja -DCIM_SANITIZE=ON -DCIM_UNIT_ONLY=ON $(SAN_FLAGS); \
	fi
	cmake --build $(ASAN_DIR) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_DIR) --output-on-failure -j$(JOBS) -L unit
	@if [[ ! -f $(TSAN_DIR)/build.ninja ]]; then \
	  cmake -S . -B $(TSAN_DIR) -G Ninja -DCIM_TSAN=ON $(SAN_FLAGS); \
	fi
	cmake --build $(TSAN_DIR) -j$(JOBS) --target tsan_engine
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --test-dir $(TSAN_DIR) --output-on-failure -j$(JOBS) -L tsan

# The shipped models (CNN and ViT) against PyTorch on the whole Fashion-MNIST test set (make test checks the first
# 2000 images).
agreement: build
	bash tests/regression/onnx_models.sh ./$(BUILD_DIR)/cimtlm . 0
	bash tests/regression/onnx_transformers.sh ./$(BUILD_DIR)/cimtlm . 0

bench: build
	@shopt -s nullglob; n=0; \
	for b in $(BUILD_DIR)/bench/bench_*; do \
	  [[ -f $$b && -x $$b ]] || continue; \
	  n=$$((n + 1)); \
	  echo "==== $$(basename $$b) ===="; \
	  "$$b"; \
	done; \
	if [[ $$n -eq 0 ]]; then echo "bench: no programs in $(BUILD_DIR)/bench/"; fi

docs: build
	@mkdir -p docs
	@tmp=$$(mktemp docs/.config-reference.md.XXXXXX); \
	trap 'rm -f "$$tmp"' EXIT; \
	./$(BUILD_DIR)/cimtlm params --markdown > "$$tmp"; \
	chmod 644 "$$tmp"; \
	mv "$$tmp" docs/config-reference.md; \
	echo "docs: wrote docs/config-reference.md"
	@/usr/bin/python3 scripts/statistics_doc.py ./$(BUILD_DIR)/cimtlm docs/statistics.md

# libFuzzer harnesses of every parser (tests/fuzz/README.md), built with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/, each run for FUZZ_TIME seconds; prints executions and findings.
fuzz:
	@scripts/install-deps.sh $(DEB_PACKAGES) clang-14 libclang-rt-14-dev
	@if [[ ! -f $(FUZZ_DIR)/build.ninja ]]; then \
	  CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_DIR) -G Ninja -DCIM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo; \
	fi
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target fuzz_all
	tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_TIME)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR) out
