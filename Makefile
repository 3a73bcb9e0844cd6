# fitedge quick start: `make demo` (the main job) and `make test` (the whole suite).
# Both create or reuse .venv at the repo root and install exactly the versions in requirements-dev.lock
# (requirements.lock, the runtime, plus the dev tools), then fitedge itself. `make lock` regenerates the locks.

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.fitedge-installed
# Debian packages: espeak-ng/sox make speech, adb talks to phones, junit4/gson test the Android core,
# qemu-user emulates an AVX2-only CPU for the int8 portability test; maven, aapt and android-framework-res
# let the Android app compile against real API jars (android_demo/compile-check); zipalign and apksigner finish
# its APK (android_demo/apk, `make apk`).
APT_PACKAGES := openjdk-17-jdk-headless espeak-ng sox libsndfile1 adb junit4 libgoogle-gson-java asterisk-core-sounds-en-wav asterisk-core-sounds-en qemu-user maven aapt android-framework-res unzip zipalign apksigner

# The lock tool, in a throwaway venv of its own (never in .venv): uv, pinned.
LOCKTOOL := build/locktool
UV_VERSION := 0.13.9
# Linux x86-64 with Python 3.11 is what the project's machines and CI run; the locks are resolved for it.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock"

.PHONY: setup system demo test lint clean lock apk

setup: $(STAMP)

# PyPI's Linux torch is the CUDA build: the venv takes about 6.5 GiB, and pip needs room to unpack beside it.
# Checked first, so that a full disk is one clear line instead of an OSError halfway through the install.
SETUP_DISK_GIB := 9

$(STAMP): requirements.lock requirements-dev.lock setup.cfg pyproject.toml
	@free=$$(df -Pk . | awk 'NR == 2 { print int($$4 / 1048576) }'); \
	if [ "$$free" -lt $(SETUP_DISK_GIB) ]; then \
	  echo "make setup: $$free GiB free on this disk; the pinned wheels need about $(SETUP_DISK_GIB) GiB" >&2; exit 1; \
	fi
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# requirements.in -> requirements.lock (the runtime, = fitedge[all]) and requirements-dev.in ->
# requirements-dev.lock (the runtime lock's versions plus pytest, ruff, transformers), with hashes. An
# existing lock's versions are kept unless an .in file asks otherwise; `UPGRADE=--upgrade` moves the rest.
lock:
	test -x $(LOCKTOOL)/bin/uv || { python3 -m venv $(LOCKTOOL) && $(LOCKTOOL)/bin/pip install -q uv==$(UV_VERSION); }
	$(LOCKTOOL)/bin/uv pip compile -q requirements.in -o requirements.lock $(LOCK_FLAGS) $(UPGRADE)
	$(LOCKTOOL)/bin/uv pip compile -q requirements-dev.in -o requirements-dev.lock $(LOCK_FLAGS) $(UPGRADE)

system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The main job on the built-in default: FitHuBERT's size against its teacher, then the fithubert preset
# exported to all six artifacts (.pte/.tflite/.onnx x fp32/int8), verified, with the bundle's table.
demo: setup system
	$(VENV)/bin/fitedge info fithubert hubert-base
	$(VENV)/bin/fitedge export fithubert --out build/fithubert_bundle --force

# The suite runs in TEST_WORKERS processes (pytest-xdist), one test file at a time each, so that a file's
# module fixtures (a tiny exported bundle, a built Java core) are made once. `make test TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= 2

test: setup system
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The demo app as a debug-signed APK with LiteRT (no Gradle or SDK): android_demo/apk/build/fitedge-demo-debug.apk.
# Export a bundle into it first (android_demo/README.md: fitedge export ... --android android_demo/app/src/main/assets/bundle).
apk: system
	android_demo/apk/build_apk.sh

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info

# The end-to-end recipe (over 2 hours on 2 cores): corpus, teacher, four students, their artifacts, PER tables.
.PHONY: recipe
recipe: setup system
	$(PY) -m fitedge.bench.endtoend.pipeline runs/recipe
