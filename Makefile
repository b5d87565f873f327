# SwiftVirt — build, run and test.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
DATA_DIR ?= $(CURDIR)/.data
LISTEN ?= 127.0.0.1:6443
PYTHON ?= python3

.PHONY: deps build build-debug run stop test unit e2e bench guest clean

## deps: install the Debian and Python packages SwiftVirt needs (as root), only those missing.
deps:
	@scripts/install-deps.sh

## build: release binaries in .build/release (swiftvirtd, swiftvirt).
build: deps
	$(SWIFT) build -c release --product swiftvirtd
	$(SWIFT) build -c release --product swiftvirt

build-debug: deps
	$(SWIFT) build --build-tests

## run: start the all-in-one daemon (embedded SQLite store under .data/) and apply the example VM.
run: build
	@scripts/run.sh "$(DATA_DIR)" "$(LISTEN)"

stop:
	@if [ -f "$(DATA_DIR)/swiftvirtd.pid" ]; then kill "$$(cat $(DATA_DIR)/swiftvirtd.pid)" 2>/dev/null || true; rm -f "$(DATA_DIR)/swiftvirtd.pid"; echo "swiftvirtd stopped"; fi

## test: unit tests (Swift Testing), then end-to-end tests with the real kubectl and Python client.
test: build-debug
	guest/build.sh /var/lib/swiftvirt/guest
	$(SWIFT) test --skip-build
	$(PYTHON) -m pytest -q tests/e2e

unit: build-debug
	guest/build.sh /var/lib/swiftvirt/guest
	$(SWIFT) test --skip-build

e2e: build-debug
	$(PYTHON) -m pytest -q tests/e2e

## bench: API create throughput and latency against the raw store, watch delivery latency, then VM start
## latency against raw QEMU and the per-VM memory overhead, VM-to-VM throughput against raw QEMU on one bridge,
## then disk import against curl | qemu-img convert.
bench: build
	$(SWIFT) build -c release --product VirtBench
	.build/release/VirtBench
	$(PYTHON) bench/vm_bench.py --binary .build/release/swiftvirtd
	$(PYTHON) bench/net_bench.py --binary .build/release/swiftvirtd
	$(SWIFT) build -c release --product swiftvirt-importer
	$(PYTHON) bench/import_bench.py --binary .build/release/swiftvirt-importer

## guest: build the test guest image (kernel + busybox) into /var/lib/swiftvirt/guest.
guest: deps
	guest/build.sh

clean:
	rm -rf .build .data
