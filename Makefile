# Balance Guard — every target bootstraps .venv from the lock file on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The demo platform is checked on two consecutive nights, so night 2 can see what changed.
NIGHT1 := 2026-08-01
NIGHT2 := 2026-08-02
DEMO_STATE := out/state.sqlite
DOCS_LANGS := en fr
# The sample platform's own name and support address, as an operator would configure them.
DEMO_ENV := PLATFORM_NAME="Boréal Gestion immobilière" \
  SUPPORT_EMAIL="Soutien Boréal <soutien@boreal-gestion.example>" \
  OPS_EMAIL="operations@boreal-gestion.example"

.PHONY: install catalogs translations demo test test-newer-python lint typecheck docs bench sandbox browser deploy clean mutation

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(STAMP)

# Debian's Chromium drives the browser tests; never a downloaded browser build.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: browser tests will be skipped (apt-get install chromium)"; fi; }

demo: install catalogs docs
	rm -rf out/outbox out/night-1 out/realtime $(DEMO_STATE) out/report.json out/report.html
	@echo "== Night 1: $(NIGHT1) =="
	$(DEMO_ENV) $(BIN)/balance-guard run --as-of $(NIGHT1) --state $(DEMO_STATE) --outbox out/outbox \
	  --report-json out/night-1/report.json --report-html out/night-1/report.html \
	  --docs-base-url file://$(CURDIR)/out/docs || [ $$? -eq 1 ]
	@echo "== Night 2: $(NIGHT2) =="
	$(DEMO_ENV) $(BIN)/balance-guard run --as-of $(NIGHT2) --state $(DEMO_STATE) --outbox out/outbox \
	  --report-json out/report.json --report-html out/report.html --report-csv out/report.csv \
	  --previous-report-json out/night-1/report.json \
	  --docs-base-url file://$(CURDIR)/out/docs || [ $$? -eq 1 ]
	@echo "== Day 2, after night 2: a refund gets stuck, Stripe's webhook reaches balance-guard listen =="
	$(DEMO_ENV) $(BIN)/python tools/demo_realtime.py --as-of $(NIGHT2) --state $(DEMO_STATE) \
	  --outbox out/outbox --work out/realtime --docs-base-url file://$(CURDIR)/out/docs
	@echo
	@echo "Reports:  out/report.json  out/report.html  (night 1: out/night-1/)"
	@echo "Emails:   out/outbox/  ($$(ls out/outbox/*.eml 2>/dev/null | wc -l) .eml, each with an .html preview)"
	@echo "Help:     out/docs/en/index.html  out/docs/fr/index.html"

docs: install catalogs
	@for lang in $(DOCS_LANGS); do \
	  $(BIN)/sphinx-build -q -W --keep-going -b html -D language=$$lang \
	    -d out/.doctrees/$$lang docs out/docs/$$lang || exit 1; \
	done

lint: install
	$(BIN)/ruff check shared tests docs functions tools
	$(BIN)/ruff format --check shared/balance_guard/domain

typecheck: install
	$(BIN)/mypy shared

# Compile the French catalogs once: the product's (one gettext domain for every word a
# reader sees), and the help pages' with Sphinx's own code, so the docs builds of parallel
# test workers find them up to date instead of all writing them into docs/ at once.
PRODUCT_LOCALES := shared/balance_guard/text/locales

catalogs: install
	@$(BIN)/pybabel -q compile -d $(PRODUCT_LOCALES) -D balance_guard
	@$(BIN)/python -c "from sphinx.util.i18n import CatalogRepository as R; \
	  [c.write_mo('fr') for c in R('docs', ['locales'], 'fr', 'utf-8').catalogs if c.is_outdated()]"

# Extract every marked English message (product and help pages), merge it into the French
# catalogs, and list what is left to translate or fuzzy; exits 1 while anything is.
translations: install
	$(BIN)/python tools/translations.py; p=$$?; \
	$(BIN)/python docs/update_translations.py; d=$$?; \
	$(MAKE) --no-print-directory catalogs; [ $$p = 0 ] && [ $$d = 0 ]

test: install browser catalogs
	$(BIN)/ruff check shared tests docs functions tools
	$(BIN)/mypy shared
	$(BIN)/pytest -n 2 -q

# Lambda runs a newer Python than this machine's 3.11: when a 3.13 is at hand (pyenv here),
# the suite runs on it too, from the same lock file. Override with NEWER_PYTHON=/path.
NEWER_PYTHON ?= $(shell p=$$(pyenv prefix 3.13 2>/dev/null) && echo $$p/bin/python3)
NEWER_VENV := .venv-newer

test-newer-python: catalogs
	@if [ -z "$(NEWER_PYTHON)" ] || [ ! -x "$(NEWER_PYTHON)" ]; then \
	  echo "no Python 3.13 found: skipping the newer-Python run"; exit 0; fi; \
	set -e; \
	[ -x $(NEWER_VENV)/bin/python ] || $(NEWER_PYTHON) -m venv $(NEWER_VENV); \
	$(NEWER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock; \
	$(NEWER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .; \
	$(NEWER_VENV)/bin/python --version; \
	$(NEWER_VENV)/bin/python -m pytest -n 2 -q -p no:cacheprovider tests/unit tests/integration

bench: install
	$(BIN)/pytest -q -s tests/bench

# Mutation testing of the pure core (mutmut over domain/, its settings in pyproject.toml), on
# demand only, never in CI: 5 to 7 minutes on 2 cores. mutmut names a mutant after its file's
# path less a leading src/, so it runs in out/mutation/, where src/ is a link to shared/.
# Prints each module's killed %, the survivors judged equivalent (tests/mutation_equivalent.txt)
# and those left to kill; fails below 95 % in any module.
MUTATION_DIR := out/mutation

mutation: install
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	ln -s ../../shared $(MUTATION_DIR)/src
	ln -s ../../tests $(MUTATION_DIR)/tests
	ln -s ../../pyproject.toml $(MUTATION_DIR)/pyproject.toml
	cd $(MUTATION_DIR) && $(CURDIR)/$(BIN)/mutmut run --max-children 2 > mutmut.log 2>&1 \
	  || { tail -n 40 mutmut.log; exit 1; }
	$(BIN)/python tests/mutation_report.py $(MUTATION_DIR)/mutants

sandbox: install
	$(BIN)/balance-guard sandbox --port 12111

# The Lambda layer as `sam build` builds it (shared/Makefile, target build-SharedLayer), into
# .aws-sam/layer/python: arm64 wheels from PyPI, compiled by a python3.13 (PATH or pyenv).
.PHONY: layer
layer:
	$(MAKE) -C shared build-SharedLayer

# Builds the help site, `sam build`, `sam deploy` (--guided the first time), then syncs
# out/docs to the stack's DocsBucket and invalidates its distribution (infra/deploy.sh;
# DEPLOY_ARGS=--docs-only publishes the site alone). Needs the AWS SAM CLI (the one
# `make deploy-check` installs will do), the AWS CLI and a python3.13; see infra/README.md.
DEPLOY_ARGS ?=

deploy: install
	infra/deploy.sh $(DEPLOY_ARGS)

# Build it like a deploy, without deploying: the AWS SAM CLI in its own virtualenv
# (.venv-sam, pinned), `sam validate --lint`, `sam build` for arm64 / python3.13, then the
# built layer's size budget, bytecode and every handler's import with Python 3.13, timed into
# out/bench.json ("deploy_check"). Exits 2 when no Python 3.13 is found (infra/deploy-check.sh).
.PHONY: deploy-check
deploy-check:
	infra/deploy-check.sh

clean:
	rm -rf out .balance-guard .pytest_cache .mypy_cache .ruff_cache $(NEWER_VENV)
