import SystemPackage

/// The zone state machine of the emulated device: conditions, write pointers and the open /
/// active resource accounting of null_blk (`drivers/block/null_blk/zoned.c`), plus the block
/// layer's rules in front of it (`block/blk-zoned.c`). Pure state, no I/O: ``EmulatedDevice``
/// holds it under a lock and moves data outside it.
///
/// The method names follow null_blk's functions; comments quote the kernel where the behaviour
/// is not obvious. Checklist item numbers refer to `shared/docs/zone-model-checklist.md`. Where
/// the ``profile`` is QEMU NVMe ZNS or scsi_debug ZBC, the few rules those devices apply
/// differently are applied instead (see ``EmulatedDevice/Profile``).
struct ZoneStateMachine: Sendable {
    let geometry: EmulatedGeometry
    /// The kind of device whose rules apply where device kinds differ.
    let profile: EmulatedDevice.Profile
    /// Kernels with zone write plugging (6.13+) refuse writes to a zone after a failed write
    /// until its write pointer is refreshed (item 25). Older kernels did not.
    let stickyWriteErrors: Bool
    private(set) var zones: [ZoneRecord]
    private(set) var implicitOpenCount = 0
    private(set) var explicitOpenCount = 0
    private(set) var closedCount = 0
    /// null_blk's `imp_close_zone_no`: where the round-robin search for an implicitly open zone
    /// to close starts.
    private var implicitCloseCursor: Int
    /// QEMU's `imp_open_zones` list (ZNS profile with an open limit): when each zone became
    /// implicitly open. The auto-transition closes the zone with the smallest number. Entries of
    /// zones that are no longer implicitly open are dropped when the list is searched.
    private var implicitOpenOrder: [Int: UInt64] = [:]
    private var implicitOpenClock: UInt64 = 0

    init(geometry: EmulatedGeometry, profile: EmulatedDevice.Profile = .nullBlk, stickyWriteErrors: Bool) {
        self.geometry = geometry
        self.profile = profile
        self.stickyWriteErrors = stickyWriteErrors
        self.implicitCloseCursor = geometry.conventionalZones
        var zones: [ZoneRecord] = []
        zones.reserveCapacity(geometry.zoneCount)
        for index in 0..<geometry.zoneCount {
            let start = UInt64(index) * geometry.zoneSize
            zones.append(
                index < geometry.conventionalZones
                    ? .conventional(start: start, length: geometry.zoneSize) : .empty(start: start)
            )
        }
        self.zones = zones
    }

    /// Restores a state machine from saved zone records (an image reopened), recounting resources.
    /// Implicitly open zones of the ZNS profile are taken to have opened in zone order (the
    /// order is not saved; QEMU does not keep zone state across restarts at all).
    init(
        geometry: EmulatedGeometry,
        profile: EmulatedDevice.Profile = .nullBlk,
        stickyWriteErrors: Bool,
        records: [ZoneRecord]
    ) {
        precondition(
            records.count == geometry.zoneCount,
            "zone table has \(records.count) rows, geometry \(geometry.zoneCount)"
        )
        self.geometry = geometry
        self.profile = profile
        self.stickyWriteErrors = stickyWriteErrors
        self.implicitCloseCursor = geometry.conventionalZones
        self.zones = records
        recount()
    }

    // MARK: - Descriptors

    func start(of index: Int) -> UInt64 { UInt64(index) * geometry.zoneSize }
    func capacityEnd(of index: Int) -> UInt64 { start(of: index) + geometry.zoneCapacity }
    func isConventional(_ index: Int) -> Bool { index < geometry.conventionalZones }

    /// The zone as a report shows it.
    func descriptor(_ index: Int) -> Zone {
        let record = zones[index]
        let start = start(of: index)
        let conventional = isConventional(index)
        var writePointer = record.writePointer
        if record.condition == .full { writePointer = start + geometry.zoneSize }
        return Zone(
            index: index,
            start: start,
            length: geometry.zoneSize,
            capacity: conventional ? geometry.zoneSize : geometry.zoneCapacity,
            writePointer: writePointer,
            type: conventional ? .conventional : .sequentialWriteRequired,
            condition: record.condition
        )
    }

    /// Open zones (implicit + explicit) and active zones (open + closed), as sysfs defines them.
    var openCount: Int { implicitOpenCount + explicitOpenCount }
    var activeCount: Int { implicitOpenCount + explicitOpenCount + closedCount }

    /// Marks the zones of a report as having a known write pointer (clears item 25's sticky error).
    mutating func noteReported(_ indices: Range<Int>) {
        guard stickyWriteErrors else { return }
        for index in indices where zones[index].needsWritePointerUpdate {
            zones[index].needsWritePointerUpdate = false
        }
    }

    // MARK: - Resources (null_check_active, null_check_open, null_check_zone_resources)

    private func checkActive() -> Bool {
        geometry.maxActiveZones == 0 || activeCount < geometry.maxActiveZones
    }

    /// `null_check_open`: succeeds if an open slot is free, or frees one by closing an
    /// implicitly open zone (only while the active limit allows it, item 60).
    private mutating func checkOpen(for index: Int) throws(ZoneRefusal) {
        if geometry.maxOpenZones == 0 || openCount < geometry.maxOpenZones { return }
        // > if (dev->nr_zones_imp_open) { if (null_check_active(dev) == BLK_STS_OK) {
        // >     null_close_imp_open_zone(dev); return BLK_STS_OK; } }
        // > return BLK_STS_ZONE_OPEN_RESOURCE;
        if implicitOpenCount > 0, checkActive() {
            closeOneImplicitlyOpenZone()
            return
        }
        let why =
            implicitOpenCount == 0
            ? "all \(geometry.maxOpenZones) open-zone slots are held by explicitly opened zones"
            : "all \(geometry.maxOpenZones) open-zone slots are in use and the active limit "
                + "(\(geometry.maxActiveZones)) leaves no room to close an implicitly open zone"
        throw ZoneRefusal(
            errno: .tooManyReferences,
            reason: "\(why); close or finish an open zone first (max open zones \(geometry.maxOpenZones))"
        )
    }

    /// `null_check_zone_resources`: EMPTY needs an active and an open slot, CLOSED an open slot.
    ///
    /// The ZNS profile follows QEMU's `nvme_zrm_open_flags` instead: when the open limit is
    /// reached, an implicitly open zone is closed first (`nvme_zrm_auto_transition_zone`), and
    /// only then are the active and open limits checked (`nvme_zns_check_resources`). So QEMU
    /// makes room even when the active limit is reached (checklist item 60), and a request then
    /// refused with EOVERFLOW has still closed that zone. scsi_debug's rule (refuse when every
    /// open slot is held explicitly, else close the lowest-numbered implicitly open zone) is
    /// null_blk's for a device without an active limit, which a ZBC profile never has.
    private mutating func checkResources(for index: Int) throws(ZoneRefusal) {
        let condition = zones[index].condition
        precondition(
            condition == .empty || condition == .closed,
            "resource check for zone \(index) in condition \(condition)"
        )
        if profile == .zns {
            // > if (n->params.auto_transition_zones) { nvme_zrm_auto_transition_zone(ns); }
            // > status = nvme_zns_check_resources(ns, act, 1, ...);
            if geometry.maxOpenZones > 0, openCount >= geometry.maxOpenZones, implicitOpenCount > 0 {
                closeOneImplicitlyOpenZone()
            }
            if condition == .empty, !checkActive() { throw activeRefusal() }
            if geometry.maxOpenZones > 0, openCount >= geometry.maxOpenZones { throw openRefusal() }
            return
        }
        if condition == .empty, !checkActive() { throw activeRefusal() }
        try checkOpen(for: index)
    }

    private func activeRefusal() -> ZoneRefusal {
        ZoneRefusal(
            errno: .overflow,
            reason: "all \(geometry.maxActiveZones) active-zone slots are in use (\(openCount) open, "
                + "\(closedCount) closed); finish or reset an active zone first"
        )
    }

    private func openRefusal() -> ZoneRefusal {
        ZoneRefusal(
            errno: .tooManyReferences,
            reason: "all \(geometry.maxOpenZones) open-zone slots are held by explicitly opened zones; close or "
                + "finish an open zone first (max open zones \(geometry.maxOpenZones))"
        )
    }

    /// Closes one implicitly open zone to make room for another open zone: round robin after
    /// the previous victim (null_blk), the zone implicitly open the longest (QEMU ZNS), or the
    /// lowest-numbered one (scsi_debug).
    private mutating func closeOneImplicitlyOpenZone() {
        switch profile {
        case .nullBlk: closeImplicitlyOpenZoneRoundRobin()
        case .zns: closeOldestImplicitlyOpenZone()
        case .zbc: closeLowestImplicitlyOpenZone()
        }
    }

    /// QEMU `nvme_zrm_auto_transition_zone`: `QTAILQ_FIRST(&ns->imp_open_zones)`, the zone that
    /// became implicitly open first.
    private mutating func closeOldestImplicitlyOpenZone() {
        var oldest: (index: Int, order: UInt64)?
        for (index, order) in implicitOpenOrder {
            guard zones[index].condition == .implicitOpen else {
                implicitOpenOrder[index] = nil
                continue
            }
            if oldest == nil || order < oldest!.order { oldest = (index, order) }
        }
        guard let oldest else { return }
        implicitOpenOrder[oldest.index] = nil
        _ = closeOpenZone(oldest.index)
    }

    /// scsi_debug `zbc_close_imp_open_zone`: the first implicitly open zone from zone 0 on.
    private mutating func closeLowestImplicitlyOpenZone() {
        for index in geometry.conventionalZones..<geometry.zoneCount where zones[index].condition == .implicitOpen {
            _ = closeOpenZone(index)
            return
        }
    }

    /// Marks zone `index` implicitly open (after the resource check).
    private mutating func becomeImplicitlyOpen(_ index: Int) {
        implicitOpenCount += 1
        zones[index].condition = .implicitOpen
        if profile == .zns, geometry.maxOpenZones > 0 {
            implicitOpenOrder[index] = implicitOpenClock
            implicitOpenClock += 1
        }
    }

    /// `null_close_imp_open_zone`: closes the first implicitly open zone found round-robin after
    /// the previous victim.
    private mutating func closeImplicitlyOpenZoneRoundRobin() {
        let first = geometry.conventionalZones
        let count = geometry.zoneCount
        var candidate = implicitCloseCursor >= count ? first : implicitCloseCursor
        for _ in first..<count {
            let index = candidate
            candidate += 1
            if candidate >= count { candidate = first }
            if zones[index].condition == .implicitOpen {
                _ = closeOpenZone(index)
                implicitCloseCursor = candidate
                return
            }
        }
    }

    /// `__null_close_zone` for an open zone: CLOSED, or EMPTY when nothing was written (CLOSED
    /// either way on ZNS: QEMU's `nvme_zrm_close`, item 37).
    private mutating func closeOpenZone(_ index: Int) -> Bool {
        switch zones[index].condition {
        case .implicitOpen: implicitOpenCount -= 1
        case .explicitOpen: explicitOpenCount -= 1
        default: return false
        }
        if zones[index].writePointer == start(of: index), !profile.closingUnwrittenZoneLeavesItClosed {
            zones[index].condition = .empty
        } else {
            zones[index].condition = .closed
            closedCount += 1
        }
        return true
    }

    /// Forgets the resources a zone holds (before it becomes EMPTY, FULL, read-only or offline).
    private mutating func releaseResources(_ index: Int) {
        switch zones[index].condition {
        case .implicitOpen: implicitOpenCount -= 1
        case .explicitOpen: explicitOpenCount -= 1
        case .closed: closedCount -= 1
        default: break
        }
    }

    mutating func recount() {
        implicitOpenCount = 0
        explicitOpenCount = 0
        closedCount = 0
        implicitOpenOrder = [:]
        for (index, record) in zones.enumerated() {
            switch record.condition {
            case .implicitOpen:
                implicitOpenCount += 1
                if profile == .zns, geometry.maxOpenZones > 0 {
                    implicitOpenOrder[index] = implicitOpenClock
                    implicitOpenClock += 1
                }
            case .explicitOpen: explicitOpenCount += 1
            case .closed: closedCount += 1
            default: break
            }
        }
    }

    // MARK: - Writes (blk_zone_wplug_prepare_bio + null_zone_write)

    /// Checks a write (or, with `append`, a zone append) of `length` bytes to sequential zone
    /// `index` and performs the condition change that precedes the data transfer (EMPTY or
    /// CLOSED → IMP_OPEN). Returns the offset where the data goes; call ``completeWrite`` after
    /// the data is stored, or ``failWrite`` if storing it failed.
    mutating func beginWrite(zone index: Int, at offset: UInt64, length: UInt64, append: Bool) throws(ZoneRefusal)
        -> UInt64
    {
        precondition(!isConventional(index), "beginWrite on conventional zone \(index)")
        do {
            return try checkedBeginWrite(zone: index, at: offset, length: length, append: append)
        } catch {
            // > If the BIO failed, abort all plugged BIOs and mark the plug as needing a write
            // > pointer update. (blk_zone_write_plug_bio_endio)
            if stickyWriteErrors { zones[index].needsWritePointerUpdate = true }
            throw error
        }
    }

    private mutating func checkedBeginWrite(zone index: Int, at offset: UInt64, length: UInt64, append: Bool)
        throws(ZoneRefusal) -> UInt64
    {
        let record = zones[index]
        if record.condition == .offline {
            throw ZoneRefusal(errno: .ioError, reason: "the zone is offline and can be neither read nor written")
        }
        if record.condition == .readOnly {
            throw ZoneRefusal(errno: .ioError, reason: "the zone is read-only; write to another zone")
        }
        if record.needsWritePointerUpdate {
            throw ZoneRefusal(
                errno: .ioError,
                reason: "an earlier write to this zone failed and the kernel refuses writes to it until "
                    + "its write pointer is refreshed; report the zone (zbd_report_zones), then write at "
                    + "the reported write pointer"
            )
        }
        // What the device refuses: EREMOTEIO on SCSI. A zone append is checked by the kernel
        // (blk_check_zone_append; the SCSI disk driver emulates zone append itself): EIO.
        let refused = append ? Errno.ioError : profile.refusalErrno
        if record.condition == .full {
            throw ZoneRefusal(errno: refused, reason: "the zone is full; reset it before writing to it again")
        }
        if append {
            let limit = geometry.maxZoneAppendBytes
            if length > limit {
                throw ZoneRefusal(
                    errno: .ioError,
                    reason: "a zone append of \(length) bytes exceeds the device's zone append limit of "
                        + "\(limit) bytes; split it"
                )
            }
        } else if offset != record.writePointer {
            let relation = offset > record.writePointer ? "ahead of" : "behind"
            throw ZoneRefusal(
                errno: refused,
                reason: "the write starts \(relation) the write pointer; sequential zones accept writes only "
                    + "at the write pointer (\(record.writePointer))"
            )
        }
        let writeOffset = record.writePointer
        let limit = capacityEnd(of: index)
        if writeOffset + length > limit {
            throw ZoneRefusal(
                errno: refused,
                reason: "\(length) bytes at \(writeOffset) would pass the zone capacity end \(limit) "
                    + "(\(limit - writeOffset) bytes left); write at most that much, or use the next zone"
            )
        }
        let granularity = UInt64(geometry.zoneWriteGranularity)
        if (writeOffset - start(of: index)) % granularity != 0 || length % granularity != 0 {
            throw ZoneRefusal(
                errno: refused,
                reason: "writes to sequential zones must be multiples of the zone write granularity "
                    + "(\(granularity) bytes)"
            )
        }
        if record.condition == .empty || record.condition == .closed {
            try checkResources(for: index)
            if zones[index].condition == .closed { closedCount -= 1 }
            becomeImplicitlyOpen(index)
        }
        return writeOffset
    }

    /// Advances the write pointer after a successful data transfer; FULL at capacity (item 17).
    mutating func completeWrite(zone index: Int, length: UInt64) {
        zones[index].writePointer += length
        zones[index].dataEnd = zones[index].writePointer
        if zones[index].writePointer == capacityEnd(of: index) {
            releaseResources(index)
            zones[index].condition = .full
        }
    }

    /// Records a data transfer that failed after ``beginWrite``: the zone keeps its new condition
    /// (null_blk sets IMP_OPEN before transferring) but not the data, and needs a write pointer
    /// update on kernels with sticky errors.
    mutating func failWrite(zone index: Int) {
        if stickyWriteErrors { zones[index].needsWritePointerUpdate = true }
    }

    // MARK: - Zone management (null_zone_mgmt)

    /// Applies one zone management operation to one zone (items 31-48).
    mutating func apply(_ operation: ZoneOperation, zone index: Int) throws(ZoneRefusal) {
        if isConventional(index) {
            throw ZoneRefusal(
                errno: profile.refusalErrno,
                reason: "conventional zones have no write pointer and cannot be \(operation.pastTense)"
            )
        }
        let condition = zones[index].condition
        if condition == .readOnly || condition == .offline {
            throw ZoneRefusal(
                errno: .ioError,
                reason: "a \(condition == .readOnly ? "read-only" : "offline") zone cannot be \(operation.pastTense)"
            )
        }
        switch operation {
        case .reset: reset(index)
        case .open: try open(index)
        case .close: try close(index)
        case .finish: try finish(index)
        }
    }

    private mutating func reset(_ index: Int) {
        releaseResources(index)
        let start = start(of: index)
        zones[index] = .empty(start: start)
    }

    private mutating func open(_ index: Int) throws(ZoneRefusal) {
        switch zones[index].condition {
        case .explicitOpen:
            return  // > Open operation on exp open is not an error
        case .empty, .closed:
            try checkResources(for: index)
            if zones[index].condition == .closed { closedCount -= 1 }
        case .implicitOpen:
            implicitOpenCount -= 1
        default:
            // > if (zc == ZC3_EXPLICIT_OPEN || zc == ZC5_FULL) goto fini; (scsi_debug resp_open_zone)
            if profile.opensFullZones { return }
            throw ZoneRefusal(errno: profile.refusalErrno, reason: "a full zone cannot be opened; reset it first")
        }
        zones[index].condition = .explicitOpen
        explicitOpenCount += 1
    }

    private mutating func close(_ index: Int) throws(ZoneRefusal) {
        switch zones[index].condition {
        case .closed:
            return  // > close operation on closed is not an error
        case .implicitOpen, .explicitOpen:
            _ = closeOpenZone(index)
        default:
            // > if (!(zc == ZC2_IMPLICIT_OPEN || zc == ZC3_EXPLICIT_OPEN)) return; (scsi_debug zbc_close_zone)
            if profile.closesZonesThatAreNotOpen { return }
            let what = zones[index].condition == .empty ? "an empty" : "a full"
            throw ZoneRefusal(
                errno: profile.refusalErrno,
                reason: "\(what) zone is not open and cannot be closed"
            )
        }
    }

    private mutating func finish(_ index: Int) throws(ZoneRefusal) {
        switch zones[index].condition {
        case .full:
            return  // > Finish operation on full is not an error
        case .empty, .closed:
            // null_blk asks for an open slot even though the zone never ends up open (items 42,
            // 43); QEMU's nvme_zrm_finish and scsi_debug's zbc_finish_zone check nothing.
            if profile.finishChecksResources { try checkResources(for: index) }
        default:
            break
        }
        releaseResources(index)
        zones[index].condition = .full
        zones[index].writePointer = start(of: index) + geometry.zoneSize
        zones[index].finished = true
        zones[index].needsWritePointerUpdate = false
    }

    /// RESET ALL (item 49) of one sequential zone: resets it unless it is EMPTY, read-only or
    /// offline, and returns whether it did. Either way the zone's write pointer is known again:
    /// the block layer sets the write pointer of every zone write plug on RESET ALL
    /// (`blk_zone_wplug_handle_reset_all`), which clears a sticky write error even on a zone
    /// that was already EMPTY (item 25).
    mutating func resetForResetAll(zone index: Int) -> Bool {
        precondition(!isConventional(index), "RESET ALL skips conventional zone \(index)")
        zones[index].needsWritePointerUpdate = false
        switch zones[index].condition {
        case .empty, .readOnly, .offline:
            return false
        default:
            reset(index)
            return true
        }
    }

    // MARK: - Faults and durability

    /// Turns a sequential zone read-only or offline (null_blk's `zone_readonly` / `zone_offline`,
    /// item 69): the zone first releases its resources, then its write pointer becomes invalid.
    mutating func setFaulty(zone index: Int, condition: ZoneCondition) {
        precondition(condition == .readOnly || condition == .offline, "zone faults are read-only or offline")
        precondition(!isConventional(index), "conventional zone \(index) cannot be made \(condition)")
        releaseResources(index)
        zones[index].condition = condition
        zones[index].writePointer = Zone.invalidWritePointer
        zones[index].needsWritePointerUpdate = false
    }

    /// Returns a read-only or offline zone to EMPTY (writing the same condition again in null_blk).
    mutating func clearFault(zone index: Int) {
        let condition = zones[index].condition
        precondition(condition == .readOnly || condition == .offline, "zone \(index) is not faulty")
        zones[index] = .empty(start: start(of: index))
    }

    /// Records that data below `end` has been written back to the backing store.
    mutating func markFlushed(zone index: Int, to end: UInt64) {
        if end > zones[index].flushedEnd { zones[index].flushedEnd = end }
    }

    /// The zone as it would come back after a power loss that kept data up to `dataEnd`
    /// (between the flushed end and the written end): write pointers follow the data, open zones
    /// come back closed (or empty), FINISH and reset are durable at completion.
    func recordAfterPowerLoss(zone index: Int, keepingDataTo dataEnd: UInt64) -> ZoneRecord {
        var record = zones[index]
        let start = start(of: index)
        switch record.condition {
        case .notWritePointer, .readOnly, .offline, .empty:
            return record
        default:
            break
        }
        precondition(dataEnd >= record.flushedEnd && dataEnd <= record.dataEnd, "power-loss point out of range")
        record.dataEnd = dataEnd
        record.flushedEnd = dataEnd
        record.needsWritePointerUpdate = false
        if record.finished {
            record.condition = .full
            record.writePointer = start + geometry.zoneSize
        } else if dataEnd == capacityEnd(of: index) {
            record.condition = .full
            record.writePointer = dataEnd
        } else {
            record.condition = dataEnd == start ? .empty : .closed
            record.writePointer = dataEnd
        }
        return record
    }

    /// The driver restarting after a power loss: resource counts are recomputed, the
    /// round-robin search for an implicitly open zone to close starts again at the first
    /// sequential zone (as a freshly loaded null_blk, or a reopened image), and no write pointer
    /// is pending a refresh (item 25's state lives in the kernel, not on the device).
    mutating func restart() {
        recount()
        implicitCloseCursor = geometry.conventionalZones
        for index in zones.indices where zones[index].needsWritePointerUpdate {
            zones[index].needsWritePointerUpdate = false
        }
    }

    /// Sets where null_blk's round-robin search for an implicitly open zone to close starts
    /// (`imp_close_zone_no`), to follow a real null_blk whose position is known.
    mutating func setImplicitCloseCursor(_ zone: Int) {
        implicitCloseCursor =
            zone >= geometry.conventionalZones && zone < geometry.zoneCount
            ? zone : geometry.conventionalZones
    }

    /// Replaces a zone's record after a power loss. Call ``restart()`` when done.
    mutating func restore(zone index: Int, to record: ZoneRecord) {
        zones[index] = record
    }
}

extension ZoneOperation {
    var pastTense: String {
        switch self {
        case .reset: "reset"
        case .open: "opened"
        case .close: "closed"
        case .finish: "finished"
        }
    }
}
