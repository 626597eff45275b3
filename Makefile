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

# Exact reproduction: the same hash seed in the build, in nbval and in the tests.
export PYTHONHASHSEED := 0
# JAX keeps what it compiles on disk (.cache/jax) and reuses it in every later
# process: nbval, Binder's kernels and the next build compile nothing the
# build compiled. A cached program is the one the compiler made, so results
# are the same bit for bit (nbval checks exactly this: it compares a run that
# compiled against one that read the cache). Every program is kept, however
# fast it compiled (JAX keeps only those over 1 s by default). Bounding the
# size (1 GB, least recently used out first) also makes JAX lock the cache, so
# that parallel processes never read an entry that another one is writing.
# JAX finds an entry only under the same spelling of the folder's path (a link
# to the folder is another cache): set JAX_COMPILATION_CACHE_DIR to share one.
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.cache/jax
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS := 0
export JAX_COMPILATION_CACHE_MAX_SIZE := 1000000000
# Builds are strict: warnings are errors, broken references are reported, and
# every problem of the run is listed before it fails.
JB_FLAGS := -W -n --keep-going
NBVAL_FLAGS := -p scripts.nbval_strict --nbval --nbval-current-env \
	--nbval-sanitize-with scripts/nbval-sanitize.cfg -n auto --dist loadscope

.PHONY: book test checks unit-tests test-build nbval portability serve clean lock versions bench chromium site-tests binder-test

# Build the site into _build/html, logging to _build/build.log. On failure,
# repeat the lines that say what went wrong: every warning and error (page,
# message), then each failing cell, its source and its error (from nbclient's
# exception to the end of myst-nb's warning, which _config.yml makes show it).
# Sphinx repeats no warning of a page that it does not read again, so a failed
# build drops what Sphinx read (its saved environment): the next build reads
# every page again (executed ones from the cache) and fails the same way.
# Pages that use a changed module of dl_workshop are executed again first
# (the execution cache alone only notices changed code cells). Pages are read,
# and so executed, in parallel, one per core (scripts/jb_build.py says how).
# The learner notebooks come first (book/*.ipynb, for Binder): the theme links
# a page's Binder button to its notebook when that file exists.
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

# A fresh machine: create the virtual environment with the Python we find.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Install the pinned requirements, again only when they (or the package) change.
# uv (pinned in the lock) makes the environment hold exactly the lock: it
# installs, upgrades and removes what the lock no longer lists, in one step.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements.txt)"
	$(BIN)/python -m uv pip sync --quiet --python $(BIN)/python requirements.txt
	touch $@

book: $(STAMP)
	$(call build_site)
	@echo "The book is built: open file://$(CURDIR)/_build/html/index.html (or run 'make serve')."

# Every test. The Binder simulation (which needs no built site, and mostly
# waits on JupyterLab and its kernels) runs beside the rest, at a lower CPU
# priority (nice), so that it takes the cores when the rest waits. The rest
# goes in order: the unit tests, a clean build that executes every page, then
# nbval on that build beside the built site in a browser. Each step's output is printed
# whole when it ends; a failing step does not stop the others, and make names
# every step that failed. (Running every step at once is slower: the two cores
# are oversubscribed and do more work.)
test: $(STAMP) chromium
	@$(MAKE) --no-print-directory -k -j2 --output-sync=target BINDER_NICE="nice -n 10" binder-test checks

# Everything in `make test` but Binder, in order (see there).
checks: $(STAMP) chromium
	@status=0; \
	$(MAKE) --no-print-directory unit-tests || status=1; \
	{ $(MAKE) --no-print-directory test-build && \
	  $(MAKE) --no-print-directory -k -j2 --output-sync=target nbval site-tests portability; } || status=1; \
	exit $$status

# Lint and format check (ruff, configured in pyproject.toml), then the tests:
# one worker per core, each taking the next test as it is free.
unit-tests: $(STAMP)
	$(BIN)/python -m ruff check --quiet .
	$(BIN)/python -m ruff format --check --quiet .
	$(BIN)/python -m pytest -n auto --doctest-modules dl_workshop tests \
	  --ignore=tests/test_site.py --ignore=tests/test_binder.py

# A clean build executes every page (an empty execution cache has no hits),
# which is what nbval needs as its reference. _build is emptied but for
# _build/screenshots, where the Binder test may be writing while this builds.
test-build: $(STAMP)
	@mkdir -p _build && find _build -mindepth 1 -maxdepth 1 ! -name screenshots -exec rm -rf {} +
	$(call build_site,--all)

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL_FLAGS) _build/jupyter_execute

# Another CPU, simulated: nbval again, with XLA compiling for an older x86 CPU
# (XLA_FLAGS=--xla_cpu_max_isa). AVX2 has fused multiply-add (FMA): every output
# must equal the reference. AVX has none: on a CPU that has FMA, exactly the
# cells tagged cpu-dependent must differ (scripts/nbval_strict.py; chapter 12
# explains why). A cap that takes nothing away from this CPU (AVX2 on one
# without AVX-512) would repeat plain nbval: that run says so and stops.
# JAX's compilation cache includes XLA_FLAGS in its keys; each instruction set
# still gets a cache folder of its own.
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

# The built site (_build/html) in Debian's Chromium, driven by Playwright:
# screenshots and external links in _build/screenshots.
site-tests: $(STAMP) chromium
	$(BIN)/python -m pytest tests/test_site.py

# Debian's Chromium for the site test, installed only when it is missing
# (Playwright's own browser download cannot work offline). Needs root (CI is).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Binder, simulated: a venv installs .binder/requirements.txt (made again only
# when that changes; kept in .cache/binder), .binder/postBuild makes the learner
# notebooks, then each is opened in JupyterLab at its launch link's path, run,
# and checked (screenshots in _build/screenshots). Two JupyterLabs, each with
# half the chapters. Needs no built site.
binder-test: $(STAMP) chromium
	$(BINDER_NICE) $(BIN)/python -m pytest -n 2 tests/test_binder.py

# Timings live here, never in tests: a report with the machine and versions.
bench: book chromium
	$(BIN)/python -m benchmarks.run

serve:
	@test -f _build/html/index.html || { echo "No built site: run 'make book' first."; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .cache book/*.ipynb

# Both locks: the developers' (everything), then the learner's for Binder
# (.binder/requirements.in), with every version taken from the first.
lock: $(STAMP)
	$(BIN)/python -m uv pip compile -q requirements.in -o requirements.txt --python-version 3.11
	$(BIN)/python -m uv pip compile -q .binder/requirements.in -c <(grep -v '^-e ' requirements.txt) \
	  -o .binder/requirements.txt --python-version 3.11 --no-annotate --custom-compile-command "make lock"

# Which JAX releases reproduce the book: its headline values measured in a
# throwaway environment per release (scripts/jax_versions.py lists them and
# why), written to dl_workshop/versions.json, which chapter 12 renders.
# Not part of `make test`: it downloads every release (uv keeps them in its cache).
versions: $(STAMP)
	$(BIN)/python scripts/jax_versions.py
