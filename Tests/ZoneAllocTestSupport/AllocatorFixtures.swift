import Foundation
import Synchronization
package import ZoneAlloc
package import ZonedStorage

/// Test doubles and helpers for `BucketAllocator` tests: an event-recording device wrapper, a
/// generation store that records (and can fail) persists, a no-op copygc trigger, and device
/// geometries. Everything is namespaced here so it cannot collide with other helpers of this
/// target.
package enum AllocatorFixtures {
    // MARK: - Geometries

    /// The tight geometry of the model-based tests: 16 zones of 64 KiB with 48 KiB capacity
    /// (96-sector buckets), 1 conventional zone, max open 4, max active 6, 4096-byte blocks.
    package static let tightGeometry = EmulatedGeometry(
        zoneCount: 16,
        zoneSize: 64 << 10,
        zoneCapacity: 48 << 10,
        conventionalZones: 1,
        logicalBlockSize: 4096,
        maxOpenZones: 4,
        maxActiveZones: 6
    )

    /// A memory-backed emulated device with a write-through cache (reads see every write).
    package static func device(_ geometry: EmulatedGeometry) throws -> EmulatedDevice {
        try EmulatedDevice(geometry: geometry, storage: .memory, options: .init(writeCache: .writeThrough))
    }

    /// A geometry of `zones` zones of 64 KiB with `capacity` bytes of capacity and the given limits.
    package static func geometry(
        zones: Int,
        capacity: UInt64 = 48 << 10,
        conventional: Int = 1,
        maxOpen: Int = 0,
        maxActive: Int = 0
    ) -> EmulatedGeometry {
        EmulatedGeometry(
            zoneCount: zones,
            zoneSize: 64 << 10,
            zoneCapacity: capacity,
            conventionalZones: conventional,
            logicalBlockSize: 4096,
            maxOpenZones: maxOpen,
            maxActiveZones: maxActive
        )
    }

    // MARK: - Data

    /// `blocks` 4096-byte blocks whose bytes identify `tag` and the block, so that misplaced or
    /// stale data is recognised when read back.
    package static func payload(tag: UInt64, blocks: Int, blockSize: Int = 4096) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: blocks * blockSize)
        for block in 0..<blocks {
            var rng = SplitMix64(seed: tag &* 0x9E37_79B9 &+ UInt64(block))
            let base = block * blockSize
            for word in stride(from: 0, to: blockSize, by: 8) {
                let value = rng.next()
                for byte in 0..<8 { bytes[base + word + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte)) }
            }
        }
        return bytes
    }

    // MARK: - Event log

    /// One event seen by a ``RecordingDevice`` or a ``RecordingGenerationStore``.
    package enum Event: Hashable, Sendable, CustomStringConvertible {
        case persist(zone: Int, generation: UInt8)
        case reset(zone: Int)
        case finish(zone: Int)
        case open(zone: Int)
        case close(zone: Int)
        case write(zone: Int, offset: UInt64, bytes: Int)

        package var description: String {
            switch self {
            case .persist(let zone, let generation): "persist(zone \(zone), gen \(generation))"
            case .reset(let zone): "reset(zone \(zone))"
            case .finish(let zone): "finish(zone \(zone))"
            case .open(let zone): "open(zone \(zone))"
            case .close(let zone): "close(zone \(zone))"
            case .write(let zone, let offset, let bytes): "write(zone \(zone), +\(offset), \(bytes) bytes)"
            }
        }
    }

    /// An ordered, thread-safe log of events.
    package final class EventLog: Sendable {
        private let events = Mutex<[Event]>([])

        package init() {}

        package func append(_ event: Event) { events.withLock { $0.append(event) } }

        /// Every event so far, in order.
        package var all: [Event] { events.withLock { $0 } }

        /// Forgets every event.
        package func clear() { events.withLock { $0.removeAll() } }
    }

    // MARK: - Device wrapper

    /// A `ZonedDevice` that forwards to `inner`, logs zone management and writes (successful
    /// ones, in completion order per zone), counts resets per zone, can report other zone
    /// limits than the inner device (to model devices whose limits are unknown), and can check
    /// the inner device's open and active zones against a budget after every operation.
    package final class RecordingDevice: ZonedDevice {
        package let inner: EmulatedDevice
        package let log: EventLog
        package let info: DeviceInfo
        /// The open / active zone counts checked after every write and zone operation, if any.
        package let budget: (open: Int, active: Int)?
        private let resetCounts: Mutex<[Int: Int]> = Mutex([:])
        private let refusals = Mutex<[ZonedStorageError]>([])
        private let overBudget = Mutex<[String]>([])
        private let checks = Atomic<Int>(0)
        private let peaks = Mutex((open: 0, active: 0))
        private let writeHook = Mutex<(@Sendable () -> Void)?>(nil)

        /// - Parameters:
        ///   - inner: the device doing the work.
        ///   - log: where events go (share it with a ``RecordingGenerationStore``).
        ///   - maxOpenZones, maxActiveZones: limits to report instead of the inner device's.
        ///   - budget: open / active zones the inner device must never exceed; checked right
        ///     after every write and zone operation through this wrapper (see
        ///     ``budgetViolations``).
        package init(
            _ inner: EmulatedDevice,
            log: EventLog = EventLog(),
            maxOpenZones: ZoneResourceLimit? = nil,
            maxActiveZones: ZoneResourceLimit? = nil,
            budget: (open: Int, active: Int)? = nil
        ) {
            self.inner = inner
            self.log = log
            var info = inner.info
            if let maxOpenZones { info.maxOpenZones = maxOpenZones }
            if let maxActiveZones { info.maxActiveZones = maxActiveZones }
            self.info = info
            self.budget = budget
        }

        /// Every time the inner device had more open or active zones than ``budget`` right
        /// after an operation, in words.
        package var budgetViolations: [String] { overBudget.withLock { $0 } }

        /// How many operations were followed by a budget check.
        package var budgetChecks: Int { checks.load(ordering: .relaxed) }

        /// The most open and active zones seen by the budget checks.
        package var peakUsage: (open: Int, active: Int) { peaks.withLock { $0 } }

        /// Compares the inner device's zone usage with ``budget`` (after `operation`).
        private func checkBudget(after operation: @autoclosure () -> String) {
            guard let budget else { return }
            let usage = inner.resourceUsage()
            checks.add(1, ordering: .relaxed)
            peaks.withLock { $0 = (max($0.open, usage.open), max($0.active, usage.active)) }
            if usage.open > budget.open || usage.active > budget.active {
                let message =
                    "after \(operation()): \(usage.open) open, \(usage.active) active zones (budget "
                    + "\(budget.open) open, \(budget.active) active)"
                overBudget.withLock { $0.append(message) }
            }
        }

        package var path: String { inner.path }

        /// Runs `body` once, on the writing thread, before the next write through this wrapper
        /// reaches the inner device (to act in the middle of an operation that writes).
        package func beforeNextWrite(_ body: @escaping @Sendable () -> Void) {
            writeHook.withLock { $0 = body }
        }

        /// How many times zone `index` was reset through this wrapper.
        package func resets(of index: Int) -> Int { resetCounts.withLock { $0[index, default: 0] } }

        /// Every refusal with ETOOMANYREFS / EOVERFLOW the inner device returned.
        package var resourceRefusals: [ZonedStorageError] { refusals.withLock { $0 } }

        private func noteRefusal(_ error: ZonedStorageError) {
            if error.code == .tooManyOpenZones || error.code == .tooManyActiveZones {
                refusals.withLock { $0.append(error) }
            }
        }

        package func reportZones(offset: UInt64, length: UInt64, filter: ZoneReportFilter) throws(ZonedStorageError)
            -> [Zone]
        {
            try inner.reportZones(offset: offset, length: length, filter: filter)
        }

        package func manageZones(_ operation: ZoneOperation, offset: UInt64, length: UInt64) throws(ZonedStorageError) {
            do {
                try inner.manageZones(operation, offset: offset, length: length)
            } catch {
                noteRefusal(error)
                throw error
            }
            checkBudget(after: "\(operation) at \(offset)")
            let first = Int(offset / info.zoneSize)
            let count = length == 0 ? info.zoneCount - first : Int((length + info.zoneSize - 1) / info.zoneSize)
            for zone in first..<min(first + count, info.zoneCount) {
                switch operation {
                case .reset:
                    resetCounts.withLock { $0[zone, default: 0] += 1 }
                    log.append(.reset(zone: zone))
                case .finish: log.append(.finish(zone: zone))
                case .open: log.append(.open(zone: zone))
                case .close: log.append(.close(zone: zone))
                }
            }
        }

        package func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
            try unsafe inner.read(into: buffer, at: offset)
        }

        package func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
            let hook = writeHook.withLock { hook in
                defer { hook = nil }
                return hook
            }
            hook?()
            do {
                try unsafe inner.write(bytes, at: offset)
            } catch {
                noteRefusal(error)
                throw error
            }
            checkBudget(after: "write of \(bytes.count) bytes at \(offset)")
            let zone = Int(offset / info.zoneSize)
            log.append(.write(zone: zone, offset: offset - info.zoneStart(zone), bytes: bytes.count))
        }

        package func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError)
            -> UInt64
        {
            try unsafe inner.append(bytes, toZoneAt: zoneStart)
        }

        package func flush() throws(ZonedStorageError) { try inner.flush() }

        package func close() throws(ZonedStorageError) { try inner.close() }
    }

    // MARK: - Generation store

    /// A `BucketGenerationStore` that logs every persist, runs a check inside it (to look at the
    /// zone while the allocator waits for durability), and fails on demand.
    package final class RecordingGenerationStore: BucketGenerationStore {
        package struct InjectedFailure: Error, CustomStringConvertible {
            package var description: String { "injected generation store failure" }
        }

        private let log: EventLog
        private let saved = Mutex<[Int: BucketGeneration]>([:])
        private let failing = Atomic<Bool>(false)
        private let check: Mutex<(@Sendable (BucketIndex, BucketGeneration) -> Void)?> = Mutex(nil)
        private let batches = Mutex<[Int]>([])

        package init(log: EventLog) { self.log = log }

        /// The size of each batch persisted with ``persist(_:)`` (one entry per call).
        package var batchSizes: [Int] { batches.withLock { $0 } }

        /// While true, every persist throws ``InjectedFailure`` (nothing is saved or logged).
        package var isFailing: Bool {
            get { failing.load(ordering: .relaxed) }
            set { failing.store(newValue, ordering: .relaxed) }
        }

        /// Runs `check` inside every persist, before the generation is saved.
        package func onPersist(_ check: (@Sendable (BucketIndex, BucketGeneration) -> Void)?) {
            self.check.withLock { $0 = check }
        }

        /// The generation last persisted for `bucket`.
        package func generation(of bucket: BucketIndex) -> BucketGeneration? { saved.withLock { $0[bucket.zone] } }

        package func loadGenerations(bucketCount: Int) throws -> [BucketGeneration]? {
            saved.withLock { saved in
                saved.isEmpty ? nil : (0..<bucketCount).map { saved[$0] ?? BucketGeneration(rawValue: 0) }
            }
        }

        package func persist(_ generation: BucketGeneration, of bucket: BucketIndex) throws {
            if isFailing { throw InjectedFailure() }
            check.withLock { $0 }?(bucket, generation)
            saved.withLock { $0[bucket.zone] = generation }
            log.append(.persist(zone: bucket.zone, generation: generation.rawValue))
        }

        package func persist(_ generations: [(bucket: BucketIndex, generation: BucketGeneration)]) throws {
            if isFailing { throw InjectedFailure() }
            batches.withLock { $0.append(generations.count) }
            for (bucket, generation) in generations { try persist(generation, of: bucket) }
        }
    }

    // MARK: - Copygc stand-in

    /// A copygc trigger that does nothing but count kicks: tests that need space delete data.
    package final class NoopCopygc: CopygcTrigger {
        private let count = Atomic<Int>(0)

        package init() {}

        package func kickCopygc(reason: String) { count.add(1, ordering: .relaxed) }

        /// How many times copygc was kicked.
        package var kicks: Int { count.load(ordering: .relaxed) }
    }

    // MARK: - Threads

    /// Runs `body(i)` on `count` separate threads and waits for all of them.
    package static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                body(index)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
    }

    /// Seconds since `start` on the monotonic clock.
    package static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
