import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Seeded random operations on small emulated devices with tight limits, compared after every
/// step with ``NullBlkZoneModel``: zone conditions and write pointers, open/active counts, sticky
/// write errors, the errno of every refusal, and the data read back.
///
/// Set `ZONEALLOC_MODEL_SEEDS=N` to run N more seeds than the fixed CI ones.
@Suite("Emulated device against the null_blk reference model")
struct EmulatorModelTests {
    /// A device configuration to run the workload on.
    struct Variant: Sendable, CustomTestStringConvertible {
        var name: String
        var geometry: EmulatedGeometry
        var options: EmulatedDevice.Options
        var testDescription: String { name }
    }

    static let variants: [Variant] = [
        Variant(name: "tight limits", geometry: TestDevices.tight, options: .init()),
        Variant(name: "no limits", geometry: TestDevices.unlimited, options: .init()),
        Variant(name: "512-byte blocks", geometry: TestDevices.smallBlocks, options: .init()),
        Variant(
            name: "write-through, no sticky errors",
            geometry: TestDevices.tight,
            options: .init(writeCache: .writeThrough, stickyWriteErrors: false)
        ),
        Variant(name: "12 KiB requests", geometry: smallRequests, options: .init()),
        Variant(name: "512e, 10 KiB requests", geometry: emulated512e, options: .init(stickyWriteErrors: false)),
    ]

    /// ``TestDevices/smallBlocks`` whose writes the block layer splits every 12 KiB.
    static let smallRequests: EmulatedGeometry = {
        var geometry = TestDevices.smallBlocks
        geometry.maxTransferBytes = 12 << 10
        return geometry
    }()

    /// 512-byte logical, 4096-byte physical blocks, and a largest request that is not a
    /// multiple of the physical block: requests end on physical block boundaries (8 KiB).
    static let emulated512e: EmulatedGeometry = {
        var geometry = TestDevices.smallBlocks
        geometry.physicalBlockSize = 4096
        geometry.maxTransferBytes = 10 << 10
        return geometry
    }()

    static let stepsPerRun = 3000

    @Test("random operations match the reference model after every step", arguments: TestSeeds.model, variants)
    func randomOperationsMatchModel(seed: UInt64, variant: Variant) throws {
        try TestDevices.withMemoryDevice(variant.geometry, options: variant.options) { device in
            var run = ModelRun(
                seed: seed,
                device: device,
                model: NullBlkZoneModel(
                    geometry: variant.geometry,
                    stickyWriteErrors: variant.options.stickyWriteErrors
                )
            )
            run.compareState(step: -1, after: "creation")
            for step in 0..<Self.stepsPerRun where run.mismatches == 0 {
                let operation = run.nextOperation()
                run.perform(operation, step: step)
                run.compareState(step: step, after: operation.description)
            }
            if run.mismatches == 0 { run.compareAllData(step: Self.stepsPerRun) }
        }
    }
}

/// One randomly chosen operation.
enum ModelOperation: CustomStringConvertible {
    case write(offset: UInt64, count: Int, tag: UInt64, injectedFault: Bool)
    case append(zoneStart: UInt64, count: Int, tag: UInt64)
    case manage(ZoneOperation, offset: UInt64, length: UInt64)
    case read(offset: UInt64, count: Int)
    case report(offset: UInt64, length: UInt64, filter: ZoneReportFilter)
    case flush
    case setCondition(zone: Int, ZoneCondition)

    var description: String {
        switch self {
        case .write(let offset, let count, _, let fault):
            "write \(count) B at \(offset)\(fault ? " with an injected media error" : "")"
        case .append(let start, let count, _): "append \(count) B to \(start)"
        case .manage(let operation, let offset, let length): "\(operation) offset \(offset) length \(length)"
        case .read(let offset, let count): "read \(count) B at \(offset)"
        case .report(let offset, let length, let filter): "report offset \(offset) length \(length) filter \(filter)"
        case .flush: "flush"
        case .setCondition(let zone, let condition): "set zone \(zone) \(condition.kernelName)"
        }
    }
}

/// The state of one randomised run: the device, the model and the generator.
struct ModelRun {
    let seed: UInt64
    let device: EmulatedDevice
    var model: NullBlkZoneModel
    var rng: SeededRandom
    private(set) var mismatches = 0

    init(seed: UInt64, device: EmulatedDevice, model: NullBlkZoneModel) {
        self.seed = seed
        self.device = device
        self.model = model
        self.rng = SeededRandom(seed: seed)
    }

    private var block: UInt64 { model.blockSize }
    private var sequential: Range<Int> { model.conventionalZones..<model.zoneCount }

    // MARK: - Generating operations

    mutating func nextOperation() -> ModelOperation {
        enum Kind {
            case atWP, notAtWP, pastCapacity, conventional, misaligned, faulty, append, manage, read, report, flush,
                condition
        }
        let kind = rng.weighted([
            (30, Kind.atWP), (6, .notAtWP), (4, .pastCapacity), (4, .conventional), (2, .misaligned),
            (2, .faulty), (10, .append), (18, .manage), (10, .read), (6, .report), (3, .flush), (1, .condition),
        ])
        let zoneBlocks = Int(model.zoneCapacity / block)
        let tag = rng.next()
        switch kind {
        case .atWP, .faulty:
            let index = rng.pick(sequential)
            let zone = model.zone(index)
            let remaining = Int(zone.remainingCapacity / block)
            var blocks = rng.int(in: 1...max(1, zoneBlocks / 3))
            if remaining > 0 { blocks = rng.chance(1, in: 6) ? remaining : min(blocks, remaining) }
            let offset = zone.condition.hasValidWritePointer ? zone.writePointer : zone.start
            return .write(offset: offset, count: blocks * Int(block), tag: tag, injectedFault: kind == .faulty)
        case .notAtWP:
            let index = rng.pick(sequential)
            let zone = model.zone(index)
            var offset = zone.start + UInt64(rng.int(in: 0..<zoneBlocks)) * block
            if zone.condition.hasValidWritePointer, offset == zone.writePointer { offset += block }
            return .write(offset: offset, count: Int(block) * rng.int(in: 1...2), tag: tag, injectedFault: false)
        case .pastCapacity:
            let zone = model.zone(rng.pick(sequential))
            let offset = zone.condition.hasValidWritePointer ? zone.writePointer : zone.start
            let count = Int(zone.remainingCapacity) + Int(block) * rng.int(in: 1...3)
            return .write(
                offset: offset,
                count: min(count, Int(model.capacity - offset)),
                tag: tag,
                injectedFault: false
            )
        case .conventional:
            // May run past the last conventional zone into the first sequential one (item 20).
            let conventionalBytes = UInt64(model.conventionalZones) * model.zoneSize
            let offset = UInt64(rng.int(in: 0..<Int(conventionalBytes / block))) * block
            return .write(offset: offset, count: Int(block) * rng.int(in: 1...8), tag: tag, injectedFault: false)
        case .misaligned:
            let zone = model.zone(rng.pick(sequential))
            let offset = zone.condition.hasValidWritePointer ? zone.writePointer : zone.start
            return rng.chance(1, in: 2)
                ? .write(offset: offset + block / 2, count: Int(block), tag: tag, injectedFault: false)
                : .write(offset: offset, count: Int(block) + 256, tag: tag, injectedFault: false)
        case .append:
            var zone = model.zone(rng.pick(sequential))
            if rng.chance(1, in: 20) { zone = model.zone(rng.pick(0..<model.zoneCount)) }
            var blocks = rng.int(in: 1...max(1, zoneBlocks / 3))
            if rng.chance(1, in: 10) { blocks = Int(zone.remainingCapacity / block) + 1 }
            let target = rng.chance(1, in: 25) ? zone.start + block : zone.start
            return .append(zoneStart: target, count: blocks * Int(block), tag: tag)
        case .manage:
            let operation = rng.pick(ZoneOperation.allCases)
            switch rng.int(in: 0..<10) {
            case 0: return .manage(operation, offset: 0, length: 0)  // the whole device (RESET ALL for reset)
            case 1, 2:
                let first = rng.pick(0..<model.zoneCount)
                let count = rng.int(in: 2...3)
                return .manage(operation, offset: model.start(first), length: UInt64(count) * model.zoneSize)
            default:
                let index = rng.chance(1, in: 15) ? rng.pick(0..<model.zoneCount) : rng.pick(sequential)
                let inside = UInt64(rng.int(in: 0..<zoneBlocks)) * block
                return .manage(operation, offset: model.start(index) + inside, length: block)
            }
        case .read:
            let offset = UInt64(rng.int(in: 0..<Int(model.capacity / block))) * block
            let count = min(UInt64(rng.int(in: 1...(2 * zoneBlocks))) * block, model.capacity - offset)
            return .read(offset: offset, count: Int(count))
        case .report:
            let offset = rng.chance(1, in: 3) ? 0 : UInt64(rng.int(in: 0..<Int(model.capacity / block))) * block
            let length = rng.chance(1, in: 3) ? 0 : UInt64(rng.int(in: 1...(3 * zoneBlocks))) * block
            return .report(offset: offset, length: length, filter: rng.pick(ZoneReportFilter.allCases))
        case .flush:
            return .flush
        case .condition:
            let index = rng.pick(sequential)
            let current = model.zone(index).condition
            if current == .readOnly || current == .offline { return .setCondition(zone: index, .empty) }
            return .setCondition(zone: index, rng.chance(1, in: 2) ? .readOnly : .offline)
        }
    }

    // MARK: - Performing and comparing

    mutating func perform(_ operation: ModelOperation, step: Int) {
        switch operation {
        case .write(let offset, let count, let tag, let fault):
            let bytes = TestData.bytes(tag: tag, count: count)
            if fault { device.injectFault(.failWrite(nth: 1)) }
            let expected = model.write(bytes, at: offset, failInjected: fault)
            compare(
                outcome(of: { () throws(ZonedStorageError) in try device.write(bytes, at: offset) }),
                expected,
                step,
                operation
            )
        case .append(let zoneStart, let count, let tag):
            let bytes = TestData.bytes(tag: tag, count: count)
            let expected = model.append(bytes, toZoneAt: zoneStart)
            var landed: UInt64?
            let got = outcome { () throws(ZonedStorageError) in landed = try device.append(bytes, toZoneAt: zoneStart) }
            switch expected {
            case .success(let offset):
                compare(got, nil, step, operation)
                check(
                    landed == offset,
                    step,
                    operation,
                    "append landed at \(String(describing: landed)), model \(offset)"
                )
            case .failure(let errno):
                compare(got, errno, step, operation)
            }
        case .manage(let zoneOperation, let offset, let length):
            let expected = model.manage(zoneOperation, offset: offset, length: length)
            let got = outcome { () throws(ZonedStorageError) in
                try device.manageZones(zoneOperation, offset: offset, length: length)
            }
            compare(got, expected, step, operation)
        case .read(let offset, let count):
            var bytes: [UInt8] = []
            let got = outcome { () throws(ZonedStorageError) in bytes = try device.read(count: count, at: offset) }
            switch model.read(count: count, at: offset) {
            case .success(let expected):
                compare(got, nil, step, operation)
                if got == "success", bytes != expected {
                    let first = bytes.indices.first { $0 >= expected.count || bytes[$0] != expected[$0] } ?? bytes.count
                    check(false, step, operation, "data differs first at device offset \(offset + UInt64(first))")
                }
            case .failure(let errno):
                compare(got, errno, step, operation)
            }
        case .report(let offset, let length, let filter):
            var zones: [Zone] = []
            let got = outcome { () throws(ZonedStorageError) in
                zones = try device.reportZones(offset: offset, length: length, filter: filter)
            }
            compare(got, nil, step, operation)
            let expected = model.zoneRange(offset: offset, length: length).map { model.report($0) } ?? []
            check(zones == expected.filter(filter.matches), step, operation, "the report differs from the model's")
        case .flush:
            compare(outcome { () throws(ZonedStorageError) in try device.flush() }, nil, step, operation)
        case .setCondition(let zone, let condition):
            model.setCondition(zone, to: condition)
            compare(
                outcome { () throws(ZonedStorageError) in try device.setZoneCondition(zone, to: condition) },
                nil,
                step,
                operation
            )
        }
    }

    /// Compares conditions, write pointers, counts and sticky errors, and checks the invariants.
    mutating func compareState(step: Int, after operation: String) {
        let zones = device.inspectZones()
        let expected = model.zones()
        for (got, want) in zip(zones, expected) where got != want {
            check(false, step, operation, "zone \(got.index): device \(describe(got)), model \(describe(want))")
        }
        let counts = device.resourceUsage()
        let modelCounts = model.usage
        check(
            counts
                == EmulatedDevice.ResourceUsage(
                    implicitOpen: modelCounts.implicitOpen,
                    explicitOpen: modelCounts.explicitOpen,
                    closed: modelCounts.closed
                ),
            step,
            operation,
            "resource counts: device \(ZoneInvariants.describe(counts)), model \(modelCounts)"
        )
        // A pending sticky error is observable only while the zone has a valid write pointer.
        for zone in zones where zone.condition.hasValidWritePointer {
            let sticky = device.writePointerNeedsUpdate(zone: zone.index)
            check(
                sticky == model.needsWritePointerUpdate(zone.index),
                step,
                operation,
                "zone \(zone.index): device sticky write error \(sticky), model \(model.needsWritePointerUpdate(zone.index))"
            )
        }
        for problem in ZoneInvariants.problems(in: zones, info: device.info, usage: counts) {
            check(false, step, operation, "invariant: \(problem)")
        }
    }

    /// Reads every zone and compares it with the model.
    mutating func compareAllData(step: Int) {
        for index in 0..<model.zoneCount {
            perform(.read(offset: model.start(index), count: Int(model.zoneSize)), step: step)
        }
    }

    private func describe(_ zone: Zone) -> String {
        "\(zone.condition.kernelName) wp \(zone.writePointer) cap \(zone.capacity)"
    }

    /// "success", or the symbolic errno the operation failed with.
    private func outcome(of body: () throws(ZonedStorageError) -> Void) -> String {
        do {
            try body()
            return "success"
        } catch {
            return error.errno.map(ZonedStorageError.symbolicName) ?? "no errno (\(error.code))"
        }
    }

    private func label(_ errno: Errno?) -> String {
        errno.map(ZonedStorageError.symbolicName) ?? "success"
    }

    private mutating func compare(_ got: String, _ expected: Errno?, _ step: Int, _ operation: ModelOperation) {
        check(got == label(expected), step, operation, "device \(got), model \(label(expected))")
    }

    private mutating func check(_ condition: Bool, _ step: Int, _ operation: ModelOperation, _ message: String) {
        check(condition, step, operation.description, message)
    }

    private mutating func check(_ condition: Bool, _ step: Int, _ operation: String, _ message: String) {
        guard !condition else { return }
        mismatches += 1
        Issue.record("seed \(seed) step \(step) (\(operation)): \(message)")
    }
}
