import Dispatch
import Synchronization
import ZonedStorage

/// Section C: zone append (items 27–29). Devices that cannot append (libzbd) skip these.
extension ConformanceSuite {
    static let appendChecks: [ConformanceCheck] = [
        ConformanceCheck(
            number: 27,
            title: "Append semantics",
            limitation: "skipped on devices whose append throws .unsupported (libzbd devices, item 30)"
        ) { c throws(ConformanceStop) in
            let zones = try c.seqs(3)
            let u = c.unit
            let first = try c.append(zones[0], units: 2)
            try c.require(
                first == zones[0].start,
                "append 2 units to EMPTY zone \(zones[0].index)",
                expected: "data placed at the zone start \(zones[0].start)",
                observed: "placed at \(first.map { "\($0)" } ?? "nothing")",
                zone: zones[0]
            )
            try c.expectZone(zones[0], .implicitOpen, writePointer: 2 * u, after: "the append to an EMPTY zone")
            let second = try c.append(zones[0], units: 1, seed: 3)
            try c.require(
                second == zones[0].start + 2 * u,
                "append 1 unit to IMP_OPEN zone \(zones[0].index)",
                expected: "data placed at the old wp \(zones[0].start + 2 * u)",
                observed: "placed at \(second.map { "\($0)" } ?? "nothing")",
                zone: zones[0]
            )
            let data = try c.read(3 * c.ioUnit, at: zones[0].start, zone: zones[0])
            try c.expectData(
                data,
                equals: ConformanceContext.pattern(count: 2 * c.ioUnit, seed: 2)
                    + ConformanceContext.pattern(count: c.ioUnit, seed: 3),
                "read back the appended data",
                zone: zones[0]
            )
            try c.manage(.open, zones[1])
            try c.append(zones[1])
            try c.expectZone(
                zones[1],
                .explicitOpen,
                writePointer: u,
                after: "append to EXP_OPEN zone \(zones[1].index)"
            )
            try c.makeClosed(zones[2])
            let closed = try c.append(zones[2])
            try c.require(
                closed == zones[2].start + u,
                "append to CLOSED zone \(zones[2].index)",
                expected: "data placed at the wp \(zones[2].start + u)",
                observed: "placed at \(closed.map { "\($0)" } ?? "nothing")",
                zone: zones[2]
            )
            try c.expectZone(zones[2], .implicitOpen, writePointer: 2 * u, after: "append to a CLOSED zone")
            return .pass
        },

        ConformanceCheck(
            number: 28,
            title: "Append rejections",
            limitation: "skipped on devices whose append throws .unsupported (libzbd devices, item 30); the "
                + "device's zone append size limit is not known through the API, so a size over the zone "
                + "capacity is used instead"
        ) { c throws(ConformanceStop) in
            let zones = try c.seqs(3)
            let u = c.unit
            let block = ConformanceContext.pattern(count: c.ioUnit, seed: 2)
            try c.append(
                bytes: block,
                toZoneAt: zones[0].start + u,
                zone: zones[0],
                expect: c.eio,
                action: "append to an offset that is not a zone start (+\(u) of zone \(zones[0].index))"
            )
            try c.expectZone(zones[0], .empty, writePointer: 0, after: "refused append to a non-zone-start")
            if let conventional = c.conventionalZones.first {
                try c.append(
                    bytes: block,
                    toZoneAt: conventional.start,
                    zone: conventional,
                    expect: c.eio,
                    action: "append to conventional zone \(conventional.index)"
                )
            }
            try c.makeFull(zones[1])
            try c.append(zones[1], expect: c.eio)
            try c.expectZone(zones[1], .full, after: "refused append to a FULL zone")
            let tooBig = Int(c.zoneCapacity) + c.ioUnit
            try c.append(
                bytes: [UInt8](repeating: 0x5A, count: tooBig),
                toZoneAt: zones[0].start,
                zone: zones[0],
                expect: c.eio,
                action: "append \(tooBig) bytes (more than the zone capacity) to EMPTY zone \(zones[0].index)"
            )
            try c.expectZone(zones[0], .empty, writePointer: 0, after: "refused oversized append")
            try c.fill(zones[2], to: c.zoneCapacity - u)
            try c.append(zones[2], units: 2, expect: c.eio)
            try c.expectZone(
                zones[2],
                .implicitOpen,
                writePointer: c.zoneCapacity - u,
                after: "refused append that does not fit (no partial append)"
            )
            return .pass
        },

        ConformanceCheck(
            number: 29,
            title: "Concurrent appends",
            limitation: "skipped on devices whose append throws .unsupported (libzbd devices, item 30)"
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let u = c.unit
            try c.append(zone)
            let count = 8
            let device = c.device
            let unit = c.ioUnit
            let start = zone.start
            let outcomes = Mutex<[(seed: UInt8, result: Result<UInt64, ZonedStorageError>)]>([])
            DispatchQueue.concurrentPerform(iterations: count) { i in
                let bytes = ConformanceContext.pattern(count: unit, seed: UInt8(10 + i))
                let result: Result<UInt64, ZonedStorageError>
                do throws(ZonedStorageError) {
                    result = .success(try device.append(bytes, toZoneAt: start))
                } catch {
                    result = .failure(error)
                }
                outcomes.withLock { $0.append((UInt8(10 + i), result)) }
            }
            let results = outcomes.withLock { $0 }
            var offsets: [UInt64] = []
            var seeds: [UInt64: UInt8] = [:]
            for (seed, result) in results {
                switch result {
                case .success(let offset):
                    offsets.append(offset)
                    seeds[offset] = seed
                case .failure(let error):
                    throw .fail(
                        expected: ConformanceExpectation(
                            action: "\(count) concurrent appends of 1 unit to zone \(zone.index)",
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
            let expected = (1...count).map { zone.start + UInt64($0) * u }
            try c.require(
                offsets.sorted() == expected,
                "\(count) concurrent appends of 1 unit to zone \(zone.index)",
                expected: "distinct offsets covering [+\(u), +\(UInt64(count + 1) * u))",
                observed: "offsets " + offsets.sorted().map { "+\($0 - zone.start)" }.joined(separator: ", "),
                zone: zone
            )
            try c.expectZone(zone, .implicitOpen, writePointer: UInt64(count + 1) * u, after: "the concurrent appends")
            for offset in expected {
                let data = try c.read(unit, at: offset, zone: zone)
                try c.expectData(
                    data,
                    equals: ConformanceContext.pattern(count: unit, seed: seeds[offset] ?? 0),
                    "read the block at the offset one append returned (+\(offset - zone.start))",
                    zone: zone
                )
            }
            return .pass
        },
    ]
}
