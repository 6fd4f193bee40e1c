import Foundation
import Logging
import Synchronization
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

/// Devices, data and checks shared by the store tests.
enum StoreFixtures {
    /// 40 zones of 64 KiB with 48 KiB capacity (12 blocks), 1 conventional (superblock slots),
    /// 4096-byte blocks, max open 6, max active 8.
    static let small = EmulatedGeometry(
        zoneCount: 40,
        zoneSize: 64 << 10,
        zoneCapacity: 48 << 10,
        conventionalZones: 1,
        logicalBlockSize: 4096,
        maxOpenZones: 6,
        maxActiveZones: 8
    )

    /// ``small`` without conventional zones: the superblock is a log in two sequential zones.
    static let noConventional = EmulatedGeometry(
        zoneCount: 40,
        zoneSize: 64 << 10,
        zoneCapacity: 48 << 10,
        conventionalZones: 0,
        logicalBlockSize: 4096,
        maxOpenZones: 6,
        maxActiveZones: 8
    )

    /// Larger zones for values spanning buckets: 24 zones of 1 MiB, capacity 768 KiB.
    static let wide = EmulatedGeometry(
        zoneCount: 24,
        zoneSize: 1 << 20,
        zoneCapacity: 768 << 10,
        conventionalZones: 1,
        logicalBlockSize: 4096,
        maxOpenZones: 8,
        maxActiveZones: 10
    )

    /// A memory-backed device with a volatile write cache (unflushed writes are lost on power loss).
    static func device(_ geometry: EmulatedGeometry = small) throws -> EmulatedDevice {
        try EmulatedDevice(geometry: geometry, storage: .memory, options: .init(writeCache: .volatile))
    }

    /// Options for tests: short waits, checkpoints every `checkpointInterval` bytes of journal.
    static func options(checkpointInterval: Int? = nil, copygcOnDemand: Bool = true) -> OpenOptions {
        var options = OpenOptions(allocationWaitLimit: 2, checkpointInterval: checkpointInterval)
        options.copygcOnDemand = copygcOnDemand
        options.logger.logLevel = .warning
        return options
    }

    /// A formatted, opened store on a fresh memory device.
    static func store(
        _ geometry: EmulatedGeometry = small,
        options: OpenOptions = options()
    ) throws -> (EmulatedDevice, ZoneStore) {
        let device = try device(geometry)
        try ZoneStore.format(device)
        return (device, try ZoneStore.open(device, options: options))
    }

    /// Fragments `store` (on ``small``: 4 values of 12 KiB per 48 KiB bucket): puts 40 seeded
    /// values, deletes every other one and syncs, leaving ten buckets half dead for copygc.
    /// Returns the model (key → value).
    static func fragment(_ store: ZoneStore, seed: UInt64) throws -> [StoreKey: [UInt8]] {
        var model: [StoreKey: [UInt8]] = [:]
        for index in 0..<40 {
            let key = StoreKey("k\(index)")
            let value = Self.value(seed: seed &+ UInt64(index), count: 12 << 10)
            try store.put(key, value, durability: .buffered)
            model[key] = value
        }
        for index in stride(from: 0, to: 40, by: 2) {
            try store.delete(StoreKey("k\(index)"), durability: .buffered)
            model[StoreKey("k\(index)")] = nil
        }
        try store.sync()
        return model
    }

    /// `count` bytes determined by `seed` (and nothing else), so a value can be checked later.
    static func value(seed: UInt64, count: Int) -> [UInt8] {
        var rng = SeededRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            let word = rng.next()
            for shift in stride(from: 0, to: 64, by: 8) where index < count {
                bytes[index] = UInt8(truncatingIfNeeded: word >> UInt64(shift))
                index += 1
            }
        }
        return bytes
    }

    /// Checks the store against `model` (key → value, nil for deleted): every value reads back,
    /// nothing else is listed.
    static func expectMatches(_ store: ZoneStore, _ model: [StoreKey: [UInt8]], seed: UInt64 = 0) throws -> [String] {
        var problems: [String] = []
        let listed = Set(store.list())
        for (key, value) in model {
            do {
                let read = try store.get(key)
                if read != value {
                    problems.append("\(key): read \(read.count) bytes that differ from the \(value.count) written")
                }
            } catch {
                problems.append("\(key): \(error)")
            }
        }
        for key in listed where model[key] == nil { problems.append("\(key) is listed but was deleted") }
        return problems
    }

    /// The allocator's accounting agrees with the store: invariant checks, device consistency.
    static func invariantProblems(_ store: ZoneStore) throws -> [String] {
        store.allocator.checkInvariants()
        return try store.allocator.deviceMismatches() + store.consistencyProblems()
    }
}
