import Synchronization
import ZoneAlloc
import ZonedStorage

/// Reads and writes the superblock on the raw device (FORMAT.md, "Superblock").
///
/// Placement is decided by the geometry alone, so `open` finds it without reading anything:
/// the first zone when it is conventional (two slots, written alternately, so a torn write
/// leaves the other), else the first two sequential zones as a log (btrfs zoned's superblock
/// log): records are appended at one zone's write pointer; when it is full, the other zone is
/// reset and written from its start. The valid record with the highest sequence number wins.
final class SuperblockLog: Sendable {
    let device: any ZonedDevice
    let placement: Superblock.Placement
    /// The zones holding the superblock (the same zone twice for conventional placement).
    let zones: [Int]
    let recordSize: Int

    private struct State: Sendable {
        /// Sequential placement: which of ``zones`` holds the newest record, and where the
        /// next record goes in it.
        var current = 0
        var nextOffset: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The superblock layout of `device`, or nil when it has too few zones.
    init?(device: any ZonedDevice, zones report: [Zone]) {
        self.device = device
        self.recordSize = Superblock.recordSize(blockSize: device.info.logicalBlockSize)
        if let first = report.first, first.type == .conventional, first.capacity >= UInt64(2 * recordSize) {
            placement = .conventional
            zones = [first.index, first.index]
        } else {
            let sequential = report.filter(\.isSequential).prefix(2).map(\.index)
            guard sequential.count == 2 else { return nil }
            placement = .sequentialPair
            zones = sequential
        }
    }

    /// The zones the allocator must not use as buckets (the sequential pair), empty for
    /// conventional placement.
    var hiddenZones: Set<Int> { placement == .sequentialPair ? Set(zones) : [] }

    /// What reading the superblock found.
    struct ReadResult: Sendable {
        /// The newest valid record.
        var newest: Superblock?
        /// Records that carried the magic but were damaged (checksum, version), in words.
        var damaged: [String]
        /// Whether any record slot held the magic at all.
        var sawMagic: Bool
        /// Why ``newest`` may be older than the last superblock written (sequential log only):
        /// damaged records that may be newer than it, beyond the one a torn write leaves, or the
        /// other zone of the pair offline. Nil when nothing suggests that.
        var maybeStale: String?
    }

    /// Reads every record slot and returns the newest valid superblock.
    ///
    /// - Throws: ``StoreError`` `.device` when the device cannot be read.
    func read() throws(StoreError) -> ReadResult {
        var result = ReadResult(newest: nil, damaged: [], sawMagic: false)
        // Sequential log: per zone of the pair, the offsets of damaged records and of valid ones.
        var damagedAt: [[UInt64]] = [[], []]
        var validAt: [[UInt64]] = [[], []]
        var newestZone = 0
        var newestEnd: UInt64 = 0
        let report: [Zone]
        do {
            report = try zones.map { (index) throws(ZonedStorageError) -> Zone in try device.zone(index) }
        } catch {
            throw StoreError.device(error, "cannot report the superblock zones of \(device.path)")
        }
        for (position, zone) in report.enumerated() {
            if placement == .conventional, position == 1 { break }
            let slots: [UInt64]
            switch placement {
            case .conventional:
                slots = [zone.start, zone.start + UInt64(recordSize)]
            case .sequentialPair:
                let end: UInt64 =
                    switch zone.condition {
                    case .full: zone.start + zone.capacity
                    case .readOnly: zone.start + zone.capacity
                    case .offline: zone.start
                    default: zone.writePointer
                    }
                slots = Array(stride(from: zone.start, to: end, by: recordSize)).filter {
                    $0 + UInt64(recordSize) <= end
                }
            }
            for offset in slots {
                // A slot that cannot be read might hold the newest record: never fall back to an
                // older one, fail instead (once more first, for a transient error).
                let bytes: [UInt8]
                do {
                    bytes = try device.read(count: recordSize, at: offset)
                } catch {
                    do {
                        bytes = try device.read(count: recordSize, at: offset)
                    } catch {
                        throw StoreError.device(
                            error,
                            "the superblock slot at offset \(offset) of \(device.path) cannot be read; the store is "
                                + "not opened, so that an older superblock is never used in its place"
                        )
                    }
                }
                switch Superblock.decode(bytes) {
                case .success(let superblock):
                    result.sawMagic = true
                    validAt[position].append(offset)
                    if superblock.sequence >= (result.newest?.sequence ?? 0) {
                        result.newest = superblock
                        newestZone = position
                        newestEnd = offset + UInt64(recordSize)
                    }
                case .failure(.noMagic):
                    continue
                case .failure(.damaged(let why)):
                    result.sawMagic = true
                    result.damaged.append("superblock slot at \(offset): \(why)")
                    damagedAt[position].append(offset)
                case .failure(.unsupportedVersion(let version)):
                    result.sawMagic = true
                    result.damaged.append("superblock slot at \(offset) has format version \(version)")
                    damagedAt[position].append(offset)
                }
            }
        }
        if placement == .sequentialPair, result.newest != nil {
            // Records are appended in one zone until it is full, then the other is reset and
            // written from its start; every superblock is written twice. So records newer than
            // the newest valid one can only be damaged ones after it in its zone, or those of
            // the other zone if it holds no valid record. One of them is a torn write (the change
            // it records never completed); more mean that a whole superblock write was lost.
            let other = 1 - newestZone
            let newestOffset = newestEnd - UInt64(recordSize)
            let newer =
                damagedAt[newestZone].filter { $0 > newestOffset }.count
                + (validAt[other].isEmpty ? damagedAt[other].count : 0)
            if newer > 1 {
                result.maybeStale =
                    "\(newer) damaged superblock records may be newer than the newest valid one (sequence "
                    + "\(result.newest!.sequence))"
            } else if report[other].condition == .offline {
                result.maybeStale =
                    "superblock zone \(zones[other]) is offline and may have held newer records than sequence "
                    + "\(result.newest!.sequence)"
            }
        }
        if placement == .sequentialPair {
            state.withLock { state in
                state.current = newestZone
                // A torn record after the newest one: the write pointer is past it.
                let zone = report[newestZone]
                state.nextOffset = zone.condition.hasValidWritePointer ? zone.writePointer : newestEnd
            }
        }
        return result
    }

    /// Writes `superblock` twice — with its sequence number, then with the next — flushing the
    /// device after each, so both conventional slots (or the last two log records) hold the same
    /// chains: when one copy is later damaged, the other describes the same journal. (A copy torn
    /// by a crash during the first write falls back to the previous superblock, which is right:
    /// the change it records had not completed.)
    ///
    /// - Returns: the superblock as last written (sequence number + 1).
    /// - Throws: ``StoreError`` `.device` when a write, reset or flush fails.
    @discardableResult
    func write(_ superblock: Superblock) throws(StoreError) -> Superblock {
        var record = superblock
        try writeOnce(record)
        record.sequence += 1
        try writeOnce(record)
        return record
    }

    private func writeOnce(_ superblock: Superblock) throws(StoreError) {
        let bytes = superblock.encode()
        precondition(bytes.count == recordSize, "superblock record of \(bytes.count) bytes, expected \(recordSize)")
        let info = device.info
        do {
            switch placement {
            case .conventional:
                let offset = info.zoneStart(zones[0]) + UInt64(superblock.sequence % 2) * UInt64(recordSize)
                try device.write(bytes, at: offset)
                try device.flush()
            case .sequentialPair:
                let (zoneIndex, offset) = try placeSequential()
                try device.write(bytes, at: offset)
                try device.flush()
                let zone = try device.zone(zoneIndex)
                if zone.condition.isOpen { try device.closeZone(zoneIndex) }
                state.withLock { $0.nextOffset = offset + UInt64(recordSize) }
            }
        } catch {
            throw StoreError.device(error, "writing superblock \(superblock.sequence) to \(device.path) failed")
        }
    }

    /// Where the next record of the sequential log goes: after the newest record, or at the
    /// start of the other zone (reset first) when the current one is full.
    private func placeSequential() throws(ZonedStorageError) -> (Int, UInt64) {
        let (current, next) = state.withLock { ($0.current, $0.nextOffset) }
        let zone = try device.zone(zones[current])
        let end = zone.start + zone.capacity
        if zone.condition.hasValidWritePointer, zone.writePointer == next, next + UInt64(recordSize) <= end {
            return (zones[current], next)
        }
        let other = 1 - current
        try device.resetZone(zones[other])
        state.withLock { state in
            state.current = other
            state.nextOffset = device.info.zoneStart(zones[other])
        }
        return (zones[other], device.info.zoneStart(zones[other]))
    }

    /// Erases the superblock: zeroes the conventional slots or resets the sequential pair.
    func erase() throws(StoreError) {
        do {
            switch placement {
            case .conventional:
                let zeros = [UInt8](repeating: 0, count: 2 * recordSize)
                try device.write(zeros, at: device.info.zoneStart(zones[0]))
            case .sequentialPair:
                for zone in zones { try device.resetZone(zone) }
                state.withLock { state in
                    state.current = 0
                    state.nextOffset = device.info.zoneStart(zones[0])
                }
            }
            try device.flush()
        } catch {
            throw StoreError.device(error, "erasing the superblock of \(device.path) failed")
        }
    }
}
