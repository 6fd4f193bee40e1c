import ZonedStorage

/// Section I: libzbd / wrapper-specific behaviour (items 77, 79, 80).
extension ConformanceSuite {
    static let wrapperChecks: [ConformanceCheck] = [
        ConformanceCheck(number: 77, title: "Zone-operation range handling hides kernel EINVAL") {
            c throws(ConformanceStop) in
            let pair = try c.adjacentSequential(2)
            let u = c.unit
            let size = c.info.zoneSize
            try c.manage(
                .open,
                offset: pair[0].start + u,
                length: u,
                zone: pair[0],
                action: "OPEN the misaligned range +\(u) length \(u) of zone \(pair[0].index)"
            )
            try c.expectZone(
                pair[0],
                .explicitOpen,
                writePointer: 0,
                after: "OPEN of a misaligned range (rounded to the zone)"
            )
            try c.manage(
                .finish,
                offset: pair[0].start + u,
                length: u,
                zone: pair[0],
                action: "FINISH the misaligned range +\(u) length \(u) of zone \(pair[0].index)"
            )
            try c.expectZone(pair[0], .full, writePointer: size, after: "FINISH of a misaligned range")
            try c.write(pair[1], at: 0)
            try c.manage(
                .reset,
                offset: pair[0].start + u,
                length: size,
                zone: pair[0],
                action:
                    "RESET the range +\(u) length \(size) (rounded out to zones \(pair[0].index) and \(pair[1].index))"
            )
            try c.expectZone(pair[0], .empty, writePointer: 0, after: "RESET of a range rounded out")
            try c.expectZone(pair[1], .empty, writePointer: 0, after: "RESET of a range rounded out")
            try c.manage(
                .reset,
                offset: c.info.capacity,
                length: size,
                zone: nil,
                action: "RESET a range starting at the device capacity (nothing to do, no error)"
            )
            try c.manage(
                .open,
                offset: c.info.capacity + size,
                length: 0,
                zone: nil,
                action: "OPEN a range starting past the end of the device (nothing to do, no error)"
            )
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 0, after: "the range operations")
            return .pass
        },

        ConformanceCheck(
            number: 79,
            title: "Device-family differences the wrapper must tolerate",
            variantNotes: [
                .nullBlk: "OPEN FULL, CLOSE EMPTY, CLOSE FULL fail with EIO; an unwritten open zone closes to EMPTY",
                .zns: "as null_blk, but an unwritten open zone closes to CLOSED; no conventional zones",
                .zbc: "OPEN FULL, CLOSE EMPTY, CLOSE FULL succeed; capacity = length; no active limit",
            ]
        ) { c throws(ConformanceStop) in
            let zones = try c.seqs(3)
            let io = DeviceVariant.zbc.ioErrorStatuses
            try c.makeFull(zones[0])
            let openFull = try c.manage(.open, zones[0], expect: io + [.success])
            let closeFull = try c.manage(.close, zones[0], expect: io + [.success])
            let closeEmpty = try c.manage(.close, zones[1], expect: io + [.success])
            try c.manage(.open, zones[2])
            try c.manage(.close, zones[2])
            let unwritten = try c.report(zones[2]).condition
            let observed = FamilySignature(
                opensFull: openFull.isSuccess,
                closesEmpty: closeEmpty.isSuccess,
                closesFull: closeFull.isSuccess,
                unwrittenCloseLeavesClosed: unwritten == .closed
            )
            let matches = DeviceVariant.allCases.filter { FamilySignature($0) == observed }
            try c.require(
                matches.contains(c.variant),
                "OPEN FULL, CLOSE FULL, CLOSE EMPTY, and CLOSE an unwritten EXP_OPEN zone",
                expected: "\(c.variant) behaviour: \(FamilySignature(c.variant))",
                observed: "\(observed)"
                    + (matches.isEmpty
                        ? " (no known variant)"
                        : " (the behaviour of \(matches.map(\.rawValue).joined(separator: ", ")))")
            )
            c.note("zone-operation behaviour matches: \(matches.map(\.rawValue).joined(separator: ", "))")
            switch c.variant {
            case .zbc:
                try c.require(
                    c.zoneCapacity == c.info.zoneSize && c.activeLimit == nil,
                    "compare the geometry with the SCSI ZBC model",
                    expected: "capacity = zone length, no active-zone limit",
                    observed:
                        "capacity \(c.zoneCapacity) of \(c.info.zoneSize), max_active_zones \(c.info.maxActiveZones)"
                )
            case .zns:
                try c.require(
                    c.conventionalZones.isEmpty,
                    "compare the geometry with the NVMe ZNS model",
                    expected: "no conventional zones",
                    observed: "\(c.conventionalZones.count) conventional zones"
                )
            case .nullBlk:
                break
            }
            return .pass
        },

        ConformanceCheck(number: 80, title: "Smoke sequence to run against every device and the emulator") {
            c throws(ConformanceStop) in
            let u = c.unit
            let size = c.info.zoneSize
            // (1) Report all zones: count, contiguity, capacity <= length.
            let zones = try c.reportAll("(1) report all zones")
            var end: UInt64 = 0
            for zone in zones {
                try c.require(
                    zone.start == end && zone.capacity <= zone.length,
                    "(1) check the report",
                    expected: "zone \(zone.index) starts at \(end), capacity <= length",
                    observed: "starts at \(zone.start), capacity \(zone.capacity), length \(zone.length)",
                    zone: zone
                )
                end = zone.start + zone.length
            }
            try c.require(
                zones.count == c.info.zoneCount && end == c.info.capacity,
                "(1) check the report",
                expected: "\(c.info.zoneCount) zones covering \(c.info.capacity) bytes",
                observed: "\(zones.count) zones covering \(end) bytes"
            )
            // (2) Write 4 KiB at the start of two adjacent zones, then reset them.
            let pair = try c.adjacentSequential(2)
            let units = max(1, 4096 / c.ioUnit)
            for zone in pair {
                try c.write(zone, at: 0, units: units)
                try c.expectZone(
                    zone,
                    .implicitOpen,
                    writePointer: UInt64(units) * u,
                    after: "(2) write 4 KiB at the zone start"
                )
            }
            try c.reset(pair)
            for zone in pair { try c.expectZone(zone, .empty, writePointer: 0, after: "(2) reset") }
            // (3) A write across the zone boundary.
            if c.zoneCapacity == size {
                try c.fill(pair[0], to: size - u)
                try c.write(
                    bytes: ConformanceContext.pattern(count: 2 * c.ioUnit, seed: 8),
                    at: pair[1].start - u,
                    zone: pair[1],
                    action: "(3) write 2 units across into zone \(pair[1].index)"
                )
                try c.expectZone(pair[0], anyOf: [.full], after: "(3) the crossing write")
                try c.expectZone(
                    pair[1],
                    anyOf: [.implicitOpen, .closed],
                    writePointers: [u],
                    after: "(3) the crossing write"
                )
                try c.resetUsedZones()
            } else {
                c.note("(3) not run: zone capacity < zone size")
            }
            // (4) Implicit opens are not limited by max_open.
            if let limit = try? c.openLimit() {
                let count = min(2 * limit, c.activeLimit ?? 2 * limit)
                if let many = try? c.seqs(count) {
                    for zone in many { try c.write(zone, at: 0) }
                    try c.resetUsedZones()
                } else {
                    c.note("(4) not run: needs \(count) working zones")
                }
                // (5) Every open slot held explicitly: write / open / finish of an EMPTY zone refused.
                if let open = try? c.seqs(limit + 1) {
                    try c.makeExplicitOpen(Array(open[0..<limit]))
                    let target = open[limit]
                    let refusal = c.openRefusal(activeInUse: limit, targetNeedsActiveSlot: true)
                    try c.write(target, at: 0, expect: [refusal])
                    try c.manage(.open, target, expect: [refusal])
                    try c.manage(.finish, target, expect: Self.finishUnderPressure(c, refusal: refusal))
                    try c.resetUsedZones()
                }
            } else {
                c.note("(4), (5) not run: no open-zone limit")
            }
            // (6) Active limit: a new EMPTY zone is refused with EOVERFLOW.
            if let active = c.activeLimit, let many = try? c.seqs(active + 1) {
                for zone in many[0..<active] { try c.makeClosed(zone) }
                try c.write(many[active], at: 0, expect: [.tooManyActiveZones])
                try c.resetUsedZones()
            } else {
                c.note("(6) not run: no active-zone limit")
            }
            // (7) A misaligned write, then the true wp (sticky error until a report on new kernels).
            let zone = try c.seq(0)
            try c.write(zone, at: 0)
            try c.attempt("(7) write ahead of the wp", zone: zone, expect: c.eio) { () throws(ZonedStorageError) in
                try c.device.write(ConformanceContext.pattern(count: c.ioUnit, seed: 3), at: zone.start + 2 * u)
            }
            let status = try c.attempt("(7) write at the true wp", zone: zone, expect: c.eio + [.success]) {
                () throws(ZonedStorageError) in
                try c.device.write(ConformanceContext.pattern(count: c.ioUnit, seed: 4), at: zone.start + u)
            }
            if !status.isSuccess {
                _ = try c.report(zone, after: "(7) report after the sticky error")
                try c.write(zone, at: u, seed: 4)
            }
            try c.expectZone(zone, .implicitOpen, writePointer: 2 * u, after: "(7) the write at the true wp")
            return .pass
        },
    ]
}
