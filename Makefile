# zonealloc — the two quick-start commands are `make demo` and `make test`.
# Both install the system packages they need first (libzbd-dev, pkg-config; see tools/install-deps.sh).

SWIFT ?= swift

.PHONY: all deps build demo test lint format clean

all: build

deps:
	@tools/install-deps.sh

build: deps
	$(SWIFT) build

# The main job on an emulated zoned device: create an image, write to it, print its zone report.
demo: build
	$(SWIFT) run --skip-build zonealloc demo

# Every test (unit, model-based, persistence, concurrency, CLI end to end). Real-device tests run
# only when ZONEALLOC_TEST_DEVICE names a zoned block device (they are destructive).
test: build
	$(SWIFT) test

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
