import ZonedStorage

/// Section A: geometry and zone report (items 1–11).
extension ConformanceSuite {
    static let geometryChecks: [ConformanceCheck] = [
        ConformanceCheck(number: 1, title: "Full report, fresh device") { c throws(ConformanceStop) in
            let action = "report all zones of the freshly reset device"
            let zones = try c.reportAll(action)
            try c.require(
                zones.count == c.info.zoneCount,
                action,
                expected: "\(c.info.zoneCount) zones (the device's zone count)",
                observed: "\(zones.count) zones"
            )
            let size = c.info.zoneSize
            for (i, zone) in zones.enumerated() {
                let isLast = i == zones.count - 1
                try c.require(
                    zone.index == i && zone.start == UInt64(i) * size,
                    action,
                    expected: "descriptor \(i) is zone \(i) starting at \(UInt64(i) * size)",
                    observed: "descriptor \(i) is zone \(zone.index) starting at \(zone.start)",
                    zone: zone
                )
                try c.require(
                    zone.length == size || (isLast && zone.length > 0 && zone.length < size),
                    action,
                    expected: "length \(size)" + (isLast ? " (or shorter: the last zone)" : ""),
                    observed: "length \(zone.length)",
                    zone: zone
                )
                switch zone.type {
                case .conventional:
                    try c.require(
                        zone.condition == .notWritePointer && zone.capacity == zone.length,
                        action,
                        expected: "conventional zone: NOT_WP, capacity = length \(zone.length)",
                        observed: "\(zone.condition.kernelName), capacity \(zone.capacity)",
                        zone: zone
                    )
                case .sequentialWriteRequired:
                    try c.require(
                        zone.capacity > 0 && zone.capacity <= zone.length,
                        action,
                        expected: "0 < capacity <= length \(zone.length)",
                        observed: "capacity \(zone.capacity)",
                        zone: zone
                    )
                    if zone.condition != .readOnly && zone.condition != .offline
                        && (zone.condition != .empty || zone.writePointer != zone.start)
                    {
                        throw .fail(
                            expected: ConformanceExpectation(
                                action: action,
                                zone: zone.index,
                                zoneStart: zone.start,
                                conditions: [.empty],
                                writePointers: [zone.start]
                            ),
                            observed: ConformanceObservation(zone: zone)
                        )
                    }
                case .sequentialWritePreferred:
                    try c.require(
                        false,
                        action,
                        expected: "no SEQ_WRITE_PREFERRED (host-aware) zones",
                        observed: "zone \(i) is SEQ_WRITE_PREFERRED",
                        zone: zone
                    )
                }
            }
            return .pass
        },

        ConformanceCheck(number: 2, title: "Report start and count semantics") { c throws(ConformanceStop) in
            let zone = try c.seq(1)
            let middle = zone.start + c.info.zoneSize / 2 / c.unit * c.unit
            let action = "report from offset \(middle) (inside zone \(zone.index)) to the end of the device"
            let fromMiddle = try c.reportRange(offset: middle, length: 0, action: action)
            try c.require(
                fromMiddle.first?.index == zone.index && fromMiddle.count == c.info.zoneCount - zone.index,
                action,
                expected:
                    "\(c.info.zoneCount - zone.index) zones starting with zone \(zone.index) (the zone containing the offset)",
                observed:
                    "\(fromMiddle.count) zones starting with zone \(fromMiddle.first.map { "\($0.index)" } ?? "none")"
            )
            let one = try c.reportRange(
                offset: middle,
                length: c.unit,
                action: "report \(c.unit) bytes at offset \(middle)"
            )
            try c.require(
                one.map(\.index) == [zone.index],
                "report \(c.unit) bytes at offset \(middle)",
                expected: "exactly zone \(zone.index)",
                observed: "zones \(one.map(\.index))"
            )
            let last = c.info.zoneCount - 1
            let lastStart = c.info.zoneStart(last)
            let tailAction = "report 4 zone sizes from inside the last zone (offset \(lastStart + c.unit))"
            let tail = try c.reportRange(offset: lastStart + c.unit, length: 4 * c.info.zoneSize, action: tailAction)
            try c.require(
                tail.map(\.index) == [last],
                tailAction,
                expected: "only zone \(last) (clamped to the end of the device)",
                observed: "zones \(tail.map(\.index))"
            )
            let beyondAction = "report from the device capacity \(c.info.capacity)"
            let beyond = try c.reportRange(offset: c.info.capacity, length: 0, action: beyondAction)
            try c.require(
                beyond.isEmpty,
                beyondAction,
                expected: "no zones, no error",
                observed: "\(beyond.count) zones"
            )
            return .pass
        },

        ConformanceCheck(number: 5, title: "Geometry invariants a device must satisfy to be exposed as zoned") {
            c throws(ConformanceStop) in
            let action = "check the zone report against the zoned-device geometry rules"
            let zones = try c.reportAll(action)
            let size = c.info.zoneSize
            try c.require(
                size > 0 && size & (size - 1) == 0,
                action,
                expected: "zone size a power of two",
                observed: "zone size \(size)"
            )
            try c.require(
                zones.contains { $0.isSequential },
                action,
                expected: "at least one sequential zone",
                observed: "none"
            )
            var end: UInt64 = 0
            for zone in zones {
                try c.require(
                    zone.start == end,
                    action,
                    expected: "zone \(zone.index) starts where the previous one ends (\(end))",
                    observed: "starts at \(zone.start)",
                    zone: zone
                )
                end = zone.start + zone.length
                try c.require(
                    zone.type != .sequentialWritePreferred,
                    action,
                    expected: "no SEQ_WRITE_PREFERRED zones",
                    observed: "zone \(zone.index) is SEQ_WRITE_PREFERRED",
                    zone: zone
                )
            }
            try c.require(
                end == c.info.capacity,
                action,
                expected: "zones cover the whole capacity \(c.info.capacity)",
                observed: "zones end at \(end)"
            )
            let sequential = zones.filter(\.isSequential)
            let capacities = Set(sequential.dropLast().map(\.capacity))
            try c.require(
                capacities.count <= 1,
                action,
                expected: "every sequential zone but the last has the same capacity",
                observed: "capacities \(capacities.sorted())"
            )
            if let capacity = capacities.first, let last = sequential.last {
                try c.require(
                    last.capacity <= capacity || last.capacity == last.length,
                    action,
                    expected: "the last sequential zone's capacity at most \(capacity)",
                    observed: "capacity \(last.capacity)",
                    zone: last
                )
            }
            return .pass
        },

        ConformanceCheck(number: 6, title: "Size ioctls") { c throws(ConformanceStop) in
            let action = "compare the device's zone size and zone count with its zone report"
            let zones = try c.reportAll(action)
            let size = c.info.zoneSize
            try c.require(
                zones.first?.length == size,
                action,
                expected: "zone size \(size) bytes (BLKGETZONESZ) = length of zone 0",
                observed: "length of zone 0: \(zones.first.map { "\($0.length)" } ?? "no zones")"
            )
            let count = Int((c.info.capacity + size - 1) / size)
            try c.require(
                c.info.zoneCount == count && zones.count == count,
                action,
                expected: "zone count (BLKGETNRZONES) = ceil(capacity / zone size) = \(count)",
                observed: "zone count \(c.info.zoneCount), \(zones.count) zones reported"
            )
            return .pass
        },

        ConformanceCheck(number: 7, title: "sysfs limits as seen by users") { c throws(ConformanceStop) in
            let action = "read the device model and its open / active limits"
            let sequential = try c.reportAll(action).count(where: \.isSequential)
            try c.require(
                c.info.model == .hostManaged,
                action,
                expected: "host-managed",
                observed: c.info.model.rawValue
            )
            for (name, limit) in [("max_open_zones", c.info.maxOpenZones), ("max_active_zones", c.info.maxActiveZones)]
            {
                try c.require(
                    limit != .unknown,
                    action,
                    expected: "\(name) readable (0 = no limit)",
                    observed: "unknown"
                )
                if let value = limit.value {
                    try c.require(
                        value < sequential,
                        action,
                        expected:
                            "\(name) below the number of sequential zones (\(sequential)); a larger limit is reported as 0",
                        observed: "\(name) \(value)"
                    )
                }
            }
            c.note("max_open_zones \(c.info.maxOpenZones), max_active_zones \(c.info.maxActiveZones)")
            if let untrusted = c.untrustedOpenLimit { c.note(untrusted) }
            return .pass
        },

        ConformanceCheck(number: 8, title: "libzbd report filters") { c throws(ConformanceStop) in
            let zones = try c.seqs(5)
            try c.makeImplicitOpen(zones[0])
            try c.makeExplicitOpen([zones[1]])
            try c.makeClosed(zones[2])
            try c.makeFull(zones[3])
            let expected: [(Zone, ZoneReportFilter)] = [
                (zones[0], .implicitOpen), (zones[1], .explicitOpen), (zones[2], .closed), (zones[3], .full),
                (zones[4], .empty),
            ]
            let all = try c.reportAll("report all zones")
            for filter in ZoneReportFilter.allCases {
                let action = "report all zones with filter \(filter)"
                let filtered = try c.reportRange(offset: 0, length: 0, filter: filter, action: action)
                let wanted = all.filter(filter.matches).map(\.index)
                try c.require(
                    filtered.map(\.index) == wanted,
                    action,
                    expected: "the \(wanted.count) zones of the full report that match (\(SuiteText.list(wanted)))",
                    observed: "\(filtered.count) zones (\(SuiteText.list(filtered.map(\.index))))"
                )
                for (zone, zoneFilter) in expected where zoneFilter == filter {
                    try c.require(
                        filtered.contains { $0.index == zone.index },
                        action,
                        expected: "zone \(zone.index) included",
                        observed: "zone \(zone.index) missing",
                        zone: zone
                    )
                }
            }
            return .pass
        },

        ConformanceCheck(number: 9, title: "libzbd report range arithmetic") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let k = zone.index
            let size = c.info.zoneSize
            let count = c.info.zoneCount
            try c.require(
                k + 1 < count,
                "find a zone followed by another",
                expected: "zone \(k + 1) exists",
                observed: "zone \(k) is the last zone"
            )
            let cases: [(offset: UInt64, length: UInt64, zones: [Int])] = [
                (zone.start + c.unit, c.unit, [k]),
                (zone.start + c.unit, size, [k, k + 1]),
                (zone.start, size, [k]),
                (zone.start, 0, Array(k..<count)),
                (c.info.capacity - c.unit, 10 * size, [count - 1]),
                (c.info.capacity, size, []),
            ]
            for item in cases {
                let action = "report offset \(item.offset) length \(item.length)"
                let zones = try c.reportRange(offset: item.offset, length: item.length, action: action)
                try c.require(
                    zones.map(\.index) == item.zones,
                    action,
                    expected:
                        "zones \(SuiteText.list(item.zones)) (offset rounded down, end rounded up, 0 = to the end)",
                    observed: "zones \(SuiteText.list(zones.map(\.index)))"
                )
            }
            return .pass
        },

        ConformanceCheck(
            number: 11,
            title: "Write pointer of zones without a valid wp",
            variantNotes: [.nullBlk: "a zone filled by writes reports start+capacity; after FINISH start+length"]
        ) { c throws(ConformanceStop) in
            let zones = try c.seqs(2)
            let size = c.info.zoneSize
            try c.fill(zones[0], to: c.zoneCapacity)
            let filled = try c.expectZone(
                zones[0],
                anyOf: [.full],
                writePointers: Array(Set([c.zoneCapacity, size])).sorted(),
                after: "fill zone \(zones[0].index) to its capacity"
            )
            c.note("zone filled by writes reports wp +\(filled.writePointer - filled.start)")
            try c.makeFull(zones[1])
            try c.expectZone(zones[1], .full, writePointer: size, after: "FINISH zone \(zones[1].index)")
            for zone in [filled] {
                try c.require(
                    !zone.condition.hasValidWritePointer && zone.remainingCapacity == 0,
                    "interpret the FULL zone's write pointer",
                    expected: "no valid write pointer, no remaining capacity",
                    observed: "remaining capacity \(zone.remainingCapacity)",
                    zone: zone
                )
            }
            if let conventional = c.conventionalZones.first {
                c.note(
                    "conventional zone \(conventional.index) reports wp 0x\(String(conventional.writePointer, radix: 16))"
                )
            }
            return .pass
        },
    ]
}
