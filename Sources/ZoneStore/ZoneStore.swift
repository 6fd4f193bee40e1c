import Foundation
public import Logging
import Synchronization
public import ZoneAlloc
import ZoneGC
public import ZonedStorage

/// A keyed extent store on a zoned device: values are written through bcachefs's bucket
/// allocator (``ZoneAlloc/BucketAllocator``) into buckets that are zones, every extent carries
/// an XXH3-64 checksum, and an index of keys → extents is kept in memory and made durable by a
/// journal written through the allocator's metadata write point, with periodic checkpoints.
/// After a crash ``open(_:options:)`` replays the journal and lets the device's write pointers
/// decide what exists. The on-disk format is in FORMAT.md.
///
/// Thread safety: every method may be called from many threads at once. The index sits behind
/// one short lock that is never held across I/O; data is written and read outside it.
/// Concurrent durable changes share journal flushes (group commit).
///
/// The store does not own the device: close the store, then the device.
public final class ZoneStore: Sendable {
    /// The device the store was opened on.
    public let device: any ZonedDevice
    /// The allocator over the device's buckets.
    public let allocator: BucketAllocator
    /// The store's UUID (16 bytes).
    public let uuid: [UInt8]
    /// The logical block size: values are stored in whole blocks.
    public let blockSize: Int
    /// Bytes of one bucket (the zone capacity).
    public let bucketBytes: Int
    /// The largest value this store accepts (see ``StoreLimits``).
    public let maximumValueSize: Int
    /// What recovery found when the store was opened.
    public let recovery: RecoveryReport
    /// The logger.
    public let logger: Logger

    let storeDevice: StoreDevice
    let journal: JournalWriter
    let superblockLog: SuperblockLog
    let superblock: Mutex<Superblock>
    let state: Mutex<StoreState>
    let options: OpenOptions
    /// Totals since format as the superblock had them at open.
    let baseLifetime: LifetimeCounters
    let checkpointRunning = Atomic<Bool>(false)
    /// Serialises the superblock's read-modify-write (``writeSuperblock(_:)``): held across the
    /// write, so a superblock never carries chains older than one already written.
    let superblockWriter = Mutex<Void>(())
    /// Signalled when the last operation under way ends after ``close()`` began.
    let quiesced = ProgressSignal()
    /// True while the store opens: generations are queued, not committed (see ``GenerationHook``).
    let bootstrapping = Atomic<Bool>(true)
    let lastCheckpointSize = Atomic<UInt64>(0)
    /// Copygc (the `ZoneGC` module): victims by policy, evacuation through backpointers, the
    /// store as the extents' owner (compare-and-swap relocations, committed by the journal).
    let collector: Copygc
    let ownerID: OwnerID
    /// Zones that were read-only or offline when the store was opened: extents in them stay in
    /// the index but are not accounted by the allocator (which never uses these zones), so they
    /// are never released to it.
    let unaccountedZones: Set<Int>
    /// The zones of ``unaccountedZones`` that were read-only (readable) at open: copygc passes
    /// move the dirty values out of them (``evacuateReadOnlyZones()``).
    let readOnlyZones: Set<Int>
    /// Whether values may be left in ``readOnlyZones``.
    let readOnlyDataLeft = Atomic<Bool>(false)
    let metrics: StoreMetrics

    // MARK: - Format

    /// Formats `device` as an empty store: writes a new superblock (after resetting every zone
    /// when forced). Open it with ``open(_:options:)``.
    ///
    /// - Parameters:
    ///   - device: the zoned device; needs at least 4 sequential zones of equal capacity.
    ///   - options: the copygc reserve, and whether to overwrite an existing store or data.
    /// - Throws: ``StoreError``: `.alreadyFormatted` when the device holds a store or any data
    ///   and `options.force` is false; `.unsupportedDevice` for a device that cannot hold a store;
    ///   `.invalidArgument` for a reserve outside 5–21 %; `.device` when a zone operation fails.
    public static func format(_ device: any ZonedDevice, options: FormatOptions = FormatOptions()) throws(StoreError) {
        guard AllocatorConfiguration.copygcReserveRange.contains(options.copygcReserve) else {
            throw StoreError(
                code: .invalidArgument,
                message: "a copygc reserve of \(options.copygcReserve * 100) % is outside the allowed 5–21 %; "
                    + "8 % is bcachefs's default"
            )
        }
        let zones = try report(device)
        guard let log = SuperblockLog(device: device, zones: zones) else {
            throw StoreError(
                code: .unsupportedDevice,
                message: "\(device.path) has too few sequential zones for a store; it needs at least 4"
            )
        }
        let buckets = zones.filter { $0.isSequential && !log.hiddenZones.contains($0.index) }
        guard buckets.count >= 3, let first = buckets.first,
            buckets.allSatisfy({ $0.capacity == first.capacity })
        else {
            throw StoreError(
                code: .unsupportedDevice,
                message: "\(device.path) cannot hold a store: it needs at least 3 sequential zones of equal capacity "
                    + "besides the superblock zones (it has \(buckets.count))"
            )
        }
        if !options.force {
            let existing = try log.read()
            if existing.sawMagic {
                throw StoreError(
                    code: .alreadyFormatted,
                    message: "\(device.path) already holds a zonealloc store"
                        + (existing.newest.map { " (formatted \(Date(timeIntervalSince1970: Double($0.formattedAt))))" }
                            ?? "")
                        + "; pass --force (FormatOptions.force) to erase it"
                )
            }
            if let used = zones.first(where: { $0.isSequential && $0.condition != .empty }) {
                throw StoreError(
                    code: .alreadyFormatted,
                    message: "\(device.path) holds data: zone \(used.index) is \(used.condition.kernelName); pass "
                        + "--force (FormatOptions.force) to erase the device"
                )
            }
        }
        if options.force {
            do {
                try device.resetAllZones()
            } catch {
                throw StoreError.device(error, "resetting the zones of \(device.path) failed")
            }
        }
        try log.erase()
        var uuid = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in uuid.indices { uuid[index] = UInt8.random(in: 0...255, using: &generator) }
        let superblock = Superblock(
            recordSize: log.recordSize,
            uuid: uuid,
            sequence: 1,
            zoneSize: device.info.zoneSize,
            zoneCapacity: first.capacity,
            zoneCount: UInt32(zones.count),
            blockSize: UInt32(device.info.logicalBlockSize),
            placement: log.placement,
            superblockZones: log.zones.map { UInt32($0) },
            copygcReserveBasisPoints: UInt16((options.copygcReserve * 10_000).rounded()),
            checkpointSequence: 0,
            formattedAt: UInt64(Date().timeIntervalSince1970),
            // An empty open chain: replay reads its head bucket, finds no group of this store.
            chains: [
                Superblock.Chain(bucket: UInt32(first.index), generation: 0, offset: 0, firstSequence: 1)
            ]
        )
        try log.write(superblock)
    }

    static func report(_ device: any ZonedDevice) throws(StoreError) -> [Zone] {
        do {
            return try device.reportZones()
        } catch {
            throw StoreError.device(error, "cannot report the zones of \(device.path)")
        }
    }

    // MARK: - Open

    /// Opens the store on `device`: reads the superblock, replays the journal from the newest
    /// checkpoint, reconciles it with the zone report (the write pointers decide what exists;
    /// data past the last durable journal record is dead), completes interrupted resets and
    /// finishes, and starts a new journal chain.
    ///
    /// - Parameters:
    ///   - device: a device formatted with ``format(_:options:)``.
    ///   - options: logging, waits, checkpoint and copygc settings.
    /// - Returns: the open store.
    /// - Throws: ``StoreError``: `.notAStore` when the device holds no valid superblock;
    ///   `.corrupt` when acknowledged journal records are missing or the metadata contradicts
    ///   itself (the message says what; run `zonealloc fsck`); `.device` when the device fails.
    public static func open(_ device: any ZonedDevice, options: OpenOptions = OpenOptions()) throws(StoreError)
        -> ZoneStore
    {
        try ZoneStore(opening: device, options: options)
    }

    private init(opening device: any ZonedDevice, options: OpenOptions) throws(StoreError) {
        let logger = options.logger
        let zones = try Self.report(device)
        guard let log = SuperblockLog(device: device, zones: zones) else {
            throw StoreError(code: .notAStore, message: "\(device.path) has too few zones to hold a zonealloc store")
        }
        let found = try log.read()
        guard let superblock = found.newest else {
            throw StoreError(
                code: found.sawMagic ? .corrupt : .notAStore,
                message: found.sawMagic
                    ? "the superblock of \(device.path) is damaged (\(found.damaged.joined(separator: "; "))); the "
                        + "store cannot be opened"
                    : "\(device.path) holds no zonealloc store (no superblock); format it with `zonealloc format`"
            )
        }
        if let stale = found.maybeStale {
            throw StoreError(
                code: .corrupt,
                message: "the newest superblock of \(device.path) may be lost: \(stale). An older superblock would "
                    + "replay journal buckets that may have been freed and reused since, so the store is not "
                    + "opened; run `zonealloc fsck`"
            )
        }
        let info = device.info
        let capacity = zones.first { $0.isSequential && !log.hiddenZones.contains($0.index) }?.capacity ?? 0
        guard superblock.zoneSize == info.zoneSize, superblock.zoneCount == UInt32(zones.count),
            superblock.blockSize == UInt32(info.logicalBlockSize), superblock.zoneCapacity == capacity,
            superblock.placement == log.placement, superblock.superblockZones == log.zones.map({ UInt32($0) })
        else {
            throw StoreError(
                code: .corrupt,
                message:
                    "the superblock of \(device.path) describes another geometry (\(superblock.zoneCount) zones of "
                    + "\(superblock.zoneSize) bytes, capacity \(superblock.zoneCapacity), \(superblock.blockSize)-byte "
                    + "blocks) than the device has; it was formatted on a different device"
            )
        }
        let bucketSectors = Int(capacity) / DataPointer.sectorSize
        let recovered = try Recovery(
            superblock: superblock,
            device: device,
            zones: zones,
            bucketSectors: bucketSectors
        ).run()
        // Journal buckets left partly written are finished, so the allocator sees them FULL and
        // never continues them as user buckets (an interrupted finish is completed the same way).
        var finished = 0
        for pointer in recovered.journalBuckets {
            let zone = zones[pointer.bucket.zone]
            if zone.condition.isActive {
                do {
                    try device.finishZone(zone.index)
                    finished += 1
                } catch {
                    throw StoreError.device(
                        error,
                        "finishing journal bucket \(zone.index) failed",
                        bucket: pointer.bucket
                    )
                }
            }
        }
        // Partly written zones holding nothing live (data written after the last durable journal
        // record, an interrupted reset) are finished too: the allocator then resets them (new
        // generation journaled first) instead of appending to garbage.
        var liveZones = Set(recovered.journalBuckets.map(\.bucket.zone))
        for entry in recovered.index.values where !entry.isEvictedMarker {
            for extent in entry.extents { liveZones.insert(extent.pointer.bucket.zone) }
        }
        for zone in zones
        where zone.isSequential && zone.condition.isActive && !liveZones.contains(zone.index)
            && !log.hiddenZones.contains(zone.index)
        {
            do {
                try device.finishZone(zone.index)
                finished += 1
            } catch {
                throw StoreError.device(error, "finishing zone \(zone.index) failed", bucket: BucketIndex(zone.index))
            }
        }
        let storeDevice = StoreDevice(base: device, hiding: log.hiddenZones)
        let hook = GenerationHook(initial: recovered.generations)
        let allocator: BucketAllocator
        do {
            allocator = try BucketAllocator(
                device: storeDevice,
                configuration: AllocatorConfiguration(
                    copygcReserve: superblock.copygcReserve,
                    metadataZoneSlots: 1,
                    copygcZoneSlots: 1,
                    defaultZoneLimit: options.defaultZoneLimit,
                    allocationWaitLimit: options.allocationWaitLimit
                ),
                generationStore: hook
            )
        } catch {
            throw StoreError.allocation(error, "cannot start the allocator on \(device.path)")
        }
        // Accounting: every journal bucket still needed and every extent the index points to.
        let faulted = Set(zones.filter { $0.condition == .readOnly || $0.condition == .offline }.map(\.index))
        var index = recovered.index
        for pointer in recovered.journalBuckets
        where !faulted.contains(pointer.bucket.zone) && !allocator.markLive(pointer) {
            throw StoreError(
                code: .corrupt,
                message: "journal bucket \(pointer.bucket.rawValue) does not match the device (generation or size); "
                    + "the store cannot be opened. Run `zonealloc fsck`",
                bucket: pointer.bucket
            )
        }
        // Extents in zones that went read-only or offline are kept without accounting (the
        // allocator never uses those zones again): read-only data stays readable, and get()
        // reports a value in an offline zone as lost to the device (`.dataLost`).
        let offline = Set(zones.filter { $0.condition == .offline }.map(\.index))
        var unaccounted: [StoreKey] = []
        var lostToDevice: [StoreKey] = []
        // In the index's own order: whether markLive accepts an extent does not depend on the
        // others (generation, the written end), and sorting every key costs O(n log n) byte-string
        // comparisons, the larger part of a long open. The two short lists are sorted instead.
        for (key, entry) in index where !entry.isEvictedMarker {
            for extent in entry.extents where !faulted.contains(extent.pointer.bucket.zone) {
                if !allocator.markLive(extent.pointer) { unaccounted.append(key) }
            }
            if entry.extents.contains(where: { offline.contains($0.pointer.bucket.zone) }) { lostToDevice.append(key) }
        }
        unaccounted.sort()
        lostToDevice.sort()
        for key in unaccounted { index[key] = nil }

        self.device = device
        self.allocator = allocator
        self.unaccountedZones = faulted
        self.readOnlyZones = Set(zones.filter { $0.condition == .readOnly }.map(\.index))
        self.uuid = superblock.uuid
        self.blockSize = info.logicalBlockSize
        self.bucketBytes = Int(capacity)
        self.maximumValueSize = StoreLimits.maximumValueSize(bucketBytes: Int(capacity))
        self.logger = logger
        self.storeDevice = storeDevice
        self.superblockLog = log
        self.options = options
        self.state = Mutex(StoreState(index: index, generations: recovered.generations))
        self.journal = JournalWriter(
            device: storeDevice,
            allocator: allocator,
            uuid: superblock.uuid,
            firstSequence: recovered.lastSequence + 1
        )
        self.metrics = StoreMetrics(label: device.path)
        let owner = StoreExtentOwner()
        do {
            let collector = try Copygc(
                allocator: allocator,
                configuration: CopygcConfiguration(
                    startBelowFreeBuckets: max(1, options.copygcStartBelowFreeBuckets),
                    stopAtFreeBuckets: max(2, options.copygcStartBelowFreeBuckets + 1, options.copygcStopAtFreeBuckets),
                    maxVictimsPerPass: 16
                )
            )
            self.ownerID = try collector.register(owner)
            self.collector = collector
        } catch {
            throw StoreError(code: .invalidArgument, message: "cannot start copygc: \(error)")
        }
        self.recovery = RecoveryReport(
            recordsReplayed: recovered.recordsApplied,
            recordsDropped: recovered.recordsDropped,
            groupsRead: recovered.groupsRead,
            zonesFinished: finished,
            keys: index.count,
            lostKeys: recovered.lostKeys + unaccounted + lostToDevice.filter { index[$0] != nil },
            evictedOnRecovery: recovered.evictedOnRecovery,
            notes: recovered.notes
        )
        self.superblock = Mutex(superblock)
        readOnlyDataLeft.store(!readOnlyZones.isEmpty, ordering: .relaxed)
        self.baseLifetime = superblock.lifetime
        owner.connect(self)
        // Copygc's backpointers: every live extent of the recovered index.
        let live = state.withLock { state in
            state.index.values.flatMap { entry in
                entry.isEvictedMarker
                    ? [] : entry.extents.enumerated().map { (IndexEntry.backpointerKey(id: entry.id, extent: $0), $1) }
            }
        }
        for (key, extent) in live
        where !faulted.contains(extent.pointer.bucket.zone) && state.withLock({ $0.isCurrent(extent) }) {
            collector.recordLive(extent.pointer, owner: ownerID, key: key)
        }
        do {
            try start(recovered: recovered, hook: hook)
        } catch {
            // A failed open leaves nothing running: no copygc thread holding the device.
            collector.stop()
            journal.shutDown()
            throw error
        }
    }
}

extension ZoneStore {
    /// Recovered chains at which open writes a checkpoint before its superblock, instead of
    /// adding one more chain.
    static let chainsBeforeCheckpoint = 4

    /// The last steps of opening: starts the journal's new chain and names it in the superblock
    /// (or, with ``chainsBeforeCheckpoint`` chains recovered, writes a checkpoint first and
    /// names only that), commits the generations queued meanwhile, completes interrupted resets
    /// and starts copygc's thread — last, so that nothing that can fail comes after it.
    ///
    /// Opens that fail after writing their superblock leave a chain behind each; replacing the
    /// chains by a checkpoint from ``chainsBeforeCheckpoint`` on keeps them far below
    /// ``Superblock/maximumChains`` however many opens fail.
    private func start(recovered: Recovery.Result, hook: GenerationHook) throws(StoreError) {
        // Until the superblock names the new journal chain, a generation (the journal's first
        // bucket may need a reset) is only queued; it is committed right after.
        hook.connect { [weak self] generations throws(StoreError) in
            guard let self else { throw StoreError(code: .closed, message: "the store is closed") }
            try self.persistGenerations(generations)
        }
        journal.retain(recovered.journalBuckets)
        let head = try journal.start()
        let chains: Int
        if recovered.chains.count >= Self.chainsBeforeCheckpoint {
            // The checkpoint's superblock names the new chain from the checkpoint on, alone.
            try writeCheckpoint()
            chains = superblockState.chains.count
        } else {
            try writeSuperblock { next in
                next.chains =
                    recovered.chains + [
                        Superblock.Chain(
                            bucket: head.bucket,
                            generation: head.generation,
                            offset: head.offset,
                            firstSequence: recovered.lastSequence + 1
                        )
                    ]
            }
            chains = superblockState.chains.count
        }
        bootstrapping.store(false, ordering: .releasing)
        try journal.commit(through: journal.lastSequence)
        // Copygc on demand: the allocator's kick wakes copygc's background thread. Without it,
        // only collectGarbage() and the copygc service run passes.
        if !options.copygcOnDemand { allocator.setCopygcTrigger(nil) }
        // Interrupted resets: emptied buckets are reset now (generation first).
        do {
            try allocator.reclaimEmptyBuckets()
        } catch {
            logger.warning("completing interrupted zone resets failed: \(error)")
        }
        let summary =
            "opened store on \(device.path): \(recovery.keys) keys, replayed \(recovered.recordsApplied) journal "
            + "records (\(recovered.recordsDropped) unacknowledged dropped), \(recovery.zonesFinished) zones "
            + "finished, \(chains) journal chains"
        logger.info("\(summary)")
        for note in recovered.notes { logger.notice("\(note)") }
        if options.copygcOnDemand { _ = collector.start() }
    }

    /// The superblock as last written.
    var superblockState: Superblock { superblock.withLock { $0 } }
}

/// What recovery found when a store was opened.
public struct RecoveryReport: Sendable, Hashable {
    /// Journal records applied.
    public var recordsReplayed: Int
    /// Journal records dropped because their data never reached the device (never acknowledged).
    public var recordsDropped: Int
    /// Journal groups read.
    public var groupsRead: Int
    /// Partly written zones finished: journal zones, and zones holding nothing live (then reset).
    public var zonesFinished: Int
    /// Keys in the recovered index.
    public var keys: Int
    /// Dirty values whose data the device no longer has. Values in zones that went offline stay
    /// listed, and ``ZoneStore/get(_:)`` throws `.dataLost` for them until they are deleted or
    /// stored again; values that point where a zone holds no data (a damaged journal) are dropped.
    public var lostKeys: [StoreKey]
    /// Cached values found evicted.
    public var evictedOnRecovery: Int
    /// Notes in words.
    public var notes: [String]
}
