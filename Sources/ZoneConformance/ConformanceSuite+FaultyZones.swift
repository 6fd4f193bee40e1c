import ZonedStorage

/// Section G: READONLY and OFFLINE zones (items 69–71).
extension ConformanceSuite {
    static let faultyZoneChecks: [ConformanceCheck] = [
        ConformanceCheck(
            number: 69,
            title: "Entering READONLY / OFFLINE",
            limitation: "needs a ZoneConditionInjector (null_blk's configfs zone_readonly / zone_offline)"
        ) { c throws(ConformanceStop) in
            let zones = try c.seqs(2)
            _ = try c.requireInjector()
            try c.write(zones[0], at: 0)
            try c.manage(.open, zones[1])
            try c.expectCounts(implicitOpen: 1, explicitOpen: 1, closed: 0, after: "open two zones")
            for (zone, condition) in [(zones[0], ZoneCondition.readOnly), (zones[1], .offline)] {
                try c.inject(zone, condition)
                let now = try c.expectZone(zone, condition, after: "make zone \(zone.index) \(condition.kernelName)")
                if c.variant == .nullBlk {
                    try c.require(
                        now.writePointer == Zone.invalidWritePointer,
                        "report the \(condition.kernelName) zone",
                        expected: "wp (sector_t)-1 = 0x\(String(Zone.invalidWritePointer, radix: 16, uppercase: true))",
                        observed: "wp 0x\(String(now.writePointer, radix: 16, uppercase: true))",
                        zone: zone
                    )
                }
            }
            try c.expectCounts(
                implicitOpen: 0,
                explicitOpen: 0,
                closed: 0,
                after: "the zones were finished before turning faulty"
            )
            for zone in zones {
                try c.inject(zone, .empty)
                try c.expectZone(zone, .empty, writePointer: 0, after: "restore zone \(zone.index) to EMPTY")
            }
            return .pass
        },

        ConformanceCheck(
            number: 70,
            title: "READONLY zone I/O",
            limitation: "needs a ZoneConditionInjector or a zone that already is READONLY"
        ) { c throws(ConformanceStop) in
            let data = ConformanceContext.pattern(count: 2 * c.ioUnit, seed: 0x70)
            let zone: Zone
            let injected: Bool
            if c.injector != nil {
                let candidate = try c.seq(0)
                try c.write(bytes: data, at: candidate.start, zone: candidate)
                (zone, injected) = try c.faultyZone(.readOnly, position: 0)
            } else {
                (zone, injected) = try c.faultyZone(.readOnly, position: 0)
            }
            let back = try c.read(data.count, at: zone.start, zone: zone)
            if injected {
                try c.expectData(back, equals: data, "read the READONLY zone", zone: zone)
            }
            try c.write(zone, at: 0, expect: c.eio)
            try c.write(zone, at: 2 * c.unit, expect: c.eio)
            try Self.appendRefused(c, zone)
            for operation in [ZoneOperation.reset, .open, .close, .finish] {
                try c.manage(operation, zone, expect: c.eio)
            }
            try c.expectZone(zone, .readOnly, after: "writes and zone operations on the READONLY zone")
            try c.expectCounts(implicitOpen: 0, explicitOpen: 0, closed: 0, after: "a READONLY zone holds no resource")
            return .pass
        },

        ConformanceCheck(
            number: 71,
            title: "OFFLINE zone I/O",
            limitation: "needs a ZoneConditionInjector or a zone that already is OFFLINE"
        ) { c throws(ConformanceStop) in
            let (zone, _) = try c.faultyZone(.offline, position: 0)
            try c.read(c.ioUnit, at: zone.start, zone: zone, expect: c.eio)
            try c.write(zone, at: 0, expect: c.eio)
            try Self.appendRefused(c, zone)
            for operation in [ZoneOperation.reset, .open, .close, .finish] {
                try c.manage(operation, zone, expect: c.eio)
            }
            try c.expectZone(zone, .offline, after: "I/O and zone operations on the OFFLINE zone")
            return .pass
        },
    ]

    /// Checks that an append to `zone` is refused with EIO, or notes that the device cannot append.
    static func appendRefused(_ c: ConformanceContext, _ zone: Zone) throws(ConformanceStop) {
        let bytes = ConformanceContext.pattern(count: c.ioUnit, seed: 7)
        let action = "zone append to \(zone.condition.kernelName) zone \(zone.index)"
        let result: Result<UInt64, ZonedStorageError>
        do throws(ZonedStorageError) {
            result = .success(try c.device.append(bytes, toZoneAt: zone.start))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success:
            try c.verify(.success, message: nil, action: action, zone: zone, expect: c.eio)
        case .failure(let error):
            if error.code == .unsupported {
                c.note("zone append not supported by the device: not tried")
                return
            }
            try c.verify(OperationStatus(error), message: error.message, action: action, zone: zone, expect: c.eio)
        }
    }
}
