import ZonedStorage

/// Section D: explicit zone management (items 31–52).
extension ConformanceSuite {
    static let zoneManagementChecks: [ConformanceCheck] = [
        ConformanceCheck(number: 31, title: "OPEN EMPTY → EXP_OPEN") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.manage(.open, zone)
            try c.expectZone(zone, .explicitOpen, writePointer: 0, after: "OPEN EMPTY zone \(zone.index)")
            try c.expectCounts(implicitOpen: 0, explicitOpen: 1, closed: 0, after: "OPEN EMPTY (open +1, active +1)")
            return .pass
        },

        ConformanceCheck(number: 32, title: "OPEN IMP_OPEN → EXP_OPEN") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.makeImplicitOpen(zone)
            try c.manage(.open, zone)
            try c.expectZone(zone, .explicitOpen, writePointer: c.unit, after: "OPEN IMP_OPEN zone \(zone.index)")
            try c.expectCounts(implicitOpen: 0, explicitOpen: 1, closed: 0, after: "OPEN IMP_OPEN (IMP −1, EXP +1)")
            return .pass
        },

        ConformanceCheck(number: 33, title: "OPEN EXP_OPEN → no-op success") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.manage(.open, zone)
            try c.manage(.open, zone)
            try c.expectZone(zone, .explicitOpen, writePointer: 0, after: "OPEN EXP_OPEN zone \(zone.index) again")
            try c.expectCounts(implicitOpen: 0, explicitOpen: 1, closed: 0, after: "the second OPEN")
            return .pass
        },

        ConformanceCheck(number: 34, title: "OPEN CLOSED → EXP_OPEN") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.makeClosed(zone)
            try c.manage(.open, zone)
            try c.expectZone(zone, .explicitOpen, writePointer: c.unit, after: "OPEN CLOSED zone \(zone.index)")
            try c.expectCounts(implicitOpen: 0, explicitOpen: 1, closed: 0, after: "OPEN CLOSED (active unchanged)")
            return .pass
        },

        ConformanceCheck(
            number: 35,
            title: "OPEN FULL",
            variantNotes: [.nullBlk: "EIO", .zns: "EIO (invalid zone state transition)", .zbc: "success, stays FULL"]
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.makeFull(zone)
            try c.manage(.open, zone, expect: c.variant.opensFullZones ? [.success] : c.eio)
            try c.expectZone(zone, .full, after: "OPEN FULL zone \(zone.index)")
            return .pass
        },

        ConformanceCheck(number: 36, title: "CLOSE IMP_OPEN/EXP_OPEN with wp > S → CLOSED") {
            c throws(ConformanceStop) in
            let zones = try c.seqs(2)
            let u = c.unit
            try c.write(zones[0], at: 0, units: 2)
            try c.manage(.close, zones[0])
            try c.expectZone(zones[0], .closed, writePointer: 2 * u, after: "CLOSE IMP_OPEN zone \(zones[0].index)")
            try c.manage(.open, zones[1])
            try c.write(zones[1], at: 0)
            try c.manage(.close, zones[1])
            try c.expectZone(zones[1], .closed, writePointer: u, after: "CLOSE EXP_OPEN zone \(zones[1].index)")
            try c.expectCounts(
                implicitOpen: 0,
                explicitOpen: 0,
                closed: 2,
                after: "two CLOSEs (open −1 each, active unchanged)"
            )
            return .pass
        },

        ConformanceCheck(
            number: 37,
            title: "CLOSE an open zone whose wp == S → EMPTY",
            variantNotes: [.zns: "QEMU ZNS leaves it CLOSED (wp = S, still active)"]
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.manage(.open, zone)
            try c.manage(.close, zone)
            if c.variant.closingUnwrittenZoneLeavesItClosed {
                try c.expectZone(zone, .closed, writePointer: 0, after: "CLOSE unwritten EXP_OPEN zone \(zone.index)")
                try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 1, after: "the CLOSE (still active)")
            } else {
                try c.expectZone(zone, .empty, writePointer: 0, after: "CLOSE unwritten EXP_OPEN zone \(zone.index)")
                try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 0, after: "the CLOSE (open −1, active −1)")
            }
            return .pass
        },

        ConformanceCheck(number: 38, title: "CLOSE CLOSED → no-op success") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.makeClosed(zone)
            try c.manage(.close, zone)
            try c.expectZone(zone, .closed, writePointer: c.unit, after: "CLOSE CLOSED zone \(zone.index) again")
            return .pass
        },

        ConformanceCheck(
            number: 39,
            title: "CLOSE EMPTY",
            variantNotes: [.nullBlk: "EIO", .zns: "EIO", .zbc: "success, stays EMPTY"]
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.manage(.close, zone, expect: c.variant.closesEmptyZones ? [.success] : c.eio)
            try c.expectZone(zone, .empty, writePointer: 0, after: "CLOSE EMPTY zone \(zone.index)")
            return .pass
        },

        ConformanceCheck(
            number: 40,
            title: "CLOSE FULL",
            variantNotes: [.nullBlk: "EIO", .zns: "EIO", .zbc: "success, stays FULL"]
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.makeFull(zone)
            try c.manage(.close, zone, expect: c.variant.closesFullZones ? [.success] : c.eio)
            try c.expectZone(zone, .full, after: "CLOSE FULL zone \(zone.index)")
            return .pass
        },

        ConformanceCheck(number: 41, title: "FINISH IMP_OPEN / EXP_OPEN → FULL") { c throws(ConformanceStop) in
            let zones = try c.seqs(2)
            let size = c.info.zoneSize
            try c.makeImplicitOpen(zones[0])
            try c.manage(.finish, zones[0])
            try c.expectZone(zones[0], .full, writePointer: size, after: "FINISH IMP_OPEN zone \(zones[0].index)")
            try c.manage(.open, zones[1])
            try c.manage(.finish, zones[1])
            try c.expectZone(zones[1], .full, writePointer: size, after: "FINISH EXP_OPEN zone \(zones[1].index)")
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 0, after: "the FINISHes (open −1, active −1)")
            return .pass
        },

        ConformanceCheck(
            number: 42,
            title: "FINISH CLOSED → FULL",
            variantNotes: [
                .nullBlk: "needs an open slot: ETOOMANYREFS when every open zone is explicitly open",
                .zns: "no resource check: succeeds",
                .zbc: "either",
            ]
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.makeClosed(zone)
            try c.manage(.finish, zone)
            try c.expectZone(zone, .full, writePointer: c.info.zoneSize, after: "FINISH CLOSED zone \(zone.index)")
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 0, after: "the FINISH (active −1)")
            guard let limit = try? c.openLimit(), c.activeRoom(for: limit + 1, inUse: 0),
                let zones = try? c.seqs(limit + 1)
            else {
                c.note("the open-limit part was not run: it needs an open limit M and room for M + 1 active zones")
                return .pass
            }
            try c.resetUsedZones()
            let target = zones[limit]
            try c.makeClosed(target)
            try c.makeExplicitOpen(Array(zones[0..<limit]))
            let status = try c.manage(.finish, target, expect: Self.finishUnderPressure(c, refusal: .tooManyOpenZones))
            if status.isSuccess {
                c.note("FINISH of a CLOSED zone with every open slot held explicitly succeeded (no resource check)")
                try c.expectZone(target, .full, after: "FINISH CLOSED with every open slot held explicitly")
            } else {
                try c.expectZone(target, .closed, writePointer: c.unit, after: "refused FINISH of a CLOSED zone")
            }
            return .pass
        },

        ConformanceCheck(
            number: 43,
            title: "FINISH EMPTY → FULL",
            variantNotes: [
                .nullBlk: "checks the active then the open limit (EOVERFLOW / ETOOMANYREFS)",
                .zns: "never checks limits",
                .zbc: "may refuse or succeed at the open limit",
            ]
        ) { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let size = c.info.zoneSize
            try c.manage(.finish, zone)
            try c.expectZone(zone, .full, writePointer: size, after: "FINISH EMPTY zone \(zone.index)")
            try c.expectCounts(
                implicitOpen: 0,
                explicitOpen: 0,
                closed: 0,
                after: "FINISH EMPTY (the zone never counts)"
            )
            let data = try c.read(2 * c.ioUnit, at: zone.start, zone: zone) ?? []
            if c.variant == .zbc {
                c.note("data of the finished empty zone reads as \(ConformanceContext.describe(data))")
            } else {
                try c.expectData(
                    data,
                    equals: [UInt8](repeating: 0, count: 2 * c.ioUnit),
                    "read the finished empty zone",
                    zone: zone
                )
            }
            if let limit = try? c.openLimit(), let zones = try? c.seqs(limit + 1) {
                try c.resetUsedZones()
                let target = zones[limit]
                try c.makeExplicitOpen(Array(zones[0..<limit]))
                let refusal = c.openRefusal(activeInUse: limit, targetNeedsActiveSlot: true)
                let status = try c.manage(.finish, target, expect: Self.finishUnderPressure(c, refusal: refusal))
                if status.isSuccess {
                    try c.expectZone(
                        target,
                        .full,
                        writePointer: size,
                        after: "FINISH EMPTY with every open slot held explicitly"
                    )
                } else {
                    try c.expectZone(target, .empty, writePointer: 0, after: "refused FINISH of an EMPTY zone")
                }
                c.note("FINISH EMPTY with every open slot held explicitly: \(status)")
            }
            if let active = c.activeLimit, let zones = try? c.seqs(active + 1) {
                try c.resetUsedZones()
                for zone in zones[0..<active] { try c.makeClosed(zone) }
                let target = zones[active]
                let status = try c.manage(
                    .finish,
                    target,
                    expect: Self.finishUnderPressure(c, refusal: .tooManyActiveZones)
                )
                if status.isSuccess {
                    try c.expectZone(target, .full, writePointer: size, after: "FINISH EMPTY at the active limit")
                } else {
                    try c.expectZone(
                        target,
                        .empty,
                        writePointer: 0,
                        after: "refused FINISH of an EMPTY zone at the active limit"
                    )
                }
                c.note("FINISH EMPTY at the active limit: \(status)")
            }
            return .pass
        },

        ConformanceCheck(number: 44, title: "FINISH FULL → no-op success") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.makeFull(zone)
            try c.manage(.finish, zone)
            try c.expectZone(zone, .full, writePointer: c.info.zoneSize, after: "FINISH FULL zone \(zone.index) again")
            return .pass
        },

        ConformanceCheck(number: 45, title: "RESET IMP_OPEN / EXP_OPEN / CLOSED / FULL → EMPTY") {
            c throws(ConformanceStop) in
            let zones = try c.seqs(4)
            try c.makeImplicitOpen(zones[0])
            try c.manage(.open, zones[1])
            try c.write(zones[1], at: 0)
            try c.makeClosed(zones[2])
            try c.fill(zones[3], to: c.zoneCapacity)
            for (zone, state) in zip(zones, ["IMP_OPEN", "EXP_OPEN", "CLOSED", "FULL"]) {
                try c.manage(.reset, zone)
                try c.expectZone(zone, .empty, writePointer: 0, after: "RESET \(state) zone \(zone.index)")
                let data = try c.read(c.ioUnit, at: zone.start, zone: zone) ?? []
                try c.require(
                    data != ConformanceContext.pattern(count: c.ioUnit, seed: 1),
                    "read the start of zone \(zone.index) after its reset",
                    expected: "not the data written before the reset",
                    observed: "the old data",
                    zone: zone
                )
            }
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 0, after: "the RESETs released every resource")
            return .pass
        },

        ConformanceCheck(number: 46, title: "RESET EMPTY → no-op success") { c throws(ConformanceStop) in
            let zone = try c.seq(0)
            try c.manage(.reset, zone)
            try c.expectZone(zone, .empty, writePointer: 0, after: "RESET EMPTY zone \(zone.index)")
            return .pass
        },

        ConformanceCheck(number: 47, title: "Any zone operation on a conventional zone (single-zone range)") {
            c throws(ConformanceStop) in
            let zone = try c.conventional()
            for operation in [ZoneOperation.reset, .open, .close, .finish] {
                try c.manage(operation, zone, expect: c.eio)
                try c.expectZone(
                    zone,
                    .notWritePointer,
                    after: "\(operation.rawValue.uppercased()) conventional zone \(zone.index)"
                )
            }
            return .pass
        },

        ConformanceCheck(
            number: 48,
            title: "Any zone operation on a READONLY or OFFLINE zone",
            limitation: "needs a ZoneConditionInjector or a zone that already is READONLY / OFFLINE"
        ) { c throws(ConformanceStop) in
            var ran = 0
            for (position, condition) in [(0, ZoneCondition.readOnly), (1, .offline)] {
                guard let (zone, _) = try Self.optionalFaultyZone(c, condition, position: position) else { continue }
                for operation in [ZoneOperation.reset, .open, .close, .finish] {
                    try c.manage(operation, zone, expect: c.eio)
                    try c.expectZone(
                        zone,
                        condition,
                        after: "\(operation.rawValue.uppercased()) \(condition.kernelName) zone \(zone.index)"
                    )
                }
                ran += 1
            }
            if ran == 0 { throw .skip("the device has no READONLY or OFFLINE zone and offers no way to make one") }
            return .pass
        },

        ConformanceCheck(number: 49, title: "Reset of the whole device = RESET ALL") { c throws(ConformanceStop) in
            let zones = try c.seqs(4)
            try c.makeImplicitOpen(zones[0])
            try c.manage(.open, zones[1])
            try c.makeClosed(zones[2])
            try c.makeFull(zones[3])
            var faulty: [(Zone, ZoneCondition)] = []
            for (position, condition) in [(4, ZoneCondition.readOnly), (5, .offline)] {
                if let (zone, _) = try Self.optionalFaultyZone(c, condition, position: position) {
                    faulty.append((zone, condition))
                }
            }
            let conventional = c.conventionalZones.first
            let marker = ConformanceContext.pattern(count: c.ioUnit, seed: 0x49)
            if let conventional { try c.write(bytes: marker, at: conventional.start, zone: conventional) }
            try c.manage(.reset, offset: 0, length: 0, zone: nil, action: "RESET ALL (reset of the whole device)")
            for zone in zones {
                try c.expectZone(zone, .empty, writePointer: 0, after: "RESET ALL")
            }
            for (zone, condition) in faulty {
                try c.expectZone(zone, condition, after: "RESET ALL (skips \(condition.kernelName) zones)")
            }
            if let conventional {
                try c.expectZone(conventional, .notWritePointer, after: "RESET ALL (skips conventional zones)")
                let data = try c.read(c.ioUnit, at: conventional.start, zone: conventional)
                try c.expectData(
                    data,
                    equals: marker,
                    "read conventional zone \(conventional.index) after RESET ALL",
                    zone: conventional
                )
            }
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 0, after: "RESET ALL")
            if faulty.isEmpty { c.note("no READONLY / OFFLINE zone was part of the mixture") }
            return .pass
        },

        ConformanceCheck(
            number: 50,
            title: "Multi-zone range operations",
            variantNotes: [.zbc: "without conventional zones the check is skipped (OPEN FULL succeeds on ZBC)"]
        ) { c throws(ConformanceStop) in
            let size = c.info.zoneSize
            if let conventional = c.conventionalZones.last, let pair = try? c.adjacentSequential(2),
                conventional.index + 1 == pair[0].index
            {
                try c.manage(
                    .open,
                    offset: conventional.start,
                    length: 3 * size,
                    zone: conventional,
                    expect: c.eio,
                    action:
                        "OPEN the range of conventional zone \(conventional.index) and zones \(pair[0].index), \(pair[1].index)"
                )
                for zone in pair {
                    try c.expectZone(
                        zone,
                        .explicitOpen,
                        writePointer: 0,
                        after: "the refused range OPEN (no rollback)"
                    )
                }
                try c.expectZone(conventional, .notWritePointer, after: "the refused range OPEN")
                return .pass
            }
            guard !c.variant.opensFullZones else {
                throw .skip("no conventional zone next to the working zones, and OPEN of a FULL zone succeeds on ZBC")
            }
            let zones = try c.adjacentSequential(3)
            try c.makeFull(zones[1])
            try c.manage(
                .open,
                offset: zones[0].start,
                length: 3 * size,
                zone: zones[0],
                expect: c.eio,
                action: "OPEN the range of zones \(zones[0].index)–\(zones[2].index) whose middle zone is FULL"
            )
            try c.expectZone(zones[0], .explicitOpen, writePointer: 0, after: "the refused range OPEN (no rollback)")
            try c.expectZone(zones[1], .full, after: "the refused range OPEN")
            try c.expectZone(
                zones[2],
                .explicitOpen,
                writePointer: 0,
                after: "the refused range OPEN (every zone tried)"
            )
            return .pass
        },

        ConformanceCheck(number: 52, title: "Zone operations do not move the wp except FINISH and RESET") {
            c throws(ConformanceStop) in
            let zone = try c.seq(0)
            let u = c.unit
            try c.write(zone, at: 0, units: 2)
            try c.manage(.open, zone)
            try c.expectZone(zone, .explicitOpen, writePointer: 2 * u, after: "OPEN")
            try c.manage(.close, zone)
            try c.expectZone(zone, .closed, writePointer: 2 * u, after: "CLOSE")
            try c.manage(.open, zone)
            try c.expectZone(zone, .explicitOpen, writePointer: 2 * u, after: "OPEN again")
            try c.manage(.finish, zone)
            try c.expectZone(zone, .full, writePointer: c.info.zoneSize, after: "FINISH")
            try c.manage(.reset, zone)
            try c.expectZone(zone, .empty, writePointer: 0, after: "RESET")
            return .pass
        },
    ]

    /// The acceptable results of a FINISH that null_blk refuses with `refusal`.
    static func finishUnderPressure(_ c: ConformanceContext, refusal: OperationStatus) -> [OperationStatus] {
        switch c.variant.finishChecksResources {
        case true?: [refusal]
        case false?: [.success]
        case nil: [refusal, .success]
        }
    }

    /// A READONLY / OFFLINE zone, or nil when there is none and no injector.
    static func optionalFaultyZone(
        _ c: ConformanceContext,
        _ condition: ZoneCondition,
        position: Int
    ) throws(ConformanceStop) -> (Zone, Bool)? {
        if c.injector == nil, !c.faultyZones.contains(where: { $0.condition == condition }) { return nil }
        return try c.faultyZone(condition, position: position)
    }
}
