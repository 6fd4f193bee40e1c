import ZonedStorage

/// Section H: zone capacity smaller than zone size (items 72–74).
extension ConformanceSuite {
    static let capacityChecks: [ConformanceCheck] = [
        ConformanceCheck(number: 72, title: "Capacity boundary") { c throws(ConformanceStop) in
            try c.requireCapacityBelowSize()
            let zone = try c.seq(0)
            let u = c.unit
            let capacity = c.zoneCapacity
            let size = c.info.zoneSize
            let reported = try c.report(zone)
            try c.require(
                reported.length == size && reported.capacity == capacity,
                "report zone \(zone.index)",
                expected: "length \(size), capacity \(capacity)",
                observed: "length \(reported.length), capacity \(reported.capacity)",
                zone: zone
            )
            try c.fill(zone, to: capacity - u)
            try c.write(zone, at: capacity, expect: c.eio)
            try c.expectZone(
                zone,
                .implicitOpen,
                writePointer: capacity - u,
                after: "refused write starting at the capacity end"
            )
            try c.write(zone, at: capacity - u)
            try c.expectZone(
                zone,
                anyOf: [.full],
                writePointers: [capacity, size],
                after: "write reaching the capacity end"
            )
            try c.read(c.ioUnit, at: zone.start + capacity, zone: zone, action: "read the first unit past the capacity")
            try c.read(c.ioUnit, at: zone.start + size - u, zone: zone, action: "read the last unit of the zone")
            let after = try c.report(zone)
            try c.require(
                after.capacity == capacity,
                "report the FULL zone",
                expected: "capacity \(capacity)",
                observed: "capacity \(after.capacity)",
                zone: zone
            )
            return .pass
        },

        ConformanceCheck(number: 73, title: "No write can cross from a capacity-limited zone into the next one") {
            c throws(ConformanceStop) in
            try c.requireCapacityBelowSize()
            let pair = try c.adjacentSequential(2)
            let u = c.unit
            let capacity = c.zoneCapacity
            try c.fill(pair[0], to: capacity - u)
            try c.write(pair[0], at: capacity - u, units: 2, expect: c.eio)
            try c.expectZone(
                pair[0],
                .implicitOpen,
                writePointer: capacity - u,
                after: "refused write of 2 units with 1 left"
            )
            try c.expectZone(pair[1], .empty, writePointer: 0, after: "refused write (nothing reached the next zone)")
            return .pass
        },

        ConformanceCheck(number: 74, title: "FINISH with C < Z") { c throws(ConformanceStop) in
            try c.requireCapacityBelowSize()
            let zones = try c.seqs(2)
            let size = c.info.zoneSize
            try c.manage(.finish, zones[0])
            let finished = try c.expectZone(
                zones[0],
                .full,
                writePointer: size,
                after: "FINISH EMPTY zone \(zones[0].index)"
            )
            try c.require(
                finished.capacity == c.zoneCapacity,
                "report the finished zone",
                expected: "capacity \(c.zoneCapacity)",
                observed: "capacity \(finished.capacity)",
                zone: zones[0]
            )
            try c.write(zones[1], at: 0)
            try c.manage(.finish, zones[1])
            try c.expectZone(zones[1], .full, writePointer: size, after: "FINISH IMP_OPEN zone \(zones[1].index)")
            return .pass
        },
    ]
}
