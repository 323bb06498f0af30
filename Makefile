# Two commands on a fresh machine (only Python 3.10-3.12 needed):
#   make demo   create .venv, install, run the pipeline on sample_data/, print the report's path
#   make test   create .venv, install, run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo_output

.PHONY: demo test lint install bench sample clean

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.10-3.12 is needed (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dyadsync run sample_data/dyad_session.mp4 --codes sample_data/moments_of_meeting.csv \
		--pipeline pipelines/multimodal.toml --out $(DEMO)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks sample_data
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks sample_data

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

sample: $(STAMP)
	$(BIN)/python sample_data/make_sample.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
