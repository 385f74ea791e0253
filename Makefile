# alarm-to-slack: one entry point. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
CHECKOV_VENV ?= .venv-checkov
PY := $(VENV)/bin/python
BUILD := build
EVENT ?=
SCENARIO ?=
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`. The three e2e groups go first, one worker each (they idle on
# moto: the aws provider waits ~25 s on every SQS queue it creates), and the other two, at a lower
# CPU priority, take the rest (tests/support/scheduling.py). On 2 cores, the same hour: 5 workers
# 2 min 46 s and 2 min 49 s, 4 workers 2 min 55 s to 3 min 15 s; now 2 min 13 s to 2 min 46 s with
# 5 (docs/benchmarks.md, "Test suite time"). 0: one process.
PYTEST_WORKERS ?= 5
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)

# Bytecode goes to build/pycache, never next to the sources (lambda/ is zipped as it is). So pip
# need not compile every module it installs (--no-compile: the two virtualenvs build in about 60 s
# instead of 95 s on 2 cores); what the tests import is compiled once, on first use, and reused.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(abspath $(BUILD))/pycache
# tests/test_pre_commit.py finds the checkov virtualenv the hooks use through it.
export CHECKOV_VENV

.PHONY: help venv venvs test unit tf-test e2e lint style fmt checkov run bench docs clean require-terraform mutation

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z0-9-]*:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-checkov.txt
	@touch $@

venv: $(VENV)/.installed ## Create .venv from the pinned requirements-dev.txt

require-terraform:
	@command -v terraform >/dev/null || { echo "error: terraform not found on PATH. Install Terraform >= 1.9 (https://developer.hashicorp.com/terraform/install)." >&2; exit 1; }

# Both virtualenvs at once: on a fresh clone pip spends most of its time waiting on files.
venvs:
	@$(MAKE) -j2 $(VENV)/.installed $(CHECKOV_VENV)/.installed

test: venvs style require-terraform ## Run every check: lint, unit, Terraform, end-to-end, short soak
	@# checkov runs beside pytest, at a lower CPU priority (as the workers outside tests/e2e/ do,
	@# tests/conftest.py): the e2e deployments are the run's longest chain. Its result counts all
	@# the same.
	@mkdir -p $(BUILD); nice -n 10 $(MAKE) checkov > $(BUILD)/checkov.log 2>&1 & checkov=$$!; \
	  status=0; $(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS) || status=$$?; \
	  wait $$checkov || { cat $(BUILD)/checkov.log; echo "checkov failed" >&2; exit 1; }; \
	  cat $(BUILD)/checkov.log; exit $$status

unit: venv ## Python tests only (no Terraform, no moto)
	$(PY) -m pytest -m "not terraform and not e2e" $(PYTEST_ARGS)

tf-test: require-terraform venv ## terraform fmt/init/validate/test for the module and every example
	$(PY) -m pytest -m terraform $(PYTEST_ARGS)

e2e: require-terraform venv ## Apply the examples against a local moto server, fire alarms, destroy
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

lint: style checkov ## ruff, terraform fmt -check, checkov

style: require-terraform venv ## ruff and terraform fmt -check (the fast part of lint)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	TF_CLI_CONFIG_FILE= terraform fmt -check -recursive -diff

checkov: $(CHECKOV_VENV)/.installed ## Static security checks over the module and examples
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework terraform --config-file .checkov.yaml --directory .

fmt: venv ## Format Python and Terraform sources
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	TF_CLI_CONFIG_FILE= terraform fmt -recursive

# Mutation testing, not part of `make test`: mutmut (requirements-mutation.txt, its own
# virtualenv) changes lambda/ one small edit at a time and runs the unit tests that reach the
# edited function ([tool.mutmut] in pyproject.toml); a mutant no test fails on is a gap.
# MUTATE picks modules (mutmut's mutant names start with the module); docs/mutation.md has the
# scores and the survivors of the last run.
MUTATION_VENV ?= .venv-mutation
MUTATE ?= alarm grouping digest message slack slack_api slack_app state routing name_pattern handler
MUTATION_CHILDREN ?= 2

$(MUTATION_VENV)/.installed: requirements-mutation.txt requirements-dev.txt
	@test -x $(MUTATION_VENV)/bin/python || $(PYTHON) -m venv $(MUTATION_VENV)
	$(MUTATION_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-mutation.txt
	@touch $@

mutation: $(MUTATION_VENV)/.installed ## Mutation testing of lambda/ (mutmut) against the unit tests; MUTATE="routing slack" picks modules
	rm -rf mutants
	@# src -> lambda for the run only: see [tool.mutmut] in pyproject.toml.
	ln -sfn lambda src
	status=0; $(MUTATION_VENV)/bin/mutmut run --max-children $(MUTATION_CHILDREN) $(foreach m,$(MUTATE),'$(m).*') || status=$$?; \
	  rm -f src; exit $$status
	@mkdir -p $(BUILD)
	ln -sfn lambda src; $(MUTATION_VENV)/bin/mutmut results --all true > $(BUILD)/mutation-results.txt; rm -f src
	@grep -E ': (survived|no tests|suspicious)$$' $(BUILD)/mutation-results.txt || true
	@$(PY) scripts/mutation_scores.py $(MUTATE) < $(BUILD)/mutation-results.txt

# Only Python: the handler and the fake Slack need the standard library, not .venv.
run: ## Feed a sample alarm (or EVENT=path.json) through the real handler; fake Slack unless SLACK_WEBHOOK_URL is set; SCENARIO=alarm-then-ok plays Slack app mode
	$(PYTHON) scripts/run_local.py $(if $(EVENT),--event "$(EVENT)") $(if $(SCENARIO),--scenario "$(SCENARIO)")

bench: require-terraform venv ## Print speed, size and fault-soak figures
	$(PY) bench/run.py

docs: venv ## Regenerate the README inputs/outputs tables and timezones.tf (IANA names for `timezone`)
	$(PY) scripts/timezones.py --write
	$(PY) scripts/readme_tables.py --write

clean: ## Remove build output, virtualenvs and Terraform working directories
	rm -rf $(BUILD) $(VENV) $(CHECKOV_VENV) $(MUTATION_VENV) mutants .pytest_cache .ruff_cache .hypothesis
	find . -name .terraform -type d -prune -exec rm -rf {} +
	find . -name .terraform.lock.hcl -delete
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
