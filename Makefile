# Deterministic Randomness with JAX: build and test the course.
#
#   make book    set up .venv (pinned) and build the site into _build/html
#   make test    set up .venv (pinned) and run every test (unit, build, nbval)
#   make serve   preview the built site on http://127.0.0.1:$(PORT)
#   make clean   remove build output (keeps .venv)
#   make lock    regenerate requirements.txt from requirements.in
#   make bench   measure build, test and solution speed: _build/bench/report.md
#   make site-tests  the built site in Chromium (make chromium installs it)
#   make binder-test the chapters as Binder opens them, in JupyterLab (fresh venv)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-requirements
PORT   ?= 8000
SHELL  := bash

# Exact reproduction: the same hash seed in the build, in nbval and in the tests.
export PYTHONHASHSEED := 0
# Builds are strict: warnings are errors, broken references are reported, and
# every problem of the run is listed before it fails.
JB_FLAGS := -W -n --keep-going
NBVAL_FLAGS := -p tests.nbval_strict --nbval --nbval-current-env \
	--nbval-sanitize-with tests/nbval-sanitize.cfg -n auto --dist loadscope

.PHONY: book test unit-tests test-build nbval serve clean lock bench chromium site-tests

# Build the site into _build/html, logging to _build/build.log. On failure,
# repeat the lines that say what went wrong (page, warning, failing cell).
# Pages that use a changed module of dl_workshop are executed again first
# (the execution cache alone only notices changed code cells).
define build_site
	@mkdir -p _build
	@$(BIN)/python scripts/refresh_cache.py _build
	@set -o pipefail; $(BIN)/jupyter-book build . $(1) $(JB_FLAGS) 2>&1 | tee _build/build.log || { \
	  echo; echo "==== The build failed. What went wrong (full log: _build/build.log): ===="; \
	  grep -E "(WARNING|ERROR):" _build/build.log | grep -v IPKernelApp; \
	  grep -A 14 "An error occurred while executing the following cell" _build/build.log; \
	  exit 1; }
endef

# A fresh machine: create the virtual environment with the Python we find.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Install the pinned requirements, again only when they (or the package) change.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

book: $(STAMP)
	$(call build_site)
	@echo "The book is built: open file://$(CURDIR)/_build/html/index.html (or run 'make serve')."

# Unit tests, then a clean build (every page executed), then nbval on that
# build, then the built site in a browser.
test: $(STAMP) chromium
	$(MAKE) unit-tests
	$(MAKE) test-build
	$(MAKE) nbval
	$(MAKE) site-tests
	$(MAKE) binder-test

unit-tests: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile --doctest-modules dl_workshop tests \
	  --ignore=tests/test_site.py --ignore=tests/test_binder.py

# A clean build executes every page (an empty execution cache has no hits),
# which is what nbval needs as its reference.
test-build: $(STAMP)
	rm -rf _build
	$(call build_site,--all)

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL_FLAGS) _build/jupyter_execute

# The built site (_build/html) in Debian's Chromium, driven by Playwright:
# screenshots and external links in _build/screenshots.
site-tests: $(STAMP) chromium
	$(BIN)/python -m pytest tests/test_site.py

# Debian's Chromium for the site test, installed only when it is missing
# (Playwright's own browser download cannot work offline). Needs root (CI is).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Binder, simulated: a fresh venv installs .binder/requirements.txt and runs
# .binder/postBuild, then every chapter is opened in its JupyterLab at its
# launch link's path, run, and checked (screenshots in _build/screenshots).
# Needs no built site; runs last in `make test`, after `test-build` has
# emptied _build, so its launch links are checked against that fresh build.
.PHONY: binder-test
binder-test: $(STAMP) chromium
	$(BIN)/python -m pytest tests/test_binder.py

# Timings live here, never in tests: a report with the machine and versions.
bench: book chromium
	$(BIN)/python -m benchmarks.run

serve:
	@test -f _build/html/index.html || { echo "No built site: run 'make book' first."; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/python -m uv pip compile requirements.in -o requirements.txt --python-version 3.11
