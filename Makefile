# Every target works from a fresh clone: the virtualenv is created on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SIM_PORT ?= 8765
PYTEST_ARGS ?=

.PHONY: install test lint run bench clean

$(VENV)/.installed: pyproject.toml requirements.lock scripts/find_python.sh
	@python_bin=$$(sh scripts/find_python.sh) || exit 1; \
	if [ ! -x "$(PY)" ] || ! "$(PY)" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "Creating $(VENV) with $$python_bin"; rm -rf "$(VENV)"; \
		"$$python_bin" -m venv "$(VENV)" || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) scripts/requirements_from_pyproject.py > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt -c requirements.lock
	@touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

run: install
	@PORT=$(PORT) SIM_PORT=$(SIM_PORT) $(PY) scripts/run_dev.py

# make bench: every benchmark in full, figures in benchmarks/RESULTS.md (the audit trail at
# 1,000,000 events takes most of the time); QUICK=1 for smaller sizes (about 5 minutes);
# ONLY="pages throttling" for some of them.
bench: install
	$(PY) benchmarks/run_all.py $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
