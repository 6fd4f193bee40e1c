import ZonedStorage

/// Section E: open / active resource accounting (items 54–62).
extension ConformanceSuite {
    static let resourceChecks: [ConformanceCheck] = [
        ConformanceCheck(number: 54, title: "What counts") { c throws(ConformanceStop) in
            let limit = try c.openLimit()
            let zones = try c.seqs(limit + 4)
            try c.makeFull(zones[0])
            try c.makeFull(zones[1])
            let withClosed = c.activeRoom(for: limit + 1, inUse: 0)
            if withClosed { try c.makeClosed(zones[2]) }
            try c.makeExplicitOpen(Array(zones[3..<(limit + 2)]))
            if let conventional = c.conventionalZones.first { try c.write(conventional, at: 0) }
            let closed = withClosed ? 1 : 0
            try c.expectCounts(
                implicitOpen: 0,
                explicitOpen: limit - 1,
                closed: closed,
                after: "2 FULL zones, \(closed) CLOSED, \(limit - 1) EXP_OPEN and a conventional write"
            )
            let extra = zones[limit + 2]
            try c.manage(.open, extra)
            try c.expectZone(
                extra,
                .explicitOpen,
                writePointer: 0,
                after: "OPEN the \(limit)th zone (FULL, CLOSED and conventional zones hold no open slot)"
            )
            let last = zones[limit + 3]
            let refusal = c.openRefusal(activeInUse: limit + closed, targetNeedsActiveSlot: true)
            try c.manage(.open, last, expect: [refusal])
            try c.expectZone(last, .empty, writePointer: 0, after: "refused OPEN beyond \(limit) explicitly open zones")
            try c.expectCounts(implicitOpen: 0, explicitOpen: limit, closed: closed, after: "the refused OPEN")
            return .pass
        },

        ConformanceCheck(number: 55, title: "Limits configuration clamps") { c throws(ConformanceStop) in
            let action = "compare the reported open and active limits"
            let sequential = try c.reportAll(action).count(where: \.isSequential)
            let open = c.info.maxOpenZones.value
            let active = c.info.maxActiveZones.value
            if let open, let active {
                try c.require(
                    open <= active,
                    action,
                    expected: "max_open_zones <= max_active_zones (a larger open limit is clamped)",
                    observed: "max_open_zones \(open), max_active_zones \(active)"
                )
            }
            for (name, value) in [("max_open_zones", open), ("max_active_zones", active)] {
                if let value {
                    try c.require(
                        value > 0 && value < sequential,
                        action,
                        expected:
                            "\(name) between 1 and \(sequential - 1) (a limit >= the \(sequential) sequential zones is reported as 0)",
                        observed: "\(name) \(value)"
                    )
                }
            }
            c.note(
                "max_open_zones \(c.info.maxOpenZones), max_active_zones \(c.info.maxActiveZones), \(sequential) sequential zones"
            )
            return .pass
        },

        ConformanceCheck(
            number: 56,
            title: "Implicit open under max_open with at least one IMP_OPEN zone (eviction)"
        ) { c throws(ConformanceStop) in
            let limit = try c.openLimit()
            guard c.activeRoom(for: limit + 1, inUse: 0) else {
                throw .skip(
                    "max_active_zones equals max_open_zones: closing an implicitly open zone cannot make room (item 60)"
                )
            }
            let zones = try c.seqs(limit + 2)
            for zone in zones[0..<limit] { try c.write(zone, at: 0) }
            try c.expectCounts(implicitOpen: limit, explicitOpen: 0, closed: 0, after: "\(limit) implicit opens")
            try c.write(zones[limit], at: 0)
            try c.expectZone(
                zones[limit],
                .implicitOpen,
                writePointer: c.unit,
                after: "write to an EMPTY zone with every open slot held implicitly"
            )
            try c.expectCounts(
                implicitOpen: limit,
                explicitOpen: 0,
                closed: 1,
                after: "the write (exactly one IMP_OPEN zone was closed to make room)"
            )
            if c.activeRoom(for: limit + 2, inUse: 0) {
                try c.manage(.open, zones[limit + 1])
                try c.expectZone(
                    zones[limit + 1],
                    .explicitOpen,
                    writePointer: 0,
                    after: "OPEN an EMPTY zone with every open slot held"
                )
                try c.expectCounts(
                    implicitOpen: limit - 1,
                    explicitOpen: 1,
                    closed: 2,
                    after: "the OPEN (one more IMP_OPEN zone closed)"
                )
            }
            return .pass
        },

        ConformanceCheck(number: 57, title: "All open slots held by explicitly opened zones") {
            c throws(ConformanceStop) in
            let limit = try c.openLimit()
            let zones = try c.seqs(limit + 2)
            let u = c.unit
            let explicit = Array(zones[0..<limit])
            let target = zones[limit]
            let closedZone = zones[limit + 1]
            let withClosed = c.activeRoom(for: limit + 1, inUse: 0)
            if withClosed { try c.makeClosed(closedZone) }
            try c.makeExplicitOpen(explicit)
            let active = limit + (withClosed ? 1 : 0)
            let refusal = c.openRefusal(activeInUse: active, targetNeedsActiveSlot: true)
            try c.write(target, at: 0, expect: [refusal])
            try c.expectZone(target, .empty, writePointer: 0, after: "refused write to an EMPTY zone")
            try c.manage(.open, target, expect: [refusal])
            try c.expectZone(target, .empty, writePointer: 0, after: "refused OPEN of an EMPTY zone")
            if withClosed {
                try c.write(closedZone, at: u, expect: [.tooManyOpenZones])
                try c.expectZone(closedZone, .closed, writePointer: u, after: "refused write to a CLOSED zone")
                try c.manage(.open, closedZone, expect: [.tooManyOpenZones])
                try c.expectZone(closedZone, .closed, writePointer: u, after: "refused OPEN of a CLOSED zone")
            }
            try c.write(explicit[0], at: 0)
            try c.expectZone(
                explicit[0],
                .explicitOpen,
                writePointer: u,
                after: "write to one of the explicitly open zones"
            )
            try c.manage(.close, explicit[limit - 1])
            let now = try c.counts(after: "CLOSE one explicitly open zone")
            if c.activeRoom(for: 1, inUse: now.active) {
                try c.manage(.open, target)
                try c.expectZone(target, .explicitOpen, writePointer: 0, after: "OPEN after a CLOSE freed an open slot")
            } else {
                c.note("the final OPEN was not tried: the active limit is reached after the CLOSE")
            }
            return .pass
        },

        ConformanceCheck(number: 58, title: "Active limit reached") { c throws(ConformanceStop) in
            let active = try c.requireActiveLimit()
            let zones = try c.seqs(active + 1)
            for zone in zones[0..<active] { try c.makeClosed(zone) }
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: active, after: "\(active) CLOSED zones")
            let target = zones[active]
            try c.write(target, at: 0, expect: [.tooManyActiveZones])
            try c.expectZone(
                target,
                .empty,
                writePointer: 0,
                after: "refused write to an EMPTY zone at the active limit"
            )
            try c.manage(.open, target, expect: [.tooManyActiveZones])
            try c.expectZone(
                target,
                .empty,
                writePointer: 0,
                after: "refused OPEN of an EMPTY zone at the active limit"
            )
            let status = try c.manage(
                .finish,
                target,
                expect: Self.finishUnderPressure(c, refusal: .tooManyActiveZones)
            )
            if status.isSuccess {
                c.note("FINISH of an EMPTY zone at the active limit succeeded (no resource check)")
                try c.expectZone(target, .full, after: "FINISH EMPTY at the active limit")
            } else {
                try c.expectZone(
                    target,
                    .empty,
                    writePointer: 0,
                    after: "refused FINISH of an EMPTY zone at the active limit"
                )
            }
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: active, after: "the refused operations")
            return .pass
        },

        ConformanceCheck(number: 59, title: "Active limit reached, target already active") {
            c throws(ConformanceStop) in
            let active = try c.requireActiveLimit()
            let zones = try c.seqs(active)
            let u = c.unit
            for zone in zones { try c.makeClosed(zone) }
            try c.write(zones[0], at: u)
            try c.expectZone(
                zones[0],
                .implicitOpen,
                writePointer: 2 * u,
                after: "write at the wp of a CLOSED zone at the active limit"
            )
            try c.expectCounts(
                implicitOpen: 1,
                explicitOpen: 0,
                closed: active - 1,
                after: "the write (active count unchanged)"
            )
            return .pass
        },

        ConformanceCheck(
            number: 60,
            title: "Open and active both saturated, target CLOSED (null_blk-specific refusal)",
            variantNotes: [.nullBlk: "ETOOMANYREFS, nothing changes", .zns: "succeeds: an IMP_OPEN zone is closed"]
        ) { c throws(ConformanceStop) in
            let active = try c.requireActiveLimit()
            let limit = try c.openLimit()
            guard limit < active else {
                throw .skip("max_open_zones equals max_active_zones: the item needs max_open < max_active")
            }
            let zones = try c.seqs(active)
            let u = c.unit
            let closedCount = active - limit
            for zone in zones[0..<closedCount] { try c.makeClosed(zone) }
            for zone in zones[closedCount...] { try c.write(zone, at: 0) }
            try c.expectCounts(
                implicitOpen: limit,
                explicitOpen: 0,
                closed: closedCount,
                after: "\(closedCount) CLOSED and \(limit) IMP_OPEN zones (both limits reached)"
            )
            let target = zones[0]
            if c.variant.evictsAtActiveLimit {
                try c.write(target, at: u)
                try c.expectZone(
                    target,
                    .implicitOpen,
                    writePointer: 2 * u,
                    after: "write at the wp of the CLOSED zone"
                )
                try c.expectCounts(
                    implicitOpen: limit,
                    explicitOpen: 0,
                    closed: closedCount,
                    after: "the write (one IMP_OPEN zone closed, active count unchanged)"
                )
            } else {
                try c.write(target, at: u, expect: [.tooManyOpenZones])
                try c.expectZone(target, .closed, writePointer: u, after: "refused write at the wp of the CLOSED zone")
                try c.manage(.open, target, expect: [.tooManyOpenZones])
                try c.expectZone(target, .closed, writePointer: u, after: "refused OPEN of the CLOSED zone")
                try c.expectCounts(
                    implicitOpen: limit,
                    explicitOpen: 0,
                    closed: closedCount,
                    after: "the refusals (nothing changed)"
                )
            }
            return .pass
        },

        ConformanceCheck(number: 61, title: "Resources released by FULL, FINISH, RESET and CLOSE-to-EMPTY") {
            c throws(ConformanceStop) in
            let limit = try c.openLimit()
            let zones = try c.seqs(limit + 1)
            let u = c.unit
            for zone in zones[0..<limit] { try c.write(zone, at: 0) }
            try c.manage(.finish, zones[0])
            var implicit = limit - 1
            try c.expectCounts(
                implicitOpen: implicit,
                explicitOpen: 0,
                closed: 0,
                after: "FINISH one of \(limit) IMP_OPEN zones"
            )
            try c.manage(.open, zones[limit])
            try c.expectCounts(
                implicitOpen: implicit,
                explicitOpen: 1,
                closed: 0,
                after: "OPEN an EMPTY zone after the FINISH (no zone closed to make room)"
            )
            if limit >= 2 {
                try c.manage(.reset, zones[1])
                implicit -= 1
                try c.expectCounts(implicitOpen: implicit, explicitOpen: 1, closed: 0, after: "RESET an IMP_OPEN zone")
            }
            if limit >= 3 {
                try c.fill(zones[2], from: u, to: c.zoneCapacity)
                implicit -= 1
                try c.expectCounts(
                    implicitOpen: implicit,
                    explicitOpen: 1,
                    closed: 0,
                    after: "write an IMP_OPEN zone to FULL"
                )
            }
            if limit >= 4 {
                try c.manage(.close, zones[3])
                implicit -= 1
                try c.expectCounts(
                    implicitOpen: implicit,
                    explicitOpen: 1,
                    closed: 1,
                    after: "CLOSE a written IMP_OPEN zone (frees an open slot, not an active slot)"
                )
            }
            return .pass
        },

        ConformanceCheck(number: 62, title: "Limit errors leave no side effects (except eviction)") {
            c throws(ConformanceStop) in
            let limit = try c.openLimit()
            let zones = try c.seqs(limit + 1)
            let data = ConformanceContext.pattern(count: 2 * c.ioUnit, seed: 0x62)
            try c.makeExplicitOpen(Array(zones[0..<limit]))
            let target = zones[limit]
            let refusal = c.openRefusal(activeInUse: limit, targetNeedsActiveSlot: true)
            try c.write(bytes: data, at: target.start, zone: target, expect: [refusal])
            try c.expectZone(target, .empty, writePointer: 0, after: "write refused with \(refusal)")
            let read = try c.read(data.count, at: target.start, zone: target) ?? []
            try c.require(
                read != data,
                "read the target zone after the refused write",
                expected: "not the refused data (nothing was written)",
                observed: "the refused data",
                zone: target
            )
            try c.expectCounts(implicitOpen: 0, explicitOpen: limit, closed: 0, after: "the refused write")
            if let active = c.activeLimit, let more = try? c.seqs(active + 1) {
                try c.resetUsedZones()
                for zone in more[0..<active] { try c.makeClosed(zone) }
                let second = more[active]
                try c.write(bytes: data, at: second.start, zone: second, expect: [.tooManyActiveZones])
                try c.expectZone(second, .empty, writePointer: 0, after: "write refused with EOVERFLOW")
                let again = try c.read(data.count, at: second.start, zone: second) ?? []
                try c.require(
                    again != data,
                    "read the target zone after the write refused with EOVERFLOW",
                    expected: "not the refused data",
                    observed: "the refused data",
                    zone: second
                )
                try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: active, after: "the refused write")
            }
            return .pass
        },
    ]
}
