# zonealloc — the two quick-start commands are `make demo` and `make test`.
# Both install the system packages they need first (libzbd-dev, libxxhash-dev, pkg-config; see tools/install-deps.sh).

SWIFT ?= swift

.PHONY: all deps build demo test test-kernel bench lint format clean

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

# zonealloc on real Linux zoned block devices: boots Debian's kernel under QEMU with an NVMe ZNS
# namespace, null_blk (zoned) and a scsi_debug ZBC disk, and runs the conformance command and the
# real-device tests on each (tools/qemu/test-kernel.sh; a few minutes, no KVM needed). Installs
# QEMU, the kernel, busybox, kmod and cpio first (tools/install-deps.sh --kernel-harness).
# KERNEL_SCRATCH / KERNEL_RELEASE_SCRATCH: SwiftPM scratch folders for the test bundle and the
# release binary.
KERNEL_SCRATCH ?= .build
KERNEL_RELEASE_SCRATCH ?= .build
test-kernel:
	SWIFT=$(SWIFT) bash tools/qemu/test-kernel.sh --scratch-path $(KERNEL_SCRATCH) \
		--release-scratch-path $(KERNEL_RELEASE_SCRATCH) $(TEST_KERNEL_FLAGS)

# The benchmark suite (Benchmarks/, a separate package): the allocation fast path counted by
# callgrind (instructions and mallocs per allocation, BENCH_CHECK=1 fails above the target), then
# the package-benchmark suites. Release builds in Benchmarks/.build-bench.
BENCH_CHECK ?= 0
bench: deps
	SWIFT=$(SWIFT) CHECK=$(BENCH_CHECK) tools/bench-alloc-callgrind.sh
	cd Benchmarks && $(SWIFT) package --scratch-path .build-bench --allow-writing-to-package-directory \
		benchmark --no-progress

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
