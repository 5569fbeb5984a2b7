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

.PHONY: run test test-headless setup system-deps lint bench screenshots clean

run: setup
	$(BIN)/sensorlab

test: setup
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q

# The core without any Qt binding installed: proves sensorlab records, reads and labels headless.
HEADLESS_VENV := .venv-headless
test-headless: system-deps $(HEADLESS_VENV)/.installed
	$(HEADLESS_VENV)/bin/python -c "import importlib.util as u; assert not u.find_spec('PySide6'), 'PySide6 must not be installed here'"
	$(HEADLESS_VENV)/bin/pytest -q -p no:pytestqt -W ignore::pytest.PytestConfigWarning --ignore=tests/app

$(HEADLESS_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(HEADLESS_VENV)
	$(HEADLESS_VENV)/bin/pip install -q --upgrade pip
	$(HEADLESS_VENV)/bin/pip install -q -e ".[dask]" pytest==9.2.0 hypothesis
	touch $@

bench: setup
	$(BIN)/python bench/run_all.py

screenshots: setup
	$(BIN)/python docs/make_screenshots.py
	$(BIN)/python docs/make_labeling_screenshot.py

setup: system-deps $(STAMP)

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "sensorlab needs these system packages; run:"; \
	    echo "  sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: pip takes the CPU build (an unpinned torch, asked for by another
	# package, would pull several GB of CUDA libraries).
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[gui,dask,train]" --group test
	touch $(STAMP)

clean:
	rm -rf $(VENV) $(HEADLESS_VENV) .pytest_cache build *.egg-info
