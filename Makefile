# Two entry points: `make demo` and `make test`. Both create .venv with the
# pinned stack on first use; later runs skip every install step (stamp files).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
# The torch pins: requirements/torch.txt (pinned stack, Python 3.11) or
# requirements/latest.txt (newest torch, Python 3.12: `make test-latest`).
TORCH_REQS ?= requirements/torch.txt
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PIP_INSTALL := $(PIP) install --disable-pip-version-check
STACK := $(VENV)/.stack-installed
STAMP := $(VENV)/.escnet-installed
PYTEST_ARGS ?=

.PHONY: venv browser test test-fast test-latest demo benchmark wheelhouse gpu-check-cpu clean-venv

venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# One pip call: torch, mmcv-lite (a pure wheel, nothing is compiled) and the
# rest; `-c torch.txt` keeps torch/numpy pinned.
$(STACK): $(PY) requirements/build.txt $(TORCH_REQS) requirements/mmcv.txt requirements/runtime.txt requirements/tests.txt requirements/webui.txt
	$(PIP_INSTALL) -r requirements/build.txt
	$(PIP_INSTALL) -r $(TORCH_REQS) -r requirements/mmcv.txt \
		-c $(TORCH_REQS) -r requirements/runtime.txt -r requirements/tests.txt
	touch $@

$(STAMP): $(STACK) setup.py escnet_mmseg-mmcv-ext.pth
	$(PIP_INSTALL) --no-build-isolation --no-deps -e .
	$(PY) -c "import escnet_mmseg; from mmseg.registry import MODELS"
	touch $@

# Chromium and its driver for the browser test of tools/webui.py, from
# Debian's packages when they are missing and make runs as root; if that
# fails the test is skipped with the reason. BROWSER=skip leaves the system
# alone.
BROWSER ?= auto
browser:
	@if [ "$(BROWSER)" = skip ] || { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium chromium-driver (for the browser test)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	    || echo "could not install chromium: the browser test will be skipped"; \
	else \
	  echo "no chromium/chromedriver (apt-get install chromium chromium-driver): the browser test will be skipped"; \
	fi

test: venv browser
	$(PY) -m pytest tests $(PYTEST_ARGS)

# Everything but the end-to-end runs marked `slow`.
test-fast: venv
	$(PY) -m pytest tests -m "not slow" $(PYTEST_ARGS)

demo: venv
	$(PY) tools/demo.py

# The second stack: the newest torch on Python 3.12 (requirements/latest.txt)
# in its own venv; the same suite. LATEST_PYTEST_ARGS limits it (.ci/run).
PYTHON_LATEST ?= $(shell for p in python3.12 $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12; do \
	"$$p" -c '' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
LATEST_PYTEST_ARGS ?=
test-latest:
	@test -n "$(PYTHON_LATEST)" || { echo "test-latest needs python3.12 (PYTHON_LATEST=...)"; exit 1; }
	$(MAKE) --no-print-directory test VENV=.venv-latest PYTHON=$(PYTHON_LATEST) \
		TORCH_REQS=requirements/latest.txt PYTEST_ARGS='$(LATEST_PYTEST_ARGS)'

# Wheels for tools/gpu_check.sh on a GPU machine without MMSeg and without
# network (Python 3.12, x86-64): the pure-Python ones of
# requirements/gpu_check.txt (6 MiB) and scipy, which MMSeg's transforms
# import (35 MiB, the one compiled wheel).
WHEELHOUSE ?= .wheelhouse
WHEELHOUSE_SCIPY ?= scipy==1.18.1
wheelhouse:
	mkdir -p $(WHEELHOUSE)
	$(PYTHON) -m pip download --disable-pip-version-check --no-deps \
		--only-binary=:all: --python-version 3.12 --implementation py \
		--abi none --platform any -d $(WHEELHOUSE) -r requirements/gpu_check.txt
	$(PYTHON) -m pip download --disable-pip-version-check --no-deps \
		--only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 \
		-d $(WHEELHOUSE) $(WHEELHOUSE_SCIPY)
	du -sh $(WHEELHOUSE)

# The GPU check's CPU part where the lent GPU machine's packages are the
# only ones (a bare Python 3.12 venv; torch from requirements/latest.txt):
# the wheelhouse installs with --no-index and the check runs. Not in CI.
BARE_VENV ?= .venv-bare312
BARE_PACKAGES := triton numpy opencv-python-headless timm regex safetensors \
	huggingface-hub matplotlib pytest
gpu-check-cpu: wheelhouse
	@test -n "$(PYTHON_LATEST)" || { echo "gpu-check-cpu needs python3.12"; exit 1; }
	test -x $(BARE_VENV)/bin/python || $(PYTHON_LATEST) -m venv $(BARE_VENV)
	$(BARE_VENV)/bin/python -m pip install --disable-pip-version-check \
		$$(grep -E '^torch(vision)?==' requirements/latest.txt) $(BARE_PACKAGES)
	PYTHON=$(BARE_VENV)/bin/python bash tools/gpu_check.sh --device cpu --small

# Parameters, GFLOPs and the SAM blocks' CPU time (a few minutes; random
# weights, nothing downloaded). docs/efficiency.md lists all the modes.
BENCH := $(PY) tools/analysis_tools/benchmark.py
benchmark: venv
	$(BENCH) params configs/escnet/escnet_vitl14_coco-stuff.py
	$(BENCH) flops configs/escnet/escnet_vitl14_coco-stuff.py --classes 150 --image-size 0 0
	$(BENCH) compare configs/escnet/ablations/escnet_vitb16_coco-stuff_no-sam.py \
		configs/escnet/escnet_vitb16_coco-stuff.py --classes 150 --repeats 3 \
		--cfg-options model.test_cfg.class_chunk_size=32

clean-venv:
	rm -rf $(VENV)
