# zonealloc — the two quick-start commands are `make demo` and `make test`.
# Both install the system packages they need first (libzbd-dev, libxxhash-dev, pkg-config; see tools/install-deps.sh).

SWIFT ?= swift

.PHONY: all deps build demo test test-kernel bench lint format clean fuzz sanitize test-tsan test-asan

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

# The benchmark suite (Benchmarks/, a separate package), every figure of the README's performance
# table: the allocation fast path counted by callgrind (tools/bench-alloc-callgrind.sh); store put
# vs pwrite, copygc vs a plain copy, open time vs journal length, memory per bucket and per extent
# (tools/bench-probes.sh; each ratio measured side by side in one run); then the package-benchmark
# suites. About 14 minutes on 2 busy cores from a fresh clone, half of it building (BENCH_QUICK=1:
# shorter runs and only the allocator suite, about 2.5 minutes once built). BENCH_CHECK=1 fails when a target is missed. Release builds in
# BENCH_SCRATCH; the probes' images and files go to BENCH_DIR (default: under BENCH_SCRATCH).
BENCH_CHECK ?= 0
BENCH_QUICK ?= 0
BENCH_SCRATCH ?= Benchmarks/.build-bench
BENCH_DIR ?=
bench: deps
	SWIFT=$(SWIFT) SCRATCH=$(BENCH_SCRATCH) CHECK=$(BENCH_CHECK) QUICK=$(BENCH_QUICK) tools/bench-alloc-callgrind.sh
	SWIFT=$(SWIFT) SCRATCH=$(BENCH_SCRATCH) CHECK=$(BENCH_CHECK) QUICK=$(BENCH_QUICK) DIR=$(BENCH_DIR) \
		tools/bench-probes.sh
	cd Benchmarks && $(SWIFT) package --scratch-path $(abspath $(BENCH_SCRATCH)) \
		--allow-writing-to-package-directory benchmark --no-progress \
		$(if $(filter-out 0,$(BENCH_QUICK)),--target AllocatorBenchmarks)

# libFuzzer targets for every decoder of on-disk or user input (superblock, journal groups and
# records, recovery and checkpoints end to end, trace files, CLI size/range arguments): builds
# Fuzz/ZoneFuzz with AddressSanitizer in .build-fuzz and runs each target for FUZZ_SECONDS
# (default 60) on its seed corpus in fixtures/fuzz/<target>/ (tools/fuzz.sh). FUZZ_TARGETS picks some.
FUZZ_SECONDS ?= 60
fuzz: deps
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) tools/fuzz.sh

# The concurrency and crash tests under ThreadSanitizer (.build-tsan; what CI runs after make test).
test-tsan: deps
	SWIFT=$(SWIFT) tools/sanitize.sh thread

# Every test under AddressSanitizer (.build-asan).
test-asan: deps
	SWIFT=$(SWIFT) tools/sanitize.sh address --all

# Both sanitizer runs: the TSan subset and every test under ASan.
sanitize: test-tsan test-asan

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
