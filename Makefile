# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Seawall needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
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
