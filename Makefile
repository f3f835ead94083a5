# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# Video hashing (vPDQ) builds the vpdq package against Debian's ffmpeg libraries.
VIDEO_APT := ffmpeg pkg-config cmake libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev \
	libswscale-dev libswresample-dev libavutil-dev

.PHONY: install run test bench clean system-deps

# Installs the ffmpeg libraries when they are missing and we are root; otherwise says what to install.
system-deps:
	@if ! command -v ffmpeg >/dev/null 2>&1 || ! pkg-config --exists libavcodec libavformat libswscale libavutil 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(VIDEO_APT) >/dev/null; \
	  else echo "note: video hashing (vPDQ) needs: apt-get install $(VIDEO_APT)" >&2; fi; \
	fi

$(STAMP): pyproject.toml | system-deps
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Seawall needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@# vpdq (video hashing) only where the ffmpeg libraries are; without them videos get exact hashes only.
	if pkg-config --exists libavcodec libavformat libswscale libavutil 2>/dev/null; then \
	  $(PY) -m pip install -q -e '.[test,video]'; else $(PY) -m pip install -q -e '.[test]'; fi
	@touch $(STAMP)

install: $(STAMP)

# The embedded default: one process, SQLite in SEAWALL_HOME (./.seawall), HTTP on 127.0.0.1:8700,
# replaying the generated demo stream.
run: install
	$(VENV)/bin/seawall run --demo

test: install
	scripts/test.sh

bench: install
	$(PY) bench/pipeline.py

clean:
	rm -rf $(VENV) .seawall .pytest_cache .hypothesis
