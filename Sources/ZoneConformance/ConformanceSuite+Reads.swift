import ZonedStorage

/// Section F: reads (items 63–68).
extension ConformanceSuite {
    static let readChecks: [ConformanceCheck] = [
        ConformanceCheck(number: 63, title: "Read below the wp") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let unit = c.ioUnit
            let first = ConformanceContext.pattern(count: 2 * unit, seed: 0x63)
            let second = ConformanceContext.pattern(count: unit, seed: 0x64)
            try c.write(bytes: first, at: zone.start, zone: zone)
            try c.write(bytes: second, at: zone.start + 2 * c.unit, zone: zone)
            let data = try c.read(3 * unit, at: zone.start, zone: zone)
            try c.expectData(data, equals: first + second, "read the 3 units below the wp", zone: zone)
            let middle = try c.read(unit, at: zone.start + c.unit, zone: zone)
            try c.expectData(middle, equals: Array(first[unit...]), "read the second unit alone", zone: zone)
            return .pass
        },

        ConformanceCheck(number: 64, title: "Read of a conventional zone") { c throws(ConformanceStop) in
            let zone = try c.conventional()
            let data = ConformanceContext.pattern(count: c.ioUnit, seed: 0x64)
            try c.write(bytes: data, at: zone.start + 8 * c.unit, zone: zone)
            let back = try c.read(c.ioUnit, at: zone.start + 8 * c.unit, zone: zone)
            try c.expectData(back, equals: data, "read back the conventional block", zone: zone)
            let wide = try c.read(16 * c.ioUnit, at: zone.start, zone: zone) ?? []
            c.note("16 units of conventional zone \(zone.index) read as \(ConformanceContext.describe(wide))")
            try c.expectZone(zone, .notWritePointer, after: "reads of conventional zone \(zone.index)")
            return .pass
        },

        ConformanceCheck(
            number: 65,
            title: "Read at or beyond the wp (incl. EMPTY zones and the gap between C and Z)",
            variantNotes: [.nullBlk: "beyond-wp data reads as 0xFF", .zns: "zeros", .zbc: "zeros"]
        ) { c throws(ConformanceStop) in
            let zones = try c.seqs(2)
            let u = c.unit
            let unit = c.ioUnit
            let empty = try c.read(2 * unit, at: zones[0].start, zone: zones[0]) ?? []
            c.note("an EMPTY zone reads as \(ConformanceContext.describe(empty))")
            try c.expectZone(zones[0], .empty, writePointer: 0, after: "read of an EMPTY zone")
            try c.write(zones[1], at: 0, seed: 0x65)
            let straddle = try c.read(3 * unit, at: zones[1].start, zone: zones[1]) ?? []
            try c.expectData(
                Array(straddle.prefix(unit)),
                equals: ConformanceContext.pattern(count: unit, seed: 0x65),
                "read straddling the wp: the part below it",
                zone: zones[1]
            )
            c.note("data beyond the wp reads as \(ConformanceContext.describe(Array(straddle.dropFirst(unit))))")
            try c.expectZone(zones[1], .implicitOpen, writePointer: u, after: "read straddling the wp")
            if c.zoneCapacity < c.info.zoneSize {
                try c.read(
                    unit,
                    at: zones[0].start + c.zoneCapacity,
                    zone: zones[0],
                    action: "read the gap between capacity and zone size"
                )
                try c.expectZone(
                    zones[0],
                    .empty,
                    writePointer: 0,
                    after: "read of the gap between capacity and zone size"
                )
            }
            try c.expectCounts(implicitOpen: 1, explicitOpen: 0, closed: 0, after: "the reads")
            return .pass
        },

        ConformanceCheck(
            number: 66,
            title: "Read of a zone finished while empty/partial",
            variantNotes: [.zbc: "content of never-written blocks is device-defined; only success is checked"]
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let unit = c.ioUnit
            try c.write(zone, at: 0, seed: 0x66)
            try c.manage(.finish, zone)
            let data = try c.read(3 * unit, at: zone.start, zone: zone) ?? []
            try c.expectData(
                Array(data.prefix(unit)),
                equals: ConformanceContext.pattern(count: unit, seed: 0x66),
                "read the written part of the finished zone",
                zone: zone
            )
            let rest = Array(data.dropFirst(unit))
            if c.variant == .zbc {
                c.note("never-written blocks of the finished zone read as \(ConformanceContext.describe(rest))")
            } else {
                try c.expectData(
                    rest,
                    equals: [UInt8](repeating: 0, count: 2 * unit),
                    "read the never-written part of the finished zone",
                    zone: zone
                )
            }
            try c.expectZone(zone, .full, after: "reads of the finished zone")
            return .pass
        },

        ConformanceCheck(number: 67, title: "Read crossing zone boundaries") { c throws(ConformanceStop) in
            let pair = try c.adjacentSequential(2)
            let unit = c.ioUnit
            try c.write(pair[1], at: 0, seed: 0x67)
            let data =
                try c.read(
                    2 * unit,
                    at: pair[1].start - c.unit,
                    zone: pair[1],
                    action: "read 2 units across the boundary of zones \(pair[0].index) and \(pair[1].index)"
                ) ?? []
            try c.expectData(
                Array(data.suffix(unit)),
                equals: ConformanceContext.pattern(count: unit, seed: 0x67),
                "the part of the crossing read in zone \(pair[1].index)",
                zone: pair[1]
            )
            try c.expectZone(pair[0], .empty, writePointer: 0, after: "the crossing read")
            try c.expectZone(pair[1], .implicitOpen, writePointer: c.unit, after: "the crossing read")
            if let conventional = c.conventionalZones.last, conventional.index + 1 == pair[0].index {
                try c.read(
                    2 * unit,
                    at: pair[0].start - c.unit,
                    zone: pair[0],
                    action:
                        "read across the boundary of conventional zone \(conventional.index) and zone \(pair[0].index)"
                )
            }
            return .pass
        },

        ConformanceCheck(number: 68, title: "Reads never change zone state or consume resources") {
            c throws(ConformanceStop) in
            let open = (try? c.openLimit()) ?? 3
            let zones = try c.seqs(open + 3)
            try c.makeFull(zones[open])
            if c.activeRoom(for: open + 1, inUse: 0) { try c.makeClosed(zones[open + 1]) }
            for zone in zones[0..<open] { try c.write(zone, at: 0) }
            let before = try c.reportAll("report all zones before the reads")
            for zone in zones + c.conventionalZones.prefix(1) {
                try c.read(2 * c.ioUnit, at: zone.start, zone: zone)
                try c.read(c.ioUnit, at: zone.start + c.zoneCapacity - c.unit, zone: zone)
            }
            let after = try c.reportAll("report all zones after the reads")
            for (old, new) in zip(before, after)
            where old.condition != new.condition || old.writePointer != new.writePointer {
                throw .fail(
                    expected: ConformanceExpectation(
                        action: "reads of \(zones.count) zones with every open slot held",
                        zone: old.index,
                        zoneStart: old.start,
                        conditions: [old.condition],
                        writePointers: [old.writePointer]
                    ),
                    observed: ConformanceObservation(zone: new)
                )
            }
            return .pass
        },
    ]
}
