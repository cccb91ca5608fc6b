# Benchmarks (loadtest/): `make bench` regenerates docs/benchmarks.md and docs/img/bench-*.png (< 15 min);
# `make bench-quick` is the smoke run (< 2 min) and writes only under /tmp.
PY ?= .venv/bin/python
QUICK_DIR ?= /tmp/parlor-bench-quick

.PHONY: bench bench-quick

bench:
	$(PY) -m loadtest.fanout --rooms 100 --seconds 30
	$(PY) -m loadtest.bench
	$(PY) -m loadtest.capacity

bench-quick:
	mkdir -p $(QUICK_DIR)
	$(PY) -m loadtest.fanout --rooms 5 --seconds 5 --report $(QUICK_DIR)/benchmarks.md
	$(PY) -m loadtest.bench --quick --report $(QUICK_DIR)/benchmarks.md --img-dir $(QUICK_DIR)
