# Two commands on a fresh Debian/Ubuntu machine:
#   make run   - set everything up, then open sensorlab on the built-in demo rig
#   make test  - set everything up, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# System libraries: PortAudio (sounddevice), PulseAudio (virtual microphone for tests),
# socat, HDF5 tools (h5clear), Xvfb + Qt's xcb libraries (screenshots), fonts.
APT_PACKAGES := libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils sox \
  socat hdf5-tools xvfb xauth x11-apps imagemagick \
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 libxcb-render-util0 \
  libxcb-shape0 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxkbcommon0 \
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core

# Seconds apt waits for another apt/dpkg (e.g. unattended-upgrades on a fresh machine) to
# release its lock before giving up.
APT_LOCK_WAIT ?= 600

.PHONY: run test test-headless test-tflite tflite-env firmware-test setup system-deps lint bench screenshots clean

run: setup
	$(BIN)/sensorlab

# Test processes (pytest-xdist workers). Most tests wait on devices paced in real time, child
# processes and timers rather than compute: on two workers the suite left a third or more of a
# 2-core machine's CPU time unused (a 745 s run offers 1,490 core-seconds; the suite needs at
# most ~960 s of CPU), so four workers finish it sooner, even on a 2-core machine (docs/TESTING.md,
# "CI's stages and what each costs"); tests/conftest.py keeps the tests that share a host-wide resource
# (LSL) or the firmware build on one worker, and hands out the slowest units first. The tests
# marked `timing` (millisecond timing of real-time streams) then run alone, in one process.
# JOBS=1 runs everything in one process.
JOBS ?= 4
ifeq ($(JOBS),1)
  PYTEST_JOBS :=
else
  PYTEST_JOBS := -n $(JOBS)
endif

# pip byte-compiles every module it installs (11,000 files in the main venv alone), most never
# imported (torch's install alone: 25 s of CPU with it, 10 s without); Python compiles what is
# imported, once, on first import. `make ... PIP_NO_COMPILE=` keeps pip's default.
PIP_NO_COMPILE ?= --no-compile

# Each test run prints what it cost when it ends: wall time, and CPU time of it and every process
# it waited for (bash's `time`), so a slow run shows whether it computed or waited.
SHELL := bash
export TIMEFORMAT := took %0R s wall, %0U+%0S s CPU (user+system)

test: setup firmware-test
	$(BIN)/lint-imports
	time QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q $(PYTEST_JOBS) -m "not timing"
	time QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -m timing || [ $$? = 5 ]  # 5: none selected

# The device library's C unit tests and host builds of the example sketches (docs/FIRMWARE.md).
CC ?= cc
firmware-test:
	@command -v $(CC) >/dev/null 2>&1 || { echo "firmware-test needs a C compiler, and '$(CC)' was not found: sudo apt-get install -y gcc g++ (or set CC=...)"; exit 1; }
	$(MAKE) -C firmware test host

# The core without any Qt binding installed. `make test` runs every test on the same code, and the
# import contracts prove that no core module imports Qt, so this pass proves only what differs
# without Qt: that the core installs and runs from a venv with no PySide6 at all (checked first).
# tests/test_headless_core.py imports every module outside sensorlab/app (none may load Qt; only a
# missing optional extra such as torch may stop one); tests/test_cli.py runs every command's
# --help and record, info, labels, devices and dataset info for real; then each entry point a
# headless user drives, once: rig example/check, the labels formats, the Studio recording with
# pre-roll and live labels, repair, a dataset build with its plots (matplotlib without Qt), WAV
# import, predict and a rig's model, the LSL inlet and outlet, XDF export and import. The rest of
# tests/studio, session, datasets, inference and lsl, which this pass used to run a second time
# (~10 min of CI), test behaviour that does not depend on whether Qt is installed.
HEADLESS_VENV := .venv-headless
# (103 tests: two workers; each further one costs its start-up for little to share)
HEADLESS_PYTEST_JOBS := $(if $(filter 1,$(JOBS)),,-n 2)
HEADLESS_TESTS := tests/test_headless_core.py tests/test_cli.py tests/test_cli_rig.py tests/labeling/test_cli_commands.py \
  tests/studio/test_studio.py::test_studio_records_the_pre_roll_and_live_labels_and_stops \
  tests/session/test_crash.py::test_repair_writes_one_copy_and_never_follows_or_overwrites_a_symlink \
  tests/datasets/test_cli_report.py::test_build_prints_progress_and_report_and_writes_plots \
  tests/datasets/test_interchange_import.py::test_cli_import_wav_reports_and_refuses_to_overwrite \
  tests/inference/test_predict_and_rig.py::test_rig_model_processor_resolves_its_path_beside_the_rig_and_runs \
  tests/inference/test_predict_and_rig.py::test_predict_writes_a_sidecar_and_suggested_segments_and_leaves_the_recording_alone \
  tests/lsl/test_lsl_bridge.py::test_an_lsl_stream_is_recorded_with_other_streams_on_the_host_clock \
  tests/lsl/test_lsl_bridge.py::test_record_publishes_a_stream_with_lsl_outlet \
  tests/lsl/test_xdf.py
test-headless: system-deps $(HEADLESS_VENV)/.installed
	$(HEADLESS_VENV)/bin/python -c "import importlib.util as u; assert not u.find_spec('PySide6'), 'PySide6 must not be installed here'"
	time $(HEADLESS_VENV)/bin/pytest -q -p no:pytestqt -W ignore::pytest.PytestConfigWarning $(HEADLESS_PYTEST_JOBS) $(HEADLESS_TESTS)

$(HEADLESS_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(HEADLESS_VENV)
	$(HEADLESS_VENV)/bin/pip install -q $(PIP_NO_COMPILE) --upgrade pip
	$(HEADLESS_VENV)/bin/pip install -q $(PIP_NO_COMPILE) -e ".[dask,lsl]" onnx==1.23.2 pytest==9.2.0 pytest-xdist==3.8.0 hypothesis
	touch $@

# TFLite export, TFLite Micro C export and bench-model (docs/TRAINING.md). The converter stack
# (litert-torch, ~2 GB with jax) downgrades pydantic and typing_extensions, so it lives in its own
# venv; torch goes first, pinned, so pip takes the CPU build. tflite-micro is a pre-release wheel.
# CI (.ci/run) builds this venv in the background while `make test` runs, then runs the tests
# marked `tflite`: PyTorch -> TFLite fp32 and int8 with their parity checks, evaluate on .tflite
# files, the TFLM C export compiled with the host compiler, bench-model. Measured on a shared
# 2-core machine (load average ~7): the venv ~6 min (mostly download), the tests ~2 min.
TFLITE_VENV := .venv-tflite
# Only the venv: the studio's TFLite buttons (Training tab) run their commands with its python.
tflite-env: $(TFLITE_VENV)/.installed

test-tflite: $(TFLITE_VENV)/.installed
	time $(TFLITE_VENV)/bin/pytest -q -p no:pytestqt -W ignore::pytest.PytestConfigWarning -m tflite tests/training

$(TFLITE_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TFLITE_VENV)
	$(TFLITE_VENV)/bin/pip install -q $(PIP_NO_COMPILE) --upgrade pip
	$(TFLITE_VENV)/bin/pip install -q $(PIP_NO_COMPILE) "torch==2.13.0"
	$(TFLITE_VENV)/bin/pip install -q $(PIP_NO_COMPILE) -e ".[train,tflite]" pytest==9.2.0
	$(TFLITE_VENV)/bin/pip install -q $(PIP_NO_COMPILE) --pre tflite-micro
	touch $@

bench: setup
	$(BIN)/python bench/run_all.py

screenshots: setup
	$(BIN)/python docs/make_screenshots.py
	$(BIN)/python docs/make_labeling_screenshot.py
	$(BIN)/python docs/make_ml_screenshots.py

HOP_EXT := build/.hop-ext
setup: system-deps $(STAMP) $(HOP_EXT)

# The optional C extensions (setup.py: the live inference hop and model run, the labeling view's envelope raster): `pip install -e .` builds it into the
# source tree; this rebuilds it when its source changes in an existing venv. A failed build is a
# note, and the same hop runs in Python (`sensorlab --version` says which runs).
$(HOP_EXT): sensorlab/inference/_hop.c sensorlab/inference/_ort.c sensorlab/plotting/_raster.c setup.py $(STAMP)
	$(BIN)/pip install -q $(PIP_NO_COMPILE) --no-deps -e .
	@mkdir -p build && touch $@

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages: $$missing"; \
	    if ! command -v fuser >/dev/null; then \
	      echo "(if another process holds the apt lock, this waits for it, up to $(APT_LOCK_WAIT) s)"; \
	    elif fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; then \
	      echo "another process (unattended-upgrades? another apt?) holds the apt lock: waiting for it, up to $(APT_LOCK_WAIT) s"; \
	    fi; \
	    apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "sensorlab needs these system packages; run:"; \
	    echo "  sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q $(PIP_NO_COMPILE) --upgrade pip
	# torch first, pinned: pip takes the CPU build (an unpinned torch, asked for by another
	# package, would pull several GB of CUDA libraries).
	$(BIN)/pip install -q $(PIP_NO_COMPILE) "torch==2.13.0"
	$(BIN)/pip install -q $(PIP_NO_COMPILE) -e ".[gui,dask,train,lsl,litert]" --group test
	touch $(STAMP)
	@mkdir -p build && touch $(HOP_EXT)  # (that install built the C hop)

clean:
	rm -rf $(VENV) $(HEADLESS_VENV) $(TFLITE_VENV) .pytest_cache build firmware/build *.egg-info sensorlab/inference/_hop*.so sensorlab/inference/_ort*.so sensorlab/plotting/_raster*.so
