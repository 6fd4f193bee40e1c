import Logging
import ZoneAlloc
import ZonedStorage

/// The store's decoders of on-disk bytes, as entry points for the fuzz targets (`make fuzz`,
/// Fuzz/ZoneFuzz) and their regression tests (Tests/ZoneStoreTests/DecoderRegressionTests).
///
/// Each entry point decodes untrusted bytes the way `open` and `fsck` do and checks what it can
/// of the result: a record that decodes must encode back to bytes that decode to the same record.
/// None of them may trap on any input; a trap here is a bug in a decoder (or in a check that
/// trusts decoded values). With `repairChecksum`, the magic and checksum are made valid before
/// decoding, so that a fuzzer reaches the code behind the checksum check (a checksum protects
/// against torn writes and bit rot, not against metadata that is wrong from the start).
package enum StoreDecoders {
    // MARK: - Superblock

    /// Decodes `input` as a superblock record (FORMAT.md, "Superblock").
    ///
    /// - Parameters:
    ///   - input: the record's bytes.
    ///   - repairChecksum: write the magic and a valid checksum first (a record size field that is
    ///     not valid becomes 4096).
    /// - Returns: whether the bytes are a valid superblock.
    @discardableResult
    package static func superblock(_ input: [UInt8], repairChecksum: Bool) -> Bool {
        var bytes = input
        if repairChecksum, bytes.count >= 4096 {
            for (index, byte) in Superblock.magic.enumerated() { bytes[index] = byte }
            var reader = ByteReader(bytes, from: 12)
            var size = Int(reader.u32())
            if size < 4096 || size % 512 != 0 || size > bytes.count {
                size = 4096
                patch(&bytes, u32: UInt32(size), at: 12)
            }
            patch(&bytes, u64: Checksum.of(bytes, 0..<(size - 8)), at: size - 8)
        }
        guard case .success(let decoded) = Superblock.decode(bytes) else { return false }
        let encoded = decoded.encode()
        precondition(encoded.count == decoded.recordSize, "a decoded superblock re-encodes to \(encoded.count) bytes")
        guard case .success(let again) = Superblock.decode(encoded), again == decoded else {
            preconditionFailure("a decoded superblock does not survive encoding: \(decoded)")
        }
        return true
    }

    // MARK: - Journal

    /// Decodes `input` as one journal group (FORMAT.md, "Journal groups") and its records.
    ///
    /// - Parameters:
    ///   - input: the group's bytes, header first.
    ///   - repairChecksum: write the magic and a valid checksum first (when the header's lengths
    ///     fit in `input`).
    /// - Returns: the number of records of a valid group, nil when the bytes are not one.
    @discardableResult
    package static func journalGroup(_ input: [UInt8], repairChecksum: Bool) -> Int? {
        var bytes = input
        if repairChecksum, bytes.count >= LogGroup.headerSize {
            for (index, byte) in LogGroup.magic.enumerated() { bytes[index] = byte }
            var reader = ByteReader(bytes, from: 44)
            let payload = Int(reader.u32())
            let length = Int(reader.u32())
            if payload + LogGroup.headerSize <= length, length <= bytes.count {
                patch(&bytes, u64: LogGroup.checksum(of: bytes, payloadLength: payload), at: 56)
            }
        }
        guard let group = LogGroup.decodeHeader(bytes), group.verify(bytes), let records = group.records(bytes) else {
            return nil
        }
        precondition(
            records.count == Int(group.recordCount),
            "a group of \(group.recordCount) records decoded \(records.count)"
        )
        for (position, record) in records.enumerated() {
            checkRoundTrip(record, sequence: group.firstSequence + UInt64(position))
        }
        return records.count
    }

    /// Decodes `input` as a stream of journal records (a group's payload), up to the first one
    /// that is malformed.
    ///
    /// - Returns: the records decoded, each with the bytes it was decoded from.
    @discardableResult
    package static func journalRecords(_ input: [UInt8]) -> Int { decodeRecords(input).count }

    // MARK: - Replay

    /// What ``replay(_:checkpoint:)`` did with an input.
    package struct ReplayOutcome: Sendable, Hashable {
        /// Records written into the journal.
        package var records = 0
        /// Groups written.
        package var groups = 0
        /// Whether `fsck` (read-only) found the store clean; nil when it refused the device.
        package var fsckClean: Bool?
        /// The error code `open` failed with, nil when it opened.
        package var openFailure: String?
        /// Keys in the opened store.
        package var keys = 0
        /// Values that read back (their extents were on the device with matching checksums).
        package var valuesRead = 0
    }

    /// The device ``replay(_:checkpoint:)`` builds: 16 zones of 64 KiB (48 KiB capacity), one
    /// conventional zone for the superblock, 4096-byte blocks.
    static let replayGeometry = EmulatedGeometry(
        zoneCount: 16,
        zoneSize: 64 << 10,
        zoneCapacity: 48 << 10,
        conventionalZones: 1,
        logicalBlockSize: 4096,
        maxOpenZones: 6,
        maxActiveZones: 8
    )

    /// Recovery end to end on a journal made of `input`: formats a memory device, writes the
    /// records decoded from `input` into the journal as checksum-valid groups that continue the
    /// superblock's chain, then runs `fsck` (read-only) and `open`, reads every key back, stores
    /// one more value and closes. Whatever the records say, every step must either work or fail
    /// with a ``StoreError``, and a value that is read back must be the value that was stored.
    ///
    /// `input[0]` is a control byte: bits 0–1 choose how many zones hold data before the journal
    /// is written (so that extents can point at written data), bits 4–7 the records per group
    /// minus one. With `checkpoint`, the superblock names a checkpoint after record 99 and the
    /// chain starts at record 100 (a `checkpoint begin` record is added first when the input
    /// does not start with one), as after a checkpoint.
    ///
    /// - Returns: what happened.
    package static func replay(_ input: [UInt8], checkpoint: Bool) -> ReplayOutcome {
        var outcome = ReplayOutcome()
        let control = input.first ?? 0
        var decoded = decodeRecords(Array(input.dropFirst()))
        if checkpoint, decoded.first.map({ if case .checkpointBegin = $0.record { false } else { true } }) ?? true {
            var writer = ByteWriter()
            JournalRecord.checkpointBegin(entryCount: UInt64(decoded.count)).encode(into: &writer)
            decoded.insert((JournalRecord.checkpointBegin(entryCount: UInt64(decoded.count)), writer.bytes), at: 0)
        }
        guard let device = try? EmulatedDevice(geometry: replayGeometry, storage: .memory, options: .init()) else {
            preconditionFailure("the replay geometry is not valid")
        }
        do {
            try ZoneStore.format(device)
            let zones = try ZoneStore.report(device)
            guard let log = SuperblockLog(device: device, zones: zones), var superblock = try log.read().newest else {
                preconditionFailure("a freshly formatted device has no superblock")
            }
            let block = replayGeometry.logicalBlockSize
            // Data zones, after the journal's head bucket and the one it may continue in.
            let dataZones = Int(control & 3)
            for zone in 0..<dataZones {
                let index = 8 + zone
                let blocks = 1 + (zone * 5) % 12
                let data = (0..<(blocks * block)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
                try device.write(data, at: device.info.zoneStart(index))
            }
            // The journal: groups of records in the chain's head bucket, continuing in the next
            // buckets when one is full (its last block keeps the continuation group).
            let perGroup = Int(control >> 4) + 1
            let firstSequence: UInt64 = checkpoint ? 100 : 1
            var bucket = Int(superblock.chains[0].bucket)
            var offset = 0
            var sequence = firstSequence
            var position = 0
            let capacity = Int(replayGeometry.zoneCapacity)
            while position < decoded.count {
                var count = min(perGroup, decoded.count - position)
                var payload: [UInt8] = []
                for entry in decoded[position..<(position + count)] { payload += entry.bytes }
                var length = (LogGroup.headerSize + payload.count + block - 1) / block * block
                if length > capacity - block {
                    // Too large for one bucket: one record per group, or stop.
                    count = 1
                    payload = decoded[position].bytes
                    length = (LogGroup.headerSize + payload.count + block - 1) / block * block
                    if length > capacity - block { break }
                }
                if offset + length > capacity - block {
                    guard bucket + 1 < 8 else { break }
                    let continuation = LogGroup.encode(
                        uuid: superblock.uuid,
                        bucket: UInt32(bucket),
                        generation: 0,
                        kind: .continuation,
                        firstSequence: sequence,
                        recordCount: 0,
                        payload: [],
                        blockSize: block,
                        nextBucket: UInt32(bucket + 1),
                        nextGeneration: 0
                    )
                    try device.write(continuation, at: device.info.zoneStart(bucket) + UInt64(offset))
                    try device.finishZone(bucket)
                    bucket += 1
                    offset = 0
                    outcome.groups += 1
                }
                let group = LogGroup.encode(
                    uuid: superblock.uuid,
                    bucket: UInt32(bucket),
                    generation: 0,
                    kind: .records,
                    firstSequence: sequence,
                    recordCount: count,
                    payload: payload[...],
                    blockSize: block
                )
                try device.write(group, at: device.info.zoneStart(bucket) + UInt64(offset))
                offset += group.count
                sequence += UInt64(count)
                position += count
                outcome.records += count
                outcome.groups += 1
            }
            try device.flush()
            superblock.sequence += 1
            superblock.chains[0].firstSequence = firstSequence
            superblock.checkpointSequence = checkpoint ? firstSequence - 1 : 0
            try log.write(superblock)
        } catch {
            preconditionFailure("building the replay device failed: \(error)")
        }
        var options = OpenOptions(allocationWaitLimit: 0.05, copygcOnDemand: false)
        options.logger.logLevel = .critical
        do {
            outcome.fsckClean = try ZoneStore.check(device).isClean
        } catch {
            outcome.fsckClean = nil
        }
        let store: ZoneStore
        do {
            store = try ZoneStore.open(device, options: options)
        } catch {
            outcome.openFailure = "\(error.code)"
            return outcome
        }
        outcome.keys = store.count
        for key in store.list() {
            if (try? store.get(key)) != nil { outcome.valuesRead += 1 }
        }
        // The store must still take and return a value (or refuse it with a typed error).
        let probe = StoreKey("fuzz-probe")
        let value = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
        if (try? store.put(probe, value)) != nil {
            guard let read = try? store.get(probe), read == value else {
                preconditionFailure("a value stored after replaying a fuzzed journal does not read back")
            }
        }
        try? store.close()
        return outcome
    }

    // MARK: - Seeds

    /// Seed inputs for the fuzz targets, taken from a real store: superblock records, journal
    /// groups and record streams written by a workload with overwrites, deletes, cached values and
    /// a checkpoint. Keys are the fuzz targets' names.
    package static func seeds() throws(StoreError) -> [String: [[UInt8]]] {
        guard let device = try? EmulatedDevice(geometry: replayGeometry, storage: .memory, options: .init()) else {
            preconditionFailure("the replay geometry is not valid")
        }
        try ZoneStore.format(device)
        var options = OpenOptions(allocationWaitLimit: 0.5, copygcOnDemand: false)
        options.logger.logLevel = .critical
        var superblocks: [[UInt8]] = []
        var store = try ZoneStore.open(device, options: options)
        for round in 0..<3 {
            for index in 0..<6 {
                let value = (0..<(index * 1500 + round)).map { UInt8(truncatingIfNeeded: $0 &+ index) }
                try store.put(StoreKey("key-\(index)"), value, kind: index == 5 ? .cached : .dirty)
            }
            try store.delete(StoreKey("key-\(round)"))
            if round == 1 { try store.checkpoint() }
        }
        try store.close()
        superblocks.append((try? device.read(count: 4096, at: 0)) ?? [])
        store = try ZoneStore.open(device, options: options)
        try store.put(StoreKey("after-reopen"), [1, 2, 3])
        try store.close()
        superblocks.append((try? device.read(count: 4096, at: 4096)) ?? [])
        // Every journal group on the device: scan each zone's written data for group headers.
        var groups: [[UInt8]] = []
        let zones = (try? device.reportZones()) ?? []
        for zone in zones where zone.isSequential {
            var offset: UInt64 = 0
            let end = zone.condition == .full ? zone.capacity : zone.writtenBytes
            while offset + 4096 <= end {
                guard let header = try? device.read(count: 4096, at: zone.start + offset),
                    let group = LogGroup.decodeHeader(header), UInt64(group.groupLength) + offset <= end,
                    let bytes = try? device.read(count: Int(group.groupLength), at: zone.start + offset),
                    group.verify(bytes)
                else { break }
                groups.append(bytes)
                offset += UInt64(group.groupLength)
            }
        }
        var streams: [[UInt8]] = []
        for bytes in groups {
            guard let group = LogGroup.decodeHeader(bytes), group.kind == .records else { continue }
            let payload = Array(bytes[LogGroup.headerSize..<(LogGroup.headerSize + Int(group.payloadLength))])
            streams.append(payload)
        }
        let control: [UInt8] = [0x00, 0x13, 0x32, 0xF1]
        let replays = streams.enumerated().map { [control[$0.offset % control.count]] + $0.element }
        let checkpoints = streams.filter { stream in
            if case .checkpointBegin = decodeRecords(stream).first?.record { return true }
            return false
        }.map { [UInt8(0x11)] + $0 }
        return [
            "superblock": superblocks.flatMap { [[0] + $0, [1] + $0] },
            "journal": groups.flatMap { [[0] + $0, [1] + $0] } + streams.map { [2] + $0 },
            "recovery": replays,
            "checkpoint": checkpoints.isEmpty ? replays : checkpoints,
        ]
    }

    // MARK: - Helpers

    /// The records of `bytes`, each with its encoded bytes, up to the first malformed one.
    static func decodeRecords(_ bytes: [UInt8]) -> [(record: JournalRecord, bytes: [UInt8])] {
        var reader = ByteReader(bytes)
        var records: [(record: JournalRecord, bytes: [UInt8])] = []
        var sequence: UInt64 = 1
        while reader.remaining > 0 {
            let start = reader.position
            guard let record = JournalRecord.decode(&reader, sequence: sequence) else { break }
            checkRoundTrip(record, sequence: sequence)
            records.append((record, Array(bytes[start..<reader.position])))
            sequence += 1
        }
        return records
    }

    /// A decoded record must encode to bytes that decode to the same record.
    static func checkRoundTrip(_ record: JournalRecord, sequence: UInt64) {
        var writer = ByteWriter()
        record.encode(into: &writer)
        var reader = ByteReader(writer.bytes)
        let again = JournalRecord.decode(&reader, sequence: sequence)
        precondition(
            again == record && reader.remaining == 0,
            "journal record \(record) does not survive encoding: \(String(describing: again))"
        )
    }

    private static func patch(_ bytes: inout [UInt8], u32 value: UInt32, at offset: Int) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
    }

    private static func patch(_ bytes: inout [UInt8], u64 value: UInt64, at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }
}
