import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

/// Damaged metadata: `open` fails with a clear error or recovers a state the store held; it
/// never crashes and never returns data that was not written.
@Suite struct ZoneStoreCorruptionTests {
    /// A store with some history (overwrites, deletes, a checkpoint), closed; returns every value
    /// ever written per key.
    static func populated(_ geometry: EmulatedGeometry = StoreFixtures.small) throws -> (
        EmulatedDevice, [StoreKey: [[UInt8]]], ZoneStore
    ) {
        let device = try StoreFixtures.device(geometry)
        try ZoneStore.format(device)
        let store = try ZoneStore.open(device, options: StoreFixtures.options(checkpointInterval: 48 << 10))
        var written: [StoreKey: [[UInt8]]] = [:]
        var workload = StoreWorkload(seed: 99, keys: 16, maximumLength: 9000)
        for _ in 0..<200 {
            switch workload.next() {
            case .put(let key, let seed, let length, let durability):
                let value = StoreWorkload.value(seed: seed, length: length)
                try store.put(key, value, durability: durability)
                written[key, default: []].append(value)
            case .delete(let key, let durability):
                try store.delete(key, durability: durability)
            case .sync, .collect:
                try store.sync()
            }
        }
        try store.close()
        return (device, written, store)
    }

    /// Opens the store and checks every value it returns was written under its key.
    static func expectNoWrongData(_ device: EmulatedDevice, _ written: [StoreKey: [[UInt8]]], _ context: String) {
        let store: ZoneStore
        do {
            store = try ZoneStore.open(device, options: StoreFixtures.options(copygcOnDemand: false))
        } catch {
            #expect(!error.message.isEmpty, "\(context)")
            return
        }
        defer { try? store.close() }
        for key in store.list() {
            do {
                let value = try store.get(key)
                #expect(
                    written[key]?.contains(value) == true,
                    "\(context): \(key) returned data never written under it"
                )
            } catch {
                #expect([.checksumMismatch, .device, .evicted].contains(error.code), "\(context): \(error)")
            }
        }
    }

    /// Rewrites zone `zone` with `change` applied to its written bytes (a sequential zone can
    /// only be changed by a reset and a rewrite).
    static func rewrite(_ device: EmulatedDevice, zone: Int, _ change: (inout [UInt8]) -> Void) throws {
        let descriptor = try device.zone(zone)
        let length =
            descriptor.condition == .full || descriptor.type == .conventional
            ? Int(descriptor.capacity) : Int(descriptor.writtenBytes)
        guard length > 0 else { return }
        var bytes = try device.read(count: length, at: descriptor.start)
        change(&bytes)
        if descriptor.type == .conventional {
            try device.write(bytes, at: descriptor.start)
        } else {
            try device.resetZone(zone)
            if !bytes.isEmpty { try device.write(bytes, at: descriptor.start) }
        }
        try device.flush()
    }

    @Test func zeroedSuperblockIsNotAStore() throws {
        let (device, _, _) = try Self.populated()
        try Self.rewrite(device, zone: 0) { bytes in
            for index in 0..<min(bytes.count, 8192) { bytes[index] = 0 }
        }
        let error = try #require(throws: StoreError.self) { try ZoneStore.open(device) }
        #expect(error.code == .notAStore)
        #expect(error.message.contains("no zonealloc store"))
    }

    @Test func damagedSuperblockSlotsAreReportedOrTheOtherSlotIsUsed() throws {
        let (device, written, _) = try Self.populated()
        try Self.rewrite(device, zone: 0) { bytes in bytes[100] ^= 0xFF }
        Self.expectNoWrongData(device, written, "one slot damaged")
        try Self.rewrite(device, zone: 0) { bytes in
            bytes[100] ^= 0x01
            bytes[4096 + 100] ^= 0x01
        }
        let error = try #require(throws: StoreError.self) { try ZoneStore.open(device) }
        #expect(error.code == .corrupt)
        #expect(error.message.contains("superblock"))
    }

    @Test(arguments: 0..<60)
    func bitFlipsInMetadataNeverYieldWrongData(seed: Int) throws {
        let (device, written, store) = try Self.populated()
        var rng = SeededRandom(seed: UInt64(seed))
        // Flip bits in a journal bucket, or anywhere in a written zone.
        let journalZones = store.journalZoneIndexes
        let candidates = device.inspectZones().filter { $0.isSequential && $0.condition != .empty }.map(\.index)
        let zone = rng.chance(2, in: 3) && !journalZones.isEmpty ? rng.pick(journalZones) : rng.pick(candidates)
        try Self.rewrite(device, zone: zone) { bytes in
            for _ in 0..<rng.int(in: 1...8) {
                let index = rng.int(in: 0..<bytes.count)
                bytes[index] ^= UInt8(1 << rng.int(in: 0..<8))
            }
        }
        Self.expectNoWrongData(device, written, "seed \(seed), zone \(zone)")
    }

    @Test(arguments: 0..<20)
    func truncatedJournalRecoversOrFailsClearly(seed: Int) throws {
        let (device, written, store) = try Self.populated()
        var rng = SeededRandom(seed: UInt64(seed) + 1000)
        let zone = try #require(store.journalZoneIndexes.last)
        let descriptor = try device.zone(zone)
        let keep = rng.int(in: 0..<max(1, Int(descriptor.writtenBytes) / 4096)) * 4096
        try Self.rewrite(device, zone: zone) { bytes in bytes = Array(bytes.prefix(keep)) }
        Self.expectNoWrongData(device, written, "seed \(seed), journal zone \(zone) cut to \(keep) bytes")
    }
}
