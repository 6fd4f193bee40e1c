import SystemPackage
public import ZonedStorage

/// Runs the same seeded random sequence of zone operations on a device under test and on a
/// memory-backed ``ZonedStorage/EmulatedDevice`` with the device's geometry, limits and the
/// matching profile, and stops at the first operation after which they disagree.
///
/// After every operation it compares the result (success or errno, where an append landed,
/// data read where both devices must return what was written), then the condition and write
/// pointer (where defined, checklist item 11) of every working zone, and so the open and active
/// counts. Every 100 operations and at the end it compares every zone of the device.
///
/// **Destructive.** Like ``ConformanceRunner``, it resets every zone first (RESET ALL), works in
/// the first few usable sequential zones and one conventional zone, and resets every zone again
/// at the end. Operations covering "all zones" cover the working zones, except RESET ALL.
///
/// Comparing data: bytes below what was written to a sequential zone since its last reset, and
/// blocks of the conventional zone written during the run. Data at and beyond a write pointer,
/// and never-written data of a finished zone, is device-defined (items 65, 66) and not compared.
///
/// On a device of the nullblk variant with an open limit, the run first finds where null_blk's
/// round-robin search for an implicitly open zone to close stands (it depends on the device's
/// history since the module was loaded): it writes one block to max-open + 1 working zones,
/// sees which zone the device closed, resets everything and starts the reference's search
/// after that zone.
///
/// ```swift
/// let run = DifferentialRun(device: device, options: .init(seed: 1, operations: 2000))
/// let report = try run.run()
/// if let divergence = report.divergence { print(divergence) }
/// ```
public struct DifferentialRun: Sendable {
    /// The largest write of a ``DifferentialOperation/fill(zone:from:to:)``: 127 pages (508 KiB),
    /// which no device of the harness splits for a reason the reference cannot know, while
    /// devices with a small `max_sectors` (null_blk: 255 sectors) split it into several requests
    /// deterministically, in order, and the reference splits it the same way.
    ///
    /// Why not more. QEMU NVMe's queue takes requests of up to 512 KiB (`max_sectors_kb`) but of
    /// at most 127 segments (`max_segments`, Linux 6.1), and a segment is a run of physically
    /// contiguous pages of the caller's buffer: whether a 128-page write is one request or two
    /// depends on where the kernel happened to find those pages, so when the zone refuses the
    /// write, the errno (the limit error of one request, or EIO from the second, misplaced one) is
    /// not determined by anything a program can see. Also, NVMe's queue has no scheduler, so
    /// before Linux 6.10 nothing keeps two requests to one zone in order.
    public static let fillWriteSize = 127 * 4096

    /// The device under test.
    public let device: any ZonedDevice
    /// How the run is set up.
    public var options: Options

    /// Creates a run on `device`.
    public init(device: any ZonedDevice, options: Options) {
        self.device = device
        self.options = options
    }

    /// The variant whose emulator profile the reference uses: the option, or the one detected
    /// from the device.
    public var variant: DeviceVariant { options.variant ?? DeviceVariant.detect(for: device) }

    /// Runs the operations and reports what happened.
    ///
    /// - Parameter progress: Called with the number of operations done after each one.
    /// - Returns: The report; a divergence is a result, not an error.
    /// - Throws: ``ZonedStorage/ZonedStorageError`` when the device cannot be prepared (its zones
    ///   cannot be reported or reset), when its zones cannot be reported during the run, or when
    ///   no reference can be made for it (a geometry the emulator or the variant's profile cannot
    ///   have, such as conventional zones on NVMe ZNS, or a smaller last zone).
    public func run(progress: (Int) -> Void = { _ in }) throws(ZonedStorageError) -> DifferentialReport {
        let clock = ContinuousClock()
        let started = clock.now
        let info = device.info
        let variant = self.variant
        let source =
            options.variant != nil ? "set explicitly" : "detected: " + DeviceVariant.detectionReason(for: device)
        var notes: [String] = []

        let zones = try device.reportZones()
        let untrusted = ConformanceRunner.untrustedOpenLimit(info, sequentialZones: zones.count { $0.isSequential })
        if let untrusted { notes.append(untrusted + "; the reference has no open limit") }
        let geometry = try Self.referenceGeometry(info: info, zones: zones, trustOpenLimit: untrusted == nil)
        let layout = try Self.layout(zones: zones, geometry: geometry, maximumWorkingZones: options.maximumWorkingZones)
        try device.resetAllZones()
        var cursor: Int?
        if variant == .nullBlk { cursor = probeRoundRobin(layout, geometry: geometry, notes: &notes) }

        let reference: EmulatedDevice
        do {
            reference = try EmulatedDevice(
                geometry: geometry,
                profile: variant.profile,
                storage: .memory,
                options: .init(writeCache: .volatile, stickyWriteErrors: options.stickyWriteErrors)
            )
        } catch {
            throw ZonedStorageError(
                code: error.code,
                message: "no emulated \(variant) reference can stand for \(device.path): \(error.message); run with "
                    + "the variant that matches the device",
                errno: error.errno,
                cause: error
            )
        }
        defer { try? reference.close() }
        if let cursor { reference.setImplicitCloseCursor(cursor) }
        for zone in zones where zone.isSequential && (zone.condition == .readOnly || zone.condition == .offline) {
            try reference.setZoneCondition(zone.index, to: zone.condition)
        }
        notes.append(
            "working zones: sequential \(SuiteText.list(layout.sequential))"
                + (layout.conventional.map { ", conventional \($0)" } ?? "")
        )
        notes.append(
            "writes are split into requests of at most \(reference.info.maxTransferBytes ?? 0) bytes "
                + (info.maxTransferBytes != nil
                    ? "(the device's max_sectors)"
                    : "(the \(variant.profile) profile's default: the device did not say)")
                + " and at zone boundaries, as the block layer splits them"
        )

        var state = RunState(layout: layout, generator: DifferentialGenerator(seed: options.seed, layout: layout))
        state.maxTransfer = reference.info.maxTransferBytes ?? 0
        state.deviceZones = try report(device, layout)
        state.referenceZones = try report(reference, layout)
        var divergence: DifferentialDivergence?
        var log: [DifferentialOperation]?
        if options.recordOperations { log = [] }
        var executed = 0
        for index in 0..<max(options.operations, 1) {
            let operation = state.generator.next(
                zones: state.referenceZones,
                budget: .init(
                    liveBytes: state.liveBytes(),
                    dataBudget: options.dataBudget,
                    writtenBytes: state.statistics.bytesWritten,
                    writeBudget: options.writeBudget
                )
            )
            log?.append(operation)
            executed = index + 1
            let salt = options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index)
            let onDevice = Self.execute(operation, on: device, salt: salt)
            if onDevice.unsupported {
                state.generator.appendsSupported = false
                state.statistics.operations["append (unsupported)", default: 0] += 1
                notes.append(
                    "the device cannot append (\(onDevice.outcome.message ?? "unsupported")): operation \(index) and "
                        + "every later zone append were left out"
                )
                progress(executed)
                continue
            }
            let onReference = Self.execute(operation, on: reference, salt: salt)
            let deviceAfter = try report(device, layout)
            let referenceAfter = try report(reference, layout)
            divergence = state.compare(
                index: index,
                operation: operation,
                device: (onDevice, deviceAfter),
                reference: (onReference, referenceAfter)
            )
            if divergence == nil, (index + 1) % 100 == 0 || index + 1 == options.operations {
                divergence = try compareWholeDevice(index: index, operation: operation, reference: reference)
            }
            state.record(operation, outcome: onReference.outcome, before: state.referenceZones, after: referenceAfter)
            state.deviceZones = deviceAfter
            state.referenceZones = referenceAfter
            progress(executed)
            if divergence != nil { break }
        }
        do {
            try device.resetAllZones()
        } catch {
            notes.append("the final RESET ALL failed: \(error)")
        }
        return DifferentialReport(
            path: device.path,
            device: info,
            variant: variant,
            variantSource: source,
            seed: options.seed,
            requestedOperations: options.operations,
            executedOperations: executed,
            workingZones: layout.sequential + (layout.conventional.map { [$0] } ?? []),
            divergence: divergence,
            statistics: state.statistics,
            notes: notes,
            duration: ConformanceRunner.seconds(clock.now - started),
            operations: log
        )
    }

    // MARK: - Setting up

    /// The geometry of the reference: the device's zones, sizes and limits.
    static func referenceGeometry(info: DeviceInfo, zones: [Zone], trustOpenLimit: Bool) throws(ZonedStorageError)
        -> EmulatedGeometry
    {
        func unsupported(_ why: String) -> ZonedStorageError {
            ZonedStorageError(
                code: .unsupported,
                message: "a differential run needs an emulated reference with the device's geometry, but \(why)",
                errno: .notSupported
            )
        }
        guard zones.count == info.zoneCount, UInt64(info.zoneCount) * info.zoneSize == info.capacity else {
            throw unsupported(
                "the device's last zone is smaller than the others (capacity \(info.capacity) bytes, "
                    + "\(info.zoneCount) zones of \(info.zoneSize) bytes), which the emulator cannot reproduce"
            )
        }
        let conventional = zones.prefix { $0.type == .conventional }.count
        guard !zones.dropFirst(conventional).contains(where: { $0.type == .conventional }) else {
            throw unsupported("its conventional zones are not all at the start of the device")
        }
        guard let first = zones.first(where: \.isSequential) else {
            throw unsupported("it has no sequential zones")
        }
        guard zones.allSatisfy({ !$0.isSequential || $0.capacity == first.capacity }) else {
            throw unsupported("its sequential zones do not all have the same capacity")
        }
        func limit(_ value: ZoneResourceLimit) -> Int { value.value ?? 0 }
        let physical = info.physicalBlockSize
        let granularity =
            physical > info.logicalBlockSize && first.capacity % UInt64(physical) == 0
            ? physical : info.logicalBlockSize
        return EmulatedGeometry(
            zoneCount: info.zoneCount,
            zoneSize: info.zoneSize,
            zoneCapacity: first.capacity,
            conventionalZones: conventional,
            logicalBlockSize: info.logicalBlockSize,
            physicalBlockSize: physical,
            maxOpenZones: trustOpenLimit ? limit(info.maxOpenZones) : 0,
            maxActiveZones: limit(info.maxActiveZones),
            zoneWriteGranularity: granularity,
            // The queue's max_sectors (BLKSECTGET): writes longer than this are split into
            // requests that fail one by one; unknown leaves the profile's value.
            maxTransferBytes: info.maxTransferBytes
        )
    }

    /// The working zones: enough sequential zones to reach the limits with a few to spare (at
    /// least 8), and the conventional zone next to them.
    static func layout(zones: [Zone], geometry: EmulatedGeometry, maximumWorkingZones: Int?) throws(ZonedStorageError)
        -> DifferentialLayout
    {
        let usable = zones.filter { $0.isSequential && $0.condition != .readOnly && $0.condition != .offline }
        var count = max(8, geometry.maxOpenZones + 3, geometry.maxActiveZones + 4)
        if let maximumWorkingZones { count = min(count, max(maximumWorkingZones, 2)) }
        count = min(count, usable.count)
        guard count > 0 else {
            throw ZonedStorageError(
                code: .unsupported,
                message: "a differential run needs a usable sequential zone, but every sequential zone is read-only "
                    + "or offline",
                errno: .notSupported
            )
        }
        return DifferentialLayout(
            zoneSize: geometry.zoneSize,
            zoneCapacity: geometry.zoneCapacity,
            logicalBlockSize: geometry.logicalBlockSize,
            physicalBlockSize: geometry.physicalBlockSize,
            sequential: usable.prefix(count).map(\.index),
            conventional: geometry.conventionalZones > 0 ? geometry.conventionalZones - 1 : nil,
            maxOpen: geometry.maxOpenZones,
            maxActive: geometry.maxActiveZones
        )
    }

    /// Finds where null_blk's round-robin search for an implicitly open zone to close stands:
    /// opens max-open + 1 working zones implicitly and sees which one the device closed. The
    /// search starts after that zone next time. Returns that position, or nil when the device
    /// never closes a zone to make room (no open limit, or the active limit equals it), or when
    /// the experiment did not show it. Leaves every zone reset.
    private func probeRoundRobin(_ layout: DifferentialLayout, geometry: EmulatedGeometry, notes: inout [String])
        -> Int?
    {
        let limit = layout.maxOpen
        guard limit > 0, layout.maxActive == 0 || layout.maxActive > limit, layout.sequential.count > limit else {
            return nil
        }
        let zones = Array(layout.sequential.prefix(limit + 1))
        var found: Int?
        do throws(ZonedStorageError) {
            let block = [UInt8](repeating: 0x5A, count: layout.ioUnit)
            for zone in zones { try device.write(block, at: layout.start(zone)) }
            let after = try report(device, layout)
            let closed = zones.prefix(limit).filter { after[$0]?.condition == .closed }
            if closed.count == 1 {
                found = closed[0] + 1 < geometry.zoneCount ? closed[0] + 1 : geometry.conventionalZones
                notes.append(
                    "null_blk closed zone \(closed[0]) to make room for zone \(zones[limit]): the reference closes "
                        + "implicitly open zones round robin from zone \(found!) on"
                )
            } else {
                notes.append(
                    "writing \(limit + 1) zones did not show which zone null_blk closes next (closed: "
                        + "\(SuiteText.list(closed))); the first zone the reference closes may differ"
                )
            }
        } catch {
            notes.append("finding null_blk's round-robin position failed: \(error)")
        }
        do {
            try device.resetAllZones()
        } catch {
            notes.append("RESET ALL after finding null_blk's round-robin position failed: \(error)")
        }
        return found
    }

    // MARK: - Running operations

    /// How one operation ended on one device.
    struct Executed {
        var outcome: DifferentialOutcome
        var data: [UInt8]?
        /// The device refused a zone append as unsupported (libzbd).
        var unsupported = false
    }

    /// Applies `operation` to `device`; writes carry data derived from `salt` and the offset.
    static func execute(_ operation: DifferentialOperation, on device: any ZonedDevice, salt: UInt64) -> Executed {
        var bytesWritten: UInt64?
        do throws(ZonedStorageError) {
            switch operation {
            case .manage(let zoneOperation, let zone):
                try device.manageZones(zoneOperation, zones: zone..<(zone + 1))
            case .manageRange(let zoneOperation, let offset, let length):
                try device.manageZones(zoneOperation, offset: offset, length: length)
            case .write(let offset, let length):
                try device.write(pattern(salt: salt, offset: offset, count: length), at: offset)
            case .fill(_, let from, let to):
                var position = from
                bytesWritten = 0
                while position < to {
                    let count = Int(min(UInt64(fillWriteSize), to - position))
                    try device.write(pattern(salt: salt, offset: position, count: count), at: position)
                    position += UInt64(count)
                    bytesWritten = position - from
                }
            case .append(let target, let length):
                let location = try device.append(pattern(salt: salt, offset: target, count: length), toZoneAt: target)
                return Executed(outcome: DifferentialOutcome(status: .success, appendLocation: location))
            case .read(let offset, let length):
                let data = try device.read(count: length, at: offset)
                return Executed(outcome: DifferentialOutcome(status: .success), data: data)
            case .flush:
                try device.flush()
            }
        } catch {
            let outcome = DifferentialOutcome(
                status: OperationStatus(error),
                bytesWritten: bytesWritten,
                message: error.message
            )
            if case .append = operation, error.code == .unsupported {
                return Executed(outcome: outcome, unsupported: true)
            }
            return Executed(outcome: outcome)
        }
        return Executed(outcome: DifferentialOutcome(status: .success, bytesWritten: bytesWritten))
    }

    /// Test data: different for every operation (`salt`) and offset, the same on both devices.
    static func pattern(salt: UInt64, offset: UInt64, count: Int) -> [UInt8] {
        var rng = SplitMix64(seed: salt ^ (offset &* 0xA24B_AED4_963E_E407))
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var index = 0
            while index + 8 <= count {
                raw.storeBytes(of: rng.next().littleEndian, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            var word = rng.next()
            while index < count {
                raw[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
            initialized = count
        }
    }

    /// The reported zones of the working range, by index.
    func report(_ device: any ZonedDevice, _ layout: DifferentialLayout) throws(ZonedStorageError) -> [Int: Zone] {
        let zones = try device.reportZones(offset: layout.reportOffset, length: layout.reportLength, filter: .all)
        return Dictionary(zones.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Compares every zone of the device with the reference.
    private func compareWholeDevice(index: Int, operation: DifferentialOperation, reference: EmulatedDevice)
        throws(ZonedStorageError) -> DifferentialDivergence?
    {
        let deviceZones = try device.reportZones()
        let referenceZones = try reference.reportZones()
        let deviceStates = deviceZones.map(DifferentialZoneState.init)
        let referenceStates = referenceZones.map(DifferentialZoneState.init)
        guard deviceStates != referenceStates else { return nil }
        let differing = zip(deviceStates, referenceStates).filter { $0 != $1 }
        let deviceCounts = DifferentialCounts(deviceZones)
        let referenceCounts = DifferentialCounts(referenceZones)
        return DifferentialDivergence(
            index: index,
            operation: operation,
            aspect: deviceCounts == referenceCounts ? .zoneState : .resourceCounts,
            detail: "a report of the whole device differs from the reference in \(differing.count) zones"
                + (deviceStates.count == referenceStates.count
                    ? "" : " (\(deviceStates.count) zones reported, the reference has \(referenceStates.count))"),
            deviceOutcome: DifferentialOutcome(status: .success),
            referenceOutcome: DifferentialOutcome(status: .success),
            deviceZones: differing.prefix(16).map(\.0),
            referenceZones: differing.prefix(16).map(\.1),
            deviceCounts: deviceCounts,
            referenceCounts: referenceCounts
        )
    }
}
