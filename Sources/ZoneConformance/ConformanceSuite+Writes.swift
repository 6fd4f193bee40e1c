import ZonedStorage

/// Section B: regular writes (items 12–25).
extension ConformanceSuite {
    static let writeChecks: [ConformanceCheck] = [
        ConformanceCheck(number: 12, title: "Write at wp of an EMPTY zone → implicit open") {
            c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let units = max(1, 4096 / c.ioUnit)
            try c.write(zone, at: 0, units: units)
            try c.expectZone(
                zone,
                .implicitOpen,
                writePointer: UInt64(units) * c.unit,
                after: "write \(units * c.ioUnit) bytes at the start of EMPTY zone \(zone.index)"
            )
            try c.expectCounts(implicitOpen: 1, explicitOpen: 0, closed: 0, after: "the implicit open")
            return .pass
        },

        ConformanceCheck(number: 13, title: "Sequential writes keep the condition") { c throws(ConformanceStop) in
            let zones = try c.seqs(2)
            let u = c.unit
            try c.write(zones[0], at: 0)
            try c.write(zones[0], at: u, units: 2)
            try c.expectZone(
                zones[0],
                .implicitOpen,
                writePointer: 3 * u,
                after: "a second write at the wp of IMP_OPEN zone \(zones[0].index)"
            )
            try c.manage(.open, zones[1])
            try c.write(zones[1], at: 0)
            try c.write(zones[1], at: u)
            try c.expectZone(
                zones[1],
                .explicitOpen,
                writePointer: 2 * u,
                after: "two writes at the wp of EXP_OPEN zone \(zones[1].index)"
            )
            return .pass
        },

        ConformanceCheck(number: 14, title: "Write at wp of a CLOSED zone") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let u = c.unit
            try c.makeClosed(zone)
            let before = try c.expectCounts(implicitOpen: 0, closed: 1, after: "write and CLOSE zone \(zone.index)")
            try c.write(zone, at: u)
            try c.expectZone(
                zone,
                .implicitOpen,
                writePointer: 2 * u,
                after: "write at the wp of CLOSED zone \(zone.index)"
            )
            try c.expectCounts(
                implicitOpen: before.implicitOpen + 1,
                explicitOpen: before.explicitOpen,
                closed: before.closed - 1,
                after: "the write reopened the zone (open +1, active unchanged)"
            )
            return .pass
        },

        ConformanceCheck(number: 15, title: "Write ahead of the wp") { c throws(ConformanceStop) in
            let zones = try c.seqs(2)
            let u = c.unit
            try c.write(zones[0], at: u, expect: c.eio)
            try c.expectZone(
                zones[0],
                .empty,
                writePointer: 0,
                after: "refused write ahead of the wp of EMPTY zone \(zones[0].index)"
            )
            try c.write(zones[1], at: 0)
            try c.write(zones[1], at: 3 * u, expect: c.eio)
            try c.expectZone(
                zones[1],
                .implicitOpen,
                writePointer: u,
                after: "refused write ahead of the wp of IMP_OPEN zone \(zones[1].index)"
            )
            return .pass
        },

        ConformanceCheck(number: 16, title: "Write behind the wp (overwrite)") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let u = c.unit
            try c.write(zone, at: 0, units: 3)
            try c.write(zone, at: 0, units: 1, seed: 9, expect: c.eio)
            try c.write(zone, at: 0, units: 3, seed: 9, expect: c.eio)
            try c.write(zone, at: 2 * u, units: 2, seed: 9, expect: c.eio)
            try c.expectZone(
                zone,
                .implicitOpen,
                writePointer: 3 * u,
                after: "three refused writes starting behind the wp"
            )
            let data = try c.read(3 * c.ioUnit, at: zone.start, zone: zone)
            try c.expectData(
                data,
                equals: ConformanceContext.pattern(count: 3 * c.ioUnit, seed: 1),
                "read back the original data",
                zone: zone
            )
            return .pass
        },

        ConformanceCheck(number: 17, title: "Write that exactly fills the capacity") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.write(zone, at: 0)
            try c.expectCounts(implicitOpen: 1, after: "write at the start of zone \(zone.index)")
            try c.fill(zone, from: c.unit, to: c.zoneCapacity)
            let size = c.info.zoneSize
            try c.expectZone(
                zone,
                anyOf: [.full],
                writePointers: Array(Set([c.zoneCapacity, size])).sorted(),
                after: "write up to the zone capacity"
            )
            try c.expectCounts(
                implicitOpen: 0,
                explicitOpen: 0,
                closed: 0,
                after: "the zone became FULL (slots released)"
            )
            return .pass
        },

        ConformanceCheck(number: 18, title: "Write to a FULL zone") { c throws(ConformanceStop) in
            let zones = try c.seqs(2)
            let u = c.unit
            try c.makeFull(zones[0])
            try c.write(zones[0], at: 0, expect: c.eio)
            try c.write(zones[0], at: c.zoneCapacity - u, expect: c.eio)
            try c.expectZone(zones[0], .full, after: "refused writes to finished zone \(zones[0].index)")
            try c.fill(zones[1], to: c.zoneCapacity)
            try c.write(zones[1], at: 0, expect: c.eio)
            try c.expectZone(zones[1], .full, after: "refused write to zone \(zones[1].index) filled by writes")
            return .pass
        },

        ConformanceCheck(
            number: 19,
            title: "Write past the capacity",
            limitation: "needs capacity < size: otherwise the write crosses into the next zone and is split (item 20)"
        ) { c throws(ConformanceStop) in
            try c.requireCapacityBelowSize()
            let zone = try c.seq(0)
            let u = c.unit
            try c.fill(zone, to: c.zoneCapacity - u)
            try c.write(zone, at: c.zoneCapacity - u, units: 2, expect: c.eio)
            try c.expectZone(
                zone,
                .implicitOpen,
                writePointer: c.zoneCapacity - u,
                after: "refused write of 2 units with 1 unit of capacity left"
            )
            return .pass
        },

        ConformanceCheck(
            number: 20,
            title: "One pwrite crossing a zone boundary (kernel splits it)",
            limitation: "needs capacity = size (with capacity < size no write can cross, item 73)"
        ) { c throws(ConformanceStop) in
            try c.requireCapacityEqualsSize("no write can cross into the next zone (item 73)")
            let pair = try c.adjacentSequential(2)
            let u = c.unit
            let size = c.info.zoneSize
            try c.fill(pair[0], to: size - u)
            try c.write(
                bytes: ConformanceContext.pattern(count: 2 * c.ioUnit, seed: 3),
                at: pair[1].start - u,
                zone: pair[1],
                action: "write 2 units at 1 unit before the start of zone \(pair[1].index)"
            )
            try c.expectZone(pair[0], anyOf: [.full], after: "the crossing write completed zone \(pair[0].index)")
            try c.expectZone(
                pair[1],
                anyOf: [.implicitOpen, .closed],
                writePointers: [u],
                after: "the crossing write's second part"
            )
            // The second part not at the next zone's write pointer: EIO, the first part may be written.
            if let second = try? c.adjacentSequential(2, startingAt: 2) {
                try c.write(second[1], at: 0)
                try c.fill(second[0], to: size - u)
                try c.write(
                    bytes: ConformanceContext.pattern(count: 2 * c.ioUnit, seed: 4),
                    at: second[1].start - u,
                    zone: second[1],
                    expect: c.eio,
                    action: "write 2 units across into zone \(second[1].index), whose wp is not at its start"
                )
                let first = try c.expectZone(
                    second[0],
                    anyOf: [.full, .implicitOpen],
                    after: "the refused crossing write (its first part may have been written)"
                )
                c.note("refused crossing write left zone \(first.index) \(first.condition.kernelName)")
                try c.expectZone(second[1], .implicitOpen, writePointer: u, after: "the refused crossing write")
            }
            return .pass
        },

        ConformanceCheck(number: 21, title: "Conventional zone writes") { c throws(ConformanceStop) in
            let zone = try c.conventional()
            let u = c.unit
            let unit = c.ioUnit
            try c.write(zone, at: 4 * u, units: 2, seed: 5)
            try c.write(zone, at: 0, units: 1, seed: 6)
            try c.write(zone, at: 4 * u, units: 2, seed: 7)
            try c.write(zone, at: 2 * u, units: 1, seed: 8)
            var expected = ConformanceContext.pattern(count: unit, seed: 6)
            expected += [UInt8](repeating: 0, count: unit)
            expected += ConformanceContext.pattern(count: unit, seed: 8)
            expected += [UInt8](repeating: 0, count: unit)
            expected += ConformanceContext.pattern(count: 2 * unit, seed: 7)
            let data = try c.read(6 * unit, at: zone.start, zone: zone) ?? []
            let written = [0, 2, 4, 5].map { Array(data[($0 * unit)..<(($0 + 1) * unit)]) }
            let wanted = [0, 2, 4, 5].map { Array(expected[($0 * unit)..<(($0 + 1) * unit)]) }
            try c.require(
                written == wanted,
                "read back the blocks written out of order and overwritten",
                expected: "the last data written to each block",
                observed: "different data",
                zone: zone
            )
            try c.expectZone(zone, .notWritePointer, after: "random writes to conventional zone \(zone.index)")
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 0, after: "writes to a conventional zone")
            if let limit = try? c.openLimit(), let open = try? c.seqs(limit) {
                try c.makeExplicitOpen(open)
                try c.write(zone, at: u, units: 1, seed: 9)
                try c.expectCounts(
                    implicitOpen: 0,
                    explicitOpen: limit,
                    closed: 0,
                    after: "a conventional write with every open slot held"
                )
            }
            return .pass
        },

        ConformanceCheck(number: 22, title: "O_DIRECT alignment") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let lbs = c.info.logicalBlockSize
            let half = UInt64(lbs / 2)
            try c.write(
                bytes: ConformanceContext.pattern(count: lbs, seed: 1),
                at: zone.start + half,
                zone: zone,
                expect: [.invalidArgument],
                action: "write \(lbs) bytes at a misaligned offset +\(half) of zone \(zone.index)"
            )
            try c.write(
                bytes: ConformanceContext.pattern(count: lbs + lbs / 2, seed: 1),
                at: zone.start,
                zone: zone,
                expect: [.invalidArgument],
                action: "write \(lbs + lbs / 2) bytes (not a multiple of the logical block size) at the wp"
            )
            try c.read(lbs, at: zone.start + half, zone: zone, expect: [.invalidArgument])
            try c.expectZone(zone, .empty, writePointer: 0, after: "misaligned requests")
            return .pass
        },

        ConformanceCheck(
            number: 23,
            title: "Zone write granularity (512e SMR)",
            variantNotes: [.zbc: "ZBC 512e disks refuse writes not aligned to the physical block"],
            limitation: "runs only when the physical block is larger than the logical block"
        ) { c throws(ConformanceStop) in
            let lbs = c.info.logicalBlockSize
            guard c.info.physicalBlockSize > lbs else {
                throw .skip("zone write granularity equals the logical block size (physical = logical block size)")
            }
            let zone = try c.seq(0)
            let accepted: [OperationStatus] = c.variant == .zbc ? c.eio : c.eio + [.success]
            let status = try c.write(
                bytes: ConformanceContext.pattern(count: lbs, seed: 1),
                at: zone.start,
                zone: zone,
                expect: accepted,
                action: "write one logical block (\(lbs) bytes, less than the physical block) at the wp"
            )
            if status.isSuccess {
                c.note("the device accepts writes of one logical block: its write granularity is the logical block")
            } else {
                try c.expectZone(zone, .empty, writePointer: 0, after: "refused sub-granularity write")
            }
            return .pass
        },

        ConformanceCheck(
            number: 25,
            title: "Sticky write error (Linux with BLK_ZONE_WPLUG_NEED_WP_UPDATE)",
            limitation: "kernels before 6.13 (and device layers that re-read the zone after a failure) "
                + "accept the next write at once; both are accepted"
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let u = c.unit
            try c.write(zone, at: 0)
            try c.attempt("write ahead of the wp", zone: zone, expect: c.eio) { () throws(ZonedStorageError) in
                try c.device.write(ConformanceContext.pattern(count: c.ioUnit, seed: 3), at: zone.start + 3 * u)
            }
            let status = try c.attempt(
                "write at the true wp right after the failed write, without a zone report",
                zone: zone,
                expect: c.eio + [.success]
            ) { () throws(ZonedStorageError) in
                try c.device.write(ConformanceContext.pattern(count: c.ioUnit, seed: 4), at: zone.start + u)
            }
            if status.isSuccess {
                c.note("no sticky error: the write at the true wp succeeded at once")
                try c.expectZone(zone, .implicitOpen, writePointer: 2 * u, after: "the write at the true wp")
            } else {
                c.note("sticky error: the write at the true wp failed (\(status)) until the zone was reported")
                try c.expectZone(zone, .implicitOpen, writePointer: u, after: "report the zone after the sticky error")
                try c.write(zone, at: u, units: 1, seed: 4)
                try c.expectZone(zone, .implicitOpen, writePointer: 2 * u, after: "write at the reported wp")
            }
            return .pass
        },
    ]
}
