package import ZonedStorage

/// Checks a zone report against the device's geometry and limits, as blktests zbd/002 and
/// checklist items 1, 5, 11 and 54 describe a valid zoned device.
package enum ZoneInvariants {
    /// Problems found in `zones`, a full report of a device described by `info`; empty when
    /// the report is consistent.
    ///
    /// Checked: one descriptor per zone, in order, contiguous and covering the device; equal
    /// zone lengths (the last may be shorter); `0 < capacity <= length`; conventional zones
    /// first, NOT_WP with `capacity == length`; at least one sequential zone, all
    /// sequential-write-required with the same capacity; write pointers inside
    /// `[start, start + capacity]` for EMPTY / open / CLOSED zones (EMPTY at the start, CLOSED
    /// past it, open zones below the capacity end); FULL at `start + length` and READONLY /
    /// OFFLINE at ``Zone/invalidWritePointer`` (the emulator's and null_blk's values, item 11);
    /// open and active counts within the limits; and, when `usage` is given, the device's
    /// resource counters equal to the counts of the report.
    package static func problems(
        in zones: [Zone],
        info: DeviceInfo,
        usage: EmulatedDevice.ResourceUsage? = nil
    ) -> [String] {
        var problems: [String] = []
        if zones.count != info.zoneCount {
            problems.append("report has \(zones.count) zones, the device \(info.zoneCount)")
        }
        var expectedStart: UInt64 = 0
        var sawSequential = false
        var sequentialCapacity: UInt64?
        var implicitOpen = 0
        var explicitOpen = 0
        var closed = 0
        for (position, zone) in zones.enumerated() {
            let name = "zone \(zone.index)"
            if zone.index != position { problems.append("\(name) is at position \(position) of the report") }
            if zone.start != expectedStart {
                problems.append("\(name) starts at \(zone.start), expected \(expectedStart)")
            }
            let isLast = position == zones.count - 1
            if zone.length != info.zoneSize, !(isLast && zone.length < info.zoneSize) {
                problems.append("\(name) has length \(zone.length), zone size is \(info.zoneSize)")
            }
            if zone.capacity == 0 || zone.capacity > zone.length {
                problems.append("\(name) has capacity \(zone.capacity) outside (0, \(zone.length)]")
            }
            expectedStart = zone.start + zone.length
            switch zone.type {
            case .conventional:
                if sawSequential { problems.append("\(name) is conventional after a sequential zone") }
                if zone.condition != .notWritePointer {
                    problems.append("\(name) is conventional but \(zone.condition.kernelName)")
                }
                if zone.capacity != zone.length { problems.append("\(name) is conventional with capacity < length") }
                continue
            case .sequentialWritePreferred:
                problems.append("\(name) is SEQ_WRITE_PREFERRED, which Linux does not expose as zoned")
            case .sequentialWriteRequired:
                break
            }
            sawSequential = true
            if let sequentialCapacity, sequentialCapacity != zone.capacity, !isLast {
                problems.append("\(name) has capacity \(zone.capacity), other sequential zones \(sequentialCapacity)")
            }
            sequentialCapacity = sequentialCapacity ?? zone.capacity
            let capacityEnd = zone.start + zone.capacity
            let wp = zone.writePointer
            switch zone.condition {
            case .notWritePointer:
                problems.append("\(name) is sequential but NOT_WP")
            case .empty:
                if wp != zone.start {
                    problems.append("\(name) is EMPTY with write pointer \(wp) != start \(zone.start)")
                }
            case .implicitOpen, .explicitOpen:
                if zone.condition == .implicitOpen { implicitOpen += 1 } else { explicitOpen += 1 }
                if wp < zone.start || wp >= capacityEnd {
                    problems.append(
                        "\(name) is \(zone.condition.kernelName) with write pointer \(wp) outside [\(zone.start), \(capacityEnd))"
                    )
                }
            case .closed:
                closed += 1
                if wp <= zone.start || wp >= capacityEnd {
                    problems.append(
                        "\(name) is CLOSED with write pointer \(wp) outside (\(zone.start), \(capacityEnd))"
                    )
                }
            case .full:
                if wp != zone.end { problems.append("\(name) is FULL with write pointer \(wp) != end \(zone.end)") }
            case .readOnly, .offline:
                if wp != Zone.invalidWritePointer {
                    problems.append("\(name) is \(zone.condition.kernelName) with a write pointer \(wp)")
                }
            }
            if (wp - zone.start) % UInt64(info.logicalBlockSize) != 0, zone.condition.hasValidWritePointer {
                problems.append("\(name) write pointer \(wp) is not block aligned")
            }
        }
        if !zones.isEmpty, expectedStart != info.capacity {
            problems.append("zones end at \(expectedStart), the device at \(info.capacity)")
        }
        if !sawSequential { problems.append("no sequential zone") }
        let open = implicitOpen + explicitOpen
        let active = open + closed
        if let limit = info.maxOpenZones.value, open > limit {
            problems.append("\(open) open zones, max open is \(limit)")
        }
        if let limit = info.maxActiveZones.value, active > limit {
            problems.append("\(active) active zones, max active is \(limit)")
        }
        if let usage {
            let counted = EmulatedDevice.ResourceUsage(
                implicitOpen: implicitOpen,
                explicitOpen: explicitOpen,
                closed: closed
            )
            if usage != counted {
                problems.append("resource counters \(describe(usage)) differ from the report's \(describe(counted))")
            }
        }
        return problems
    }

    /// Problems of a device's current full report and resource counters.
    ///
    /// This reports every zone, which refreshes sticky write errors (item 25); tests comparing
    /// those use ``EmulatedDevice/inspectZones()`` with ``problems(in:info:usage:)`` instead.
    package static func problems(of device: EmulatedDevice) -> [String] {
        do {
            return problems(in: try device.reportZones(), info: device.info, usage: device.resourceUsage())
        } catch {
            return ["the zone report failed: \(error)"]
        }
    }

    /// `3 implicit, 1 explicit, 2 closed`.
    package static func describe(_ usage: EmulatedDevice.ResourceUsage) -> String {
        "\(usage.implicitOpen) implicit, \(usage.explicitOpen) explicit, \(usage.closed) closed"
    }
}
