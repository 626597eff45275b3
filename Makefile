# Deterministic Randomness with JAX: build and test the course (the README says more).
#
#   make book      set up .venv (pinned) and build the site into _build/html
#   make test      set up .venv and run every test: unit tests, a clean build, nbval (as an
#                  AVX2 CPU), nbval without FMA, the site in Chromium, the chapters on Binder
#   make serve     preview the built site on http://127.0.0.1:$(PORT)
#   make bench     time the build, the tests, the solutions and the pages
#   make lock      regenerate requirements.txt and .binder/requirements.txt
#   make versions  measure the book's values in many JAX releases (chapter 12)
#   make clean     remove _build, .cache and the learner notebooks (keeps .venv)

PYTHON ?= python3
BIN    := .venv/bin
STAMP  := .venv/.installed-requirements
PORT   ?= 8000
SHELL  := bash

# One hash seed everywhere; JAX's compilation cache on disk, shared, every program kept.
export PYTHONHASHSEED := 0
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.cache/jax
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS := 0
export JAX_COMPILATION_CACHE_MAX_SIZE := 1000000000
JB_FLAGS := -W -n --keep-going
NBVAL_FLAGS := -p scripts.nbval_strict --nbval --nbval-current-env --nbval-kernel-startup-timeout 300 \
	--nbval-sanitize-with scripts/nbval-sanitize.cfg -n auto --dist loadscope

.PHONY: book test checks unit-tests test-build nbval portability site-tests binder-test chromium serve bench lock versions clean

# Learner notebooks (the Binder buttons link them), pages of changed dl_workshop modules (every page, if the
# environment changed) re-executed, then the strict build. On failure: each warning and failing cell, and Sphinx's
# saved state dropped so that the next build reports them again.
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

# The environment holds exactly the lock (uv is pinned in it).
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv .venv
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements.txt)"
	$(BIN)/python -m uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.txt
	touch $@

book: $(STAMP)
	$(call build_site)
	@echo "The book is built: open file://$(CURDIR)/_build/html/index.html (or run 'make serve')."

# Binder beside the rest, at a lower priority; a failing step stops no other.
test: $(STAMP) chromium
	@$(MAKE) --no-print-directory -k -j2 --output-sync=target BINDER_NICE="nice -n 10" binder-test checks

# Unit tests, a clean build, then nbval, the site and the older CPUs side by side.
checks: $(STAMP) chromium
	@status=0; $(MAKE) --no-print-directory unit-tests || status=1; \
	{ $(MAKE) --no-print-directory test-build && \
	  $(MAKE) --no-print-directory -k -j2 --output-sync=target nbval site-tests portability; } || status=1; \
	exit $$status

unit-tests: $(STAMP)
	$(BIN)/python -m ruff check --quiet . && $(BIN)/python -m ruff format --check --quiet .
	$(BIN)/python -m pytest -n auto --doctest-modules dl_workshop tests \
	  --ignore=tests/test_site.py --ignore=tests/test_binder.py

# Every page read again from an emptied _build: nbval's reference. Kept: the execution cache (with the record that
# says what it was made from: a page runs again if its code, package or environment changed), Binder's screenshots
# and make bench's report.
test-build: $(STAMP)
	@mkdir -p _build && find _build -mindepth 1 -maxdepth 1 ! -name screenshots ! -name bench ! -name .jupyter_cache \
	  ! -name .dl_workshop-hashes.json -exec rm -rf {} +
	$(call build_site,--all)

# Every output again, equal to the build's. Where the CPU has AVX-512, XLA compiles this run for AVX2 (an x86 CPU
# with FMA, without AVX-512): equal outputs show both that the pages reproduce and that such a CPU gets the same bits,
# in one run. NBVAL_CAP= (empty) runs it for this CPU's own instruction set.
NBVAL_CAP ?= $(if $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo yes),AVX2)
# XLA capped at instruction set $(1), with a compilation cache of that set's own.
capped = XLA_FLAGS=--xla_cpu_max_isa=$(1) JAX_COMPILATION_CACHE_DIR=$(JAX_COMPILATION_CACHE_DIR)-$(1)
nbval: $(STAMP)
	$(if $(NBVAL_CAP),$(call capped,$(NBVAL_CAP))) $(BIN)/python -m pytest $(NBVAL_FLAGS) _build/jupyter_execute

# An x86 CPU without FMA, simulated (AVX): exactly the cells tagged cpu-dependent differ. Skipped, and says so, on a CPU
# that has no FMA to take away, or that is not x86.
portability: $(STAMP)
	$(call capped,AVX) $(BIN)/python -m pytest $(NBVAL_FLAGS) _build/jupyter_execute

site-tests: $(STAMP) chromium
	$(BIN)/python -m pytest tests/test_site.py

# .binder/ installed in .cache/binder; every chapter opened, run and read in JupyterLab.
binder-test: $(STAMP) chromium
	$(BINDER_NICE) $(BIN)/python -m pytest -n 2 tests/test_binder.py

# Debian's Chromium, if missing (Playwright's own download needs the internet); needs root. The tests drive its
# headless shell, as Playwright's headless mode does; make bench's Lighthouse needs the full browser.
apt_install = test -x /usr/bin/$(1) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); }
chromium:
	@$(call apt_install,chromium-headless-shell)

serve:
	@test -f _build/html/index.html || { echo "No built site: run 'make book' first."; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

bench: book chromium
	@$(call apt_install,chromium)
	$(BIN)/python -m benchmarks.run

# The developers' lock, then the learner's with the same versions.
lock: $(STAMP)
	$(BIN)/python -m uv pip compile -q requirements.in -o requirements.txt --python-version 3.11
	$(BIN)/python -m uv pip compile -q .binder/requirements.in -c <(grep -v '^-e ' requirements.txt) \
	  -o .binder/requirements.txt --python-version 3.11 --no-annotate --custom-compile-command "make lock"

versions: $(STAMP)
	$(BIN)/python scripts/jax_versions.py

clean:
	rm -rf _build .cache book/*.ipynb
