import ZonedStorage

/// Device operations whose results are compared with the expected ones.
extension ConformanceContext {
    /// Runs `operation` and checks that it ends with one of `statuses`.
    ///
    /// After an expected failure of a write, the zones covered by `refresh` are reported, as
    /// applications must do on kernels with sticky write errors (item 25).
    ///
    /// - Returns: The status the operation ended with.
    /// - Throws: ``ConformanceStop`` with a failure describing the zone as it is now, when the
    ///   status is not one of `statuses`.
    @discardableResult
    func attempt(
        _ action: String,
        zone: Zone?,
        expect statuses: [OperationStatus],
        refresh: (offset: UInt64, length: UInt64)? = nil,
        _ operation: () throws(ZonedStorageError) -> Void
    ) throws(ConformanceStop) -> OperationStatus {
        var status = OperationStatus.success
        var message: String?
        do {
            try operation()
        } catch {
            status = OperationStatus(error)
            message = error.message
        }
        if statuses.contains(status), !status.isSuccess, let refresh {
            _ = try? device.reportZones(offset: refresh.offset, length: refresh.length, filter: .all)
        }
        try verify(status, message: message, action: action, zone: zone, expect: statuses)
        return status
    }

    /// Checks that an operation's `status` is one of `statuses`.
    ///
    /// - Throws: ``ConformanceStop`` with a failure describing the zone as it is now.
    func verify(
        _ status: OperationStatus,
        message: String?,
        action: String,
        zone: Zone?,
        expect statuses: [OperationStatus]
    ) throws(ConformanceStop) {
        if statuses.contains(status) { return }
        let expected = ConformanceExpectation(
            action: action,
            zone: zone?.index,
            zoneStart: zone?.start,
            statuses: statuses
        )
        if let zone, let now = try? device.zone(zone.index) {
            throw .fail(
                expected: expected,
                observed: ConformanceObservation(zone: now, status: status, detail: message)
            )
        }
        throw .fail(
            expected: expected,
            observed: ConformanceObservation(zone: zone?.index, zoneStart: zone?.start, status: status, detail: message)
        )
    }

    // MARK: - Writes

    /// Writes `bytes` at the absolute `offset`; `zone` is the zone reported on failure.
    @discardableResult
    func write(
        bytes: [UInt8],
        at offset: UInt64,
        zone: Zone,
        expect statuses: [OperationStatus] = [.success],
        action: String? = nil
    ) throws(ConformanceStop) -> OperationStatus {
        let relative = offset >= zone.start ? "+\(offset - zone.start)" : "-\(zone.start - offset)"
        let text = action ?? "write \(bytes.count) bytes at \(relative) of zone \(zone.index)"
        return try attempt(text, zone: zone, expect: statuses, refresh: (offset, UInt64(max(bytes.count, 1)))) {
            () throws(ZonedStorageError) in
            try device.write(bytes, at: offset)
        }
    }

    /// Writes `units` write units of pattern data at `relative` bytes into `zone`.
    @discardableResult
    func write(
        _ zone: Zone,
        at relative: UInt64,
        units: Int = 1,
        seed: UInt8 = 1,
        expect statuses: [OperationStatus] = [.success]
    ) throws(ConformanceStop) -> OperationStatus {
        try write(
            bytes: Self.pattern(count: units * ioUnit, seed: seed),
            at: zone.start + relative,
            zone: zone,
            expect: statuses
        )
    }

    /// Writes `zone` from `relative` up to `end` (relative) with large writes, expecting success.
    func fill(_ zone: Zone, from relative: UInt64 = 0, to end: UInt64) throws(ConformanceStop) {
        var position = relative
        while position < end {
            let count = Int(min(UInt64(chunk.count), end - position))
            let offset = zone.start + position
            let piece = UnsafeRawBufferPointer(rebasing: chunk[0..<count])
            try attempt(
                "fill zone \(zone.index): write \(count) bytes at +\(position)",
                zone: zone,
                expect: [.success]
            ) { () throws(ZonedStorageError) in
                try device.write(piece, at: offset)
            }
            position += UInt64(count)
        }
    }

    // MARK: - Appends

    /// Appends `bytes` to the zone starting at `target`; returns where they landed on success.
    ///
    /// - Throws: a skip when the device cannot append (libzbd devices, item 30).
    @discardableResult
    func append(
        bytes: [UInt8],
        toZoneAt target: UInt64,
        zone: Zone,
        expect statuses: [OperationStatus] = [.success],
        action: String? = nil
    ) throws(ConformanceStop) -> UInt64? {
        let result: Result<UInt64, ZonedStorageError>
        do {
            result = .success(try device.append(bytes, toZoneAt: target))
        } catch {
            if error.code == .unsupported {
                throw .skip("zone append is not supported by this device (libzbd devices have no append, item 30)")
            }
            result = .failure(error)
        }
        let text = action ?? "zone append of \(bytes.count) bytes to offset \(target) (zone \(zone.index))"
        try attempt(text, zone: zone, expect: statuses, refresh: (target, 1)) { () throws(ZonedStorageError) in
            _ = try result.get()
        }
        return try? result.get()
    }

    /// Appends `units` write units of pattern data to `zone`.
    @discardableResult
    func append(
        _ zone: Zone,
        units: Int = 1,
        seed: UInt8 = 2,
        expect statuses: [OperationStatus] = [.success]
    ) throws(ConformanceStop) -> UInt64? {
        try append(
            bytes: Self.pattern(count: units * ioUnit, seed: seed),
            toZoneAt: zone.start,
            zone: zone,
            expect: statuses
        )
    }

    // MARK: - Reads

    /// Reads `count` bytes at the absolute `offset`; returns the data on success.
    @discardableResult
    func read(
        _ count: Int,
        at offset: UInt64,
        zone: Zone?,
        expect statuses: [OperationStatus] = [.success],
        action: String? = nil
    ) throws(ConformanceStop) -> [UInt8]? {
        var data: [UInt8]?
        let text =
            action
            ?? "read \(count) bytes at \(zone.map { offset >= $0.start ? "+\(offset - $0.start) of zone \($0.index)" : "\(offset)" } ?? "\(offset)")"
        try attempt(text, zone: zone, expect: statuses) { () throws(ZonedStorageError) in
            data = try device.read(count: count, at: offset)
        }
        return data
    }

    // MARK: - Zone management

    /// Applies `operation` to `zone`.
    @discardableResult
    func manage(
        _ operation: ZoneOperation,
        _ zone: Zone,
        expect statuses: [OperationStatus] = [.success]
    ) throws(ConformanceStop) -> OperationStatus {
        try attempt("\(operation.rawValue.uppercased()) zone \(zone.index)", zone: zone, expect: statuses) {
            () throws(ZonedStorageError) in
            try device.manageZones(operation, zones: zone.index..<zone.index + 1)
        }
    }

    /// Applies `operation` to the byte range `[offset, offset + length)` (libzbd range rules).
    @discardableResult
    func manage(
        _ operation: ZoneOperation,
        offset: UInt64,
        length: UInt64,
        zone: Zone?,
        expect statuses: [OperationStatus] = [.success],
        action: String? = nil
    ) throws(ConformanceStop) -> OperationStatus {
        let text = action ?? "\(operation.rawValue.uppercased()) range offset \(offset) length \(length)"
        return try attempt(text, zone: zone, expect: statuses) { () throws(ZonedStorageError) in
            try device.manageZones(operation, offset: offset, length: length)
        }
    }

    // MARK: - Building zone states

    /// Writes `units` write units at the start of an EMPTY zone: IMP_OPEN.
    func makeImplicitOpen(_ zone: Zone, units: Int = 1) throws(ConformanceStop) {
        try write(zone, at: 0, units: units)
    }

    /// Opens zones explicitly.
    func makeExplicitOpen(_ zones: [Zone]) throws(ConformanceStop) {
        for zone in zones { try manage(.open, zone) }
    }

    /// Writes `units` write units at the start of an EMPTY zone and closes it: CLOSED.
    func makeClosed(_ zone: Zone, units: Int = 1) throws(ConformanceStop) {
        try write(zone, at: 0, units: units)
        try manage(.close, zone)
    }

    /// Finishes a zone: FULL.
    func makeFull(_ zone: Zone) throws(ConformanceStop) {
        try manage(.finish, zone)
    }

    /// Resets zones, expecting success.
    func reset(_ zones: [Zone]) throws(ConformanceStop) {
        for zone in zones { try manage(.reset, zone) }
    }

    /// Resets every sequential zone that is not EMPTY (between the steps of one check).
    func resetUsedZones() throws(ConformanceStop) {
        let zones = try reportAll("report all zones")
        for zone in zones
        where zone.isSequential && zone.condition != .empty
            && zone.condition != .readOnly && zone.condition != .offline
        {
            try manage(.reset, zone)
        }
    }

    // MARK: - Injected faults

    /// Makes `zone` read-only or offline (or EMPTY again) with the ``injector``.
    ///
    /// - Throws: a skip when there is no injector.
    func inject(_ zone: Zone, _ condition: ZoneCondition) throws(ConformanceStop) {
        let injector = try requireInjector()
        do {
            try injector.setCondition(zone.index, condition)
        } catch {
            throw .fail(
                expected: ConformanceExpectation(
                    action: "make zone \(zone.index) \(condition.kernelName) with the injector",
                    zone: zone.index,
                    zoneStart: zone.start,
                    statuses: [.success]
                ),
                observed: ConformanceObservation(
                    zone: zone.index,
                    status: OperationStatus(error),
                    detail: error.message
                )
            )
        }
        if condition == .empty {
            injectedZones.remove(zone.index)
        } else {
            injectedZones.insert(zone.index)
        }
    }

    /// The injector, or a skip when there is none.
    func requireInjector() throws(ConformanceStop) -> ZoneConditionInjector {
        guard let injector else {
            throw .skip(
                "the device offers no way to make zones read-only or offline (null_blk does it through configfs "
                    + "zone_readonly/zone_offline); run with a ZoneConditionInjector"
            )
        }
        return injector
    }

    /// A zone in `condition` (`.readOnly` or `.offline`): injected into working zone `position`
    /// when there is an injector, else one that already was in that condition.
    func faultyZone(_ condition: ZoneCondition, position: Int) throws(ConformanceStop) -> (zone: Zone, injected: Bool) {
        if injector != nil {
            let zone = try seq(position)
            try inject(zone, condition)
            return (zone, true)
        }
        if let zone = faultyZones.first(where: { $0.condition == condition }) { return (zone, false) }
        throw .skip(
            "the device has no \(condition.kernelName) zone and offers no way to make one (null_blk: configfs "
                + "zone_\(condition == .readOnly ? "readonly" : "offline")); run with a ZoneConditionInjector"
        )
    }
}
