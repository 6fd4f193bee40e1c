import Synchronization
import ZoneAlloc
public import ZonedStorage

/// What `fsck` found (and repaired), in plain words.
public struct FsckReport: Sendable, Hashable {
    /// One finding.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        /// How serious it is.
        public enum Severity: String, Sendable, Hashable, Codable {
            /// An invariant is broken, or data is damaged or lost.
            case problem
            /// Not an error: something recovery or the next open handles (a torn journal tail,
            /// an interrupted reset), or a fact worth knowing.
            case note
            /// Fixed by `--repair`.
            case repaired
        }

        /// How serious it is.
        public var severity: Severity
        /// What was found, in plain words.
        public var message: String

        public var description: String { "\(severity.rawValue): \(message)" }
    }

    /// Everything found, in the order it was found.
    public var findings: [Finding] = []
    /// Keys in the recovered index.
    public var keys = 0
    /// Extents checked.
    public var extents = 0
    /// Bytes read and verified against their checksums.
    public var bytesVerified: UInt64 = 0
    /// Zones checked.
    public var zones = 0

    /// Whether no problem was found (notes and repairs do not count).
    public var isClean: Bool { !findings.contains { $0.severity == .problem } }

    mutating func problem(_ message: String) { findings.append(Finding(severity: .problem, message: message)) }
    mutating func note(_ message: String) { findings.append(Finding(severity: .note, message: message)) }
    mutating func repaired(_ message: String) { findings.append(Finding(severity: .repaired, message: message)) }
}

/// `zonealloc fsck`: checks every invariant of the architecture (docs/architecture.md) that can be
/// checked against the device, without changing it; with `repair`, fixes what can be fixed
/// without losing acknowledged data and checks again.
enum StoreChecker {
    static func check(_ device: any ZonedDevice, repair: Bool, options: OpenOptions) throws(StoreError) -> FsckReport {
        var report = try inspect(device)
        guard repair, !report.findings.isEmpty else { return report }
        // Opening completes interrupted resets and finishes, drops the unacknowledged journal
        // tail for good and writes a fresh superblock; a checkpoint then compacts the journal
        // (and makes dropped lost values final); a second superblock write refreshes both slots.
        let store = try ZoneStore.open(device, options: options)
        do {
            try store.checkpoint()
            try store.rewriteSuperblock()
            try store.allocator.reclaimEmptyBuckets()
        } catch let error as StoreError {
            try? store.close()
            throw error
        } catch {
            try? store.close()
            throw StoreError(code: .failed, message: "repair failed: \(error)")
        }
        try store.close()
        let before = report.findings
        report = try inspect(device)
        let fixed = before.filter { $0.severity != .repaired && !report.findings.contains($0) }
        report.findings = fixed.map { FsckReport.Finding(severity: .repaired, message: $0.message) } + report.findings
        return report
    }

    /// The read-only checks.
    static func inspect(_ device: any ZonedDevice) throws(StoreError) -> FsckReport {
        var report = FsckReport()
        let zones = try ZoneStore.report(device)
        report.zones = zones.count
        guard let log = SuperblockLog(device: device, zones: zones) else {
            throw StoreError(code: .notAStore, message: "\(device.path) has too few zones to hold a zonealloc store")
        }
        // Superblock.
        let found = try log.read()
        for damage in found.damaged { report.problem("\(damage); --repair writes fresh superblocks") }
        if let stale = found.maybeStale {
            report.problem(
                "the newest superblock may be lost (\(stale)); the one found may name freed journal buckets"
            )
        }
        guard let superblock = found.newest else {
            throw StoreError(
                code: found.sawMagic ? .corrupt : .notAStore,
                message: found.sawMagic
                    ? "no valid superblock on \(device.path): \(found.damaged.joined(separator: "; "))"
                    : "\(device.path) holds no zonealloc store (no superblock)"
            )
        }
        let info = device.info
        let buckets = zones.filter { $0.isSequential && !log.hiddenZones.contains($0.index) }
        let capacity = buckets.first?.capacity ?? 0
        // Invariant 1: a bucket is one sequential zone, all of one capacity.
        if !buckets.allSatisfy({ $0.capacity == capacity }) {
            report.problem("the sequential zones have different capacities; every bucket must be one zone of one size")
        }
        if superblock.zoneCapacity != capacity || superblock.zoneSize != info.zoneSize
            || superblock.zoneCount != UInt32(zones.count)
        {
            report.problem(
                "the superblock describes \(superblock.zoneCount) zones of \(superblock.zoneSize) bytes with capacity "
                    + "\(superblock.zoneCapacity), the device has \(zones.count) of \(info.zoneSize) with capacity \(capacity)"
            )
            return report
        }
        if superblock.chains.count > 4 {
            report.note("the journal has \(superblock.chains.count) chains (one per open since the last checkpoint)")
        }
        // Journal replay (read-only).
        let recovered: Recovery.Result
        do {
            recovered = try Recovery(
                superblock: superblock,
                device: device,
                zones: zones,
                bucketSectors: Int(capacity) / DataPointer.sectorSize
            ).run()
        } catch {
            report.problem("the journal cannot be replayed: \(error.message)")
            return report
        }
        report.keys = recovered.index.count
        // "journal ends: …" is where every open chain ends; only the unusual is reported.
        for note in recovered.notes where !note.contains("values point where") && !note.hasPrefix("journal ends") {
            report.note(note)
        }
        for key in recovered.lostKeys {
            report.problem("\(key): its data is gone from the device (the zone was reset, lost or went offline)")
        }
        // Invariants 2-4 per bucket: extents below the write pointer, at the bucket's generation,
        // not overlapping; non-empty buckets hold something live or are reclaimable.
        let journalZones = Set(recovered.journalBuckets.map(\.bucket.zone))
        var extentsByZone: [Int: [(StoreKey, StoredExtent)]] = [:]
        for (key, entry) in recovered.index where !entry.isEvictedMarker {
            for extent in entry.extents { extentsByZone[extent.pointer.bucket.zone, default: []].append((key, extent)) }
        }
        let reader = JournalReader(device: device, uuid: superblock.uuid, zones: zones)
        for zone in buckets {
            let live = (extentsByZone[zone.index] ?? []).sorted { $0.1.pointer.offset < $1.1.pointer.offset }
            let generation = recovered.generations[zone.index]
            let written = reader.readableEnd(of: zone.index)
            if zone.condition.hasValidWritePointer, zone.writePointer > zone.start + zone.capacity {
                report.problem("zone \(zone.index): write pointer beyond its capacity")
            }
            if zone.condition == .offline || zone.condition == .readOnly {
                if !live.isEmpty {
                    report.problem(
                        "zone \(zone.index) is \(zone.condition.kernelName) and holds \(live.count) extents of values "
                            + "(\(live.prefix(3).map(\.0.description).joined(separator: ", "))…)"
                    )
                } else {
                    report.note("zone \(zone.index) is \(zone.condition.kernelName): not used as a bucket")
                }
                continue
            }
            if journalZones.contains(zone.index) {
                if !live.isEmpty { report.problem("zone \(zone.index) holds the journal and extents of values") }
                continue
            }
            var end: UInt32 = 0
            for (key, extent) in live {
                let pointer = extent.pointer
                if pointer.generation.rawValue != generation {
                    if pointer.isCached { continue }
                    report.problem(
                        "\(key): extent \(pointer) carries generation \(pointer.generation.rawValue), its bucket is at "
                            + "\(generation): a stale pointer is referenced as live"
                    )
                    continue
                }
                let pointerEnd = UInt64(pointer.offset + pointer.sectors) * UInt64(DataPointer.sectorSize)
                if pointerEnd > written {
                    report.problem("\(key): extent \(pointer) reaches past the write pointer of zone \(zone.index)")
                }
                if pointer.offset < end {
                    report.problem("\(key): extent \(pointer) overlaps another extent in zone \(zone.index)")
                }
                end = max(end, pointer.offset + pointer.sectors)
            }
            if live.isEmpty, zone.condition != .empty {
                report.note(
                    "zone \(zone.index) is \(zone.condition.kernelName) but holds nothing live (an interrupted reset, or "
                        + "data written after the last durable journal record); --repair or the next open resets it"
                )
            }
        }
        // Invariant 5: zone resources within the device's limits.
        let open = zones.filter { $0.condition.isOpen }.count
        let active = zones.filter { $0.condition.isActive }.count
        if let limit = info.maxActiveZones.value, active > limit {
            report.problem("\(active) zones are active, above the device's limit of \(limit)")
        }
        if let limit = info.maxOpenZones.value, open > limit {
            report.problem("\(open) zones are open, above the device's limit of \(limit)")
        }
        // Invariant 8: every acknowledged value reads back with a valid checksum.
        for (key, entry) in recovered.index.sorted(by: { $0.key < $1.key }) where !entry.isEvictedMarker {
            for extent in entry.extents
            where extent.pointer.generation.rawValue
                == recovered.generations[extent.pointer.bucket.zone]
            {
                report.extents += 1
                let offset =
                    UInt64(extent.pointer.bucket.zone) * info.zoneSize
                    + UInt64(extent.pointer.offset) * UInt64(DataPointer.sectorSize)
                do {
                    let data = try device.read(count: extent.pointer.byteCount, at: offset)
                    if Checksum.of(data) != extent.checksum {
                        report.problem(
                            "\(key): checksum mismatch in zone \(extent.pointer.bucket.zone) at offset \(offset) "
                                + "(\(extent.pointer.byteCount) bytes): the device returned different data"
                        )
                    } else {
                        report.bytesVerified += UInt64(data.count)
                    }
                } catch {
                    report.problem(
                        "\(key): reading zone \(extent.pointer.bucket.zone) at offset \(offset) failed: \(error)"
                    )
                }
            }
        }
        return report
    }
}

extension ZoneStore {
    /// Checks the store on `device` against every invariant that can be checked on the device:
    /// superblock copies, journal replay, buckets against write pointers and generations,
    /// overlapping extents, zone resources, and every value's checksum.
    ///
    /// - Parameters:
    ///   - device: the device (not open as a store).
    ///   - repair: fix what can be fixed without losing acknowledged data (complete interrupted
    ///     resets and finishes, drop the unacknowledged journal tail, rewrite damaged superblocks,
    ///     compact the journal), then check again.
    ///   - options: options for opening the store when repairing.
    /// - Returns: the findings.
    /// - Throws: ``StoreError`` `.notAStore` / `.corrupt` when no superblock can be read, `.device`
    ///   when the device fails.
    public static func check(
        _ device: any ZonedDevice,
        repair: Bool = false,
        options: OpenOptions = OpenOptions()
    ) throws(StoreError) -> FsckReport {
        try StoreChecker.check(device, repair: repair, options: options)
    }

    /// Writes the superblock again (with the next sequence number): with conventional placement
    /// this refreshes the other slot too.
    package func rewriteSuperblock() throws(StoreError) {
        try writeSuperblock()
    }
}
