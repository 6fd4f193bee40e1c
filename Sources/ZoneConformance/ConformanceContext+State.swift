import ZonedStorage

/// Reading zone state and comparing it with what the checklist expects.
extension ConformanceContext {
    /// The zone as the device reports it now.
    func report(_ zone: Zone, after action: String = "report the zone") throws(ConformanceStop) -> Zone {
        do {
            return try device.zone(zone.index)
        } catch {
            throw .fail(
                expected: ConformanceExpectation(
                    action: "\(action): report zone \(zone.index)",
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
    }

    /// Every zone of the device as reported now.
    func reportAll(_ action: String) throws(ConformanceStop) -> [Zone] {
        try reportRange(offset: 0, length: 0, filter: .all, action: action)
    }

    /// The zones of a libzbd-style range report.
    func reportRange(
        offset: UInt64,
        length: UInt64,
        filter: ZoneReportFilter = .all,
        action: String
    ) throws(ConformanceStop) -> [Zone] {
        do {
            return try device.reportZones(offset: offset, length: length, filter: filter)
        } catch {
            throw .fail(
                expected: ConformanceExpectation(action: action, statuses: [.success]),
                observed: ConformanceObservation(status: OperationStatus(error), detail: error.message)
            )
        }
    }

    /// Checks that `zone` is in one of `conditions` with (when given) one of the write pointers
    /// `writePointers`, relative to the zone start.
    @discardableResult
    func expectZone(
        _ zone: Zone,
        anyOf conditions: [ZoneCondition],
        writePointers: [UInt64] = [],
        after action: String
    ) throws(ConformanceStop) -> Zone {
        let now = try report(zone, after: action)
        let absolute = writePointers.map { zone.start + $0 }
        if !conditions.contains(now.condition) || (!absolute.isEmpty && !absolute.contains(now.writePointer)) {
            throw .fail(
                expected: ConformanceExpectation(
                    action: action,
                    zone: zone.index,
                    zoneStart: zone.start,
                    conditions: conditions,
                    writePointers: absolute
                ),
                observed: ConformanceObservation(zone: now)
            )
        }
        return now
    }

    /// Checks that `zone` is in `condition` with (when given) write pointer `writePointer`,
    /// relative to the zone start.
    @discardableResult
    func expectZone(
        _ zone: Zone,
        _ condition: ZoneCondition,
        writePointer: UInt64? = nil,
        after action: String
    ) throws(ConformanceStop) -> Zone {
        try expectZone(zone, anyOf: [condition], writePointers: writePointer.map { [$0] } ?? [], after: action)
    }

    /// Checks that `zone` reports the same condition and write pointer as `before`.
    func expectUnchanged(_ before: Zone, after action: String) throws(ConformanceStop) {
        try expectZone(
            before,
            anyOf: [before.condition],
            writePointers: [before.writePointer - before.start],
            after: action
        )
    }

    /// Open / active zones of the whole device now.
    func counts(after action: String = "count open and active zones") throws(ConformanceStop) -> ZoneCounts {
        ZoneCounts(try reportAll(action))
    }

    /// Checks the device-wide counts of implicitly open, explicitly open and closed zones (nil:
    /// not checked).
    @discardableResult
    func expectCounts(
        implicitOpen: Int? = nil,
        explicitOpen: Int? = nil,
        closed: Int? = nil,
        after action: String
    ) throws(ConformanceStop) -> ZoneCounts {
        let now = try counts(after: action)
        var wanted: [String] = []
        var ok = true
        if let implicitOpen {
            wanted.append("IMP_OPEN \(implicitOpen)")
            ok = ok && now.implicitOpen == implicitOpen
        }
        if let explicitOpen {
            wanted.append("EXP_OPEN \(explicitOpen)")
            ok = ok && now.explicitOpen == explicitOpen
        }
        if let closed {
            wanted.append("CLOSED \(closed)")
            ok = ok && now.closed == closed
        }
        if !ok {
            throw .fail(
                expected: ConformanceExpectation(
                    action: action,
                    detail: "zones on the device: " + wanted.joined(separator: ", ")
                ),
                observed: ConformanceObservation(detail: "zones on the device: \(now)")
            )
        }
        return now
    }

    /// Fails with free-text expected and observed values unless `condition` holds.
    func require(
        _ condition: Bool,
        _ action: String,
        expected: @autoclosure () -> String,
        observed: @autoclosure () -> String,
        zone: Zone? = nil
    ) throws(ConformanceStop) {
        guard !condition else { return }
        throw .fail(
            expected: ConformanceExpectation(
                action: action,
                zone: zone?.index,
                zoneStart: zone?.start,
                detail: expected()
            ),
            observed: ConformanceObservation(zone: zone?.index, zoneStart: zone?.start, detail: observed())
        )
    }

    /// Checks that `data` equals `expected`.
    func expectData(_ data: [UInt8]?, equals expected: [UInt8], _ action: String, zone: Zone? = nil)
        throws(ConformanceStop)
    {
        let data = data ?? []
        try require(
            data == expected,
            action,
            expected: "the \(expected.count) bytes written (\(Self.describe(expected)))",
            observed: "\(data.count) bytes: \(Self.describe(data))\(Self.firstDifference(data, expected))",
            zone: zone
        )
    }

    /// `12 34 56 78 …` (the first 8 bytes), or `all 0x00` / `all 0xFF`.
    static func describe(_ data: [UInt8]) -> String {
        if data.isEmpty { return "no data" }
        if let first = data.first, data.allSatisfy({ $0 == first }) {
            return "all 0x" + String(first, radix: 16, uppercase: true)
        }
        return data.prefix(8).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
            + (data.count > 8 ? " …" : "")
    }

    private static func firstDifference(_ data: [UInt8], _ expected: [UInt8]) -> String {
        guard let index = zip(data, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else {
            return ""
        }
        return ", first difference at byte \(index)"
    }
}
