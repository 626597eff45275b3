# Deterministic Randomness with JAX: build and test the course.
#
#   make book    set up .venv (pinned) and build the site into _build/html
#   make test    set up .venv (pinned) and run every test (unit, build, nbval,
#                site in a browser, Binder), in parallel where they allow it
#   make serve   preview the built site on http://127.0.0.1:$(PORT)
#   make clean   remove _build, .cache (compiled JAX programs, the Binder venv) and the
#                learner notebooks (book/*.ipynb); keeps .venv
#   make lock    regenerate both locks: requirements.txt, .binder/requirements.txt
#   make versions  measure the book's values in many JAX releases (chapter 12)
#   make bench   measure build, test and solution speed: _build/bench/report.md
#   make site-tests  the built site in Chromium (make chromium installs it)
#   make binder-test the chapters as Binder opens them, in JupyterLab (own venv)
#   make portability nbval again with XLA compiling for older CPUs (AVX2, AVX)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-requirements
PORT   ?= 8000
SHELL  := bash

# The same hash seed everywhere; JAX's compilation cache on disk, shared by every
# process, every program kept, bounded (and so locked): see the README.
export PYTHONHASHSEED := 0
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.cache/jax
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS := 0
export JAX_COMPILATION_CACHE_MAX_SIZE := 1000000000
# Strict builds: warnings are errors, broken references reported, every problem listed.
JB_FLAGS := -W -n --keep-going
# A kernel may take minutes to start on a machine that runs several test steps at once.
NBVAL_FLAGS := -p scripts.nbval_strict --nbval --nbval-current-env --nbval-kernel-startup-timeout 300 \
	--nbval-sanitize-with scripts/nbval-sanitize.cfg -n auto --dist loadscope

.PHONY: book test checks unit-tests test-build nbval portability serve clean lock versions bench chromium site-tests binder-test

# The site, into _build/html (log: _build/build.log): learner notebooks first (the
# Binder buttons link them), pages of changed dl_workshop modules re-executed, pages
# read in parallel. On failure: every warning, each failing cell and its error; and
# Sphinx's saved state is dropped, so that the next build reports them again.
define build_site
	@mkdir -p _build
	@$(BIN)/python scripts/learner_notebooks.py
	@$(BIN)/python scripts/refresh_cache.py _build
	@set -o pipefail; $(BIN)/python scripts/jb_build.py . $(1) $(JB_FLAGS) 2>&1 | tee _build/build.log || { \
	  echo; echo "==== The build failed. What went wrong (full log: _build/build.log): ===="; \
	  grep -E "(WARNING|ERROR):" _build/build.log; \
	  sed -n '/^nbclient\.exceptions\./,/\[mystnb\.exec\]/p' _build/build.log; \
	  rm -f _build/.doctrees/environment.pickle; \
	  exit 1; }
endef

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The environment holds exactly the lock (uv, pinned in it), synced when it changes.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements.txt)"
	$(BIN)/python -m uv pip sync --quiet --python $(BIN)/python requirements.txt
	touch $@

book: $(STAMP)
	$(call build_site)
	@echo "The book is built: open file://$(CURDIR)/_build/html/index.html (or run 'make serve')."

# Binder (needs no build; mostly waits) beside the rest at a lower priority; each
# step's output printed whole when it ends; a failing step stops no other.
test: $(STAMP) chromium
	@$(MAKE) --no-print-directory -k -j2 --output-sync=target BINDER_NICE="nice -n 10" binder-test checks

# Everything but Binder, in order: unit tests, a clean build, then nbval, the site
# in a browser and the other-CPU runs side by side.
checks: $(STAMP) chromium
	@status=0; \
	$(MAKE) --no-print-directory unit-tests || status=1; \
	{ $(MAKE) --no-print-directory test-build && \
	  $(MAKE) --no-print-directory -k -j2 --output-sync=target nbval site-tests portability; } || status=1; \
	exit $$status

# ruff (lint, format), then the unit tests, one worker per core.
unit-tests: $(STAMP)
	$(BIN)/python -m ruff check --quiet .
	$(BIN)/python -m ruff format --check --quiet .
	$(BIN)/python -m pytest -n auto --doctest-modules dl_workshop tests \
	  --ignore=tests/test_site.py --ignore=tests/test_binder.py

# Every page executed (nbval's reference); _build/screenshots kept (Binder writes there).
test-build: $(STAMP)
	@mkdir -p _build && find _build -mindepth 1 -maxdepth 1 ! -name screenshots -exec rm -rf {} +
	$(call build_site,--all)

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL_FLAGS) _build/jupyter_execute

# Another CPU, simulated: nbval with XLA compiling for older x86 CPUs. AVX2 (with
# FMA): every output the same; AVX (no FMA): exactly the cells tagged cpu-dependent differ.
PORTABILITY_ISAS := AVX2 AVX
.PHONY: $(addprefix portability-,$(PORTABILITY_ISAS))
portability: $(addprefix portability-,$(PORTABILITY_ISAS))

$(addprefix portability-,$(PORTABILITY_ISAS)): portability-%: $(STAMP)
ifeq ($(shell uname -m),x86_64)
	XLA_FLAGS=--xla_cpu_max_isa=$* JAX_COMPILATION_CACHE_DIR=$(JAX_COMPILATION_CACHE_DIR)-$* \
	  $(BIN)/python -m pytest $(NBVAL_FLAGS) _build/jupyter_execute
else
	@echo "$@: skipped: --xla_cpu_max_isa names x86 instruction sets; this machine is $(shell uname -m)."
endif

# The built site in Chromium (Playwright); screenshots in _build/screenshots.
site-tests: $(STAMP) chromium
	$(BIN)/python -m pytest tests/test_site.py

# Debian's Chromium, when missing (Playwright's own download needs the internet). Needs root.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Binder, simulated: .binder/ installed in .cache/binder, every chapter opened, run, read.
binder-test: $(STAMP) chromium
	$(BINDER_NICE) $(BIN)/python -m pytest -n 2 tests/test_binder.py

# Timings, with the machine and the versions: _build/bench/report.md.
bench: book chromium
	$(BIN)/python -m benchmarks.run

serve:
	@test -f _build/html/index.html || { echo "No built site: run 'make book' first."; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .cache book/*.ipynb

# Both locks: the developers', then the learner's with the same versions.
lock: $(STAMP)
	$(BIN)/python -m uv pip compile -q requirements.in -o requirements.txt --python-version 3.11
	$(BIN)/python -m uv pip compile -q .binder/requirements.in -c <(grep -v '^-e ' requirements.txt) \
	  -o .binder/requirements.txt --python-version 3.11 --no-annotate --custom-compile-command "make lock"

# The book's headline values in many JAX releases (downloads each): dl_workshop/versions.json.
versions: $(STAMP)
	$(BIN)/python scripts/jax_versions.py
