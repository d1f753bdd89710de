# Two commands on a fresh machine: `make run` and `make test`. Each bootstraps the
# project's virtual environment from nothing; a stamp keeps it quick when done.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint imports typecheck unit bench dist clean venv realclients

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=23.2" "setuptools>=68" wheel
	$(BIN)/python -m pip install -q -e ".[ingest,dev]"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/aitally demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The layer contracts of docs/architecture.md (pyproject.toml [tool.importlinter]).
imports: $(STAMP)
	$(BIN)/lint-imports

# mypy cannot follow setuptools' editable import hook, so it checks a symlinked view
# of the folders under their import names.
TYPEVIEW := .typeview/aitally
typecheck: $(STAMP)
	@mkdir -p $(TYPEVIEW)
	@for p in core agent collectors uploader installer ingest; do ln -sfn $(CURDIR)/$$p $(TYPEVIEW)/$$p; done
	@ln -sfn $(CURDIR)/aitally/__main__.py $(TYPEVIEW)/__main__.py
	MYPYPATH=.typeview $(BIN)/mypy $(foreach p,core agent collectors uploader installer ingest,-p aitally.$(p)) -m aitally.__main__
	MYPYPATH=.typeview $(BIN)/mypy tests bench

unit: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint imports typecheck unit

# Records the real clients' fixtures (tests/realclients/README.md): needs npm, tmux and the
# npm registry; not part of `make test`. Narrow it with REALCLIENTS_ARGS="--tools codex".
realclients: $(STAMP)
	$(BIN)/python -m tests.realclients $(REALCLIENTS_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

dist: $(STAMP)
	$(BIN)/python -m aitally.installer.dist

clean:
	rm -rf $(VENV) .typeview build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
