import ZonedStorage

/// What a check needs from the device; each helper skips the check with a reason when the
/// device cannot provide it.
extension ConformanceContext {
    /// The write unit in bytes, as `UInt64`.
    var unit: UInt64 { UInt64(ioUnit) }

    /// The capacity of the working sequential zones.
    var zoneCapacity: UInt64 { sequentialZones.first?.capacity ?? info.zoneSize }

    /// The errnos of a refused write or zone operation for this device's variant.
    var eio: [OperationStatus] { variant.ioErrorStatuses }

    /// Working sequential zone number `position` (0 = the first working zone).
    func seq(_ position: Int) throws(ConformanceStop) -> Zone {
        guard position < sequentialZones.count else {
            throw .skip(
                "needs \(position + 1) usable sequential zones; the run uses \(sequentialZones.count) "
                    + "(the device has no more, or the working-zone cap was reached)"
            )
        }
        return sequentialZones[position]
    }

    /// The first `count` working sequential zones.
    func seqs(_ count: Int) throws(ConformanceStop) -> [Zone] {
        _ = try seq(count - 1)
        return Array(sequentialZones.prefix(count))
    }

    /// `count` working zones with consecutive indices (no gap, no conventional zone between).
    func adjacentSequential(_ count: Int, startingAt position: Int = 0) throws(ConformanceStop) -> [Zone] {
        var first = position
        while first + count <= sequentialZones.count {
            let candidate = Array(sequentialZones[first..<(first + count)])
            if zip(candidate, candidate.dropFirst()).allSatisfy({ $0.index + 1 == $1.index }) { return candidate }
            first += 1
        }
        throw .skip("needs \(count) adjacent usable sequential zones among the working zones")
    }

    /// The first conventional zone.
    func conventional() throws(ConformanceStop) -> Zone {
        guard let zone = conventionalZones.first else { throw .skip("the device has no conventional zones") }
        return zone
    }

    /// The open-zone limit the device enforces.
    func openLimit() throws(ConformanceStop) -> Int {
        switch info.maxOpenZones {
        case .limit(let limit):
            if let untrustedOpenLimit { throw .skip(untrustedOpenLimit) }
            return limit
        case .unlimited:
            throw .skip("device reports no open-zone limit")
        case .unknown:
            throw .skip("the device's open-zone limit is unknown (queue/max_open_zones could not be read)")
        }
    }

    /// The active-zone limit, or nil when the device has none (or it is unknown).
    var activeLimit: Int? { info.maxActiveZones.value }

    /// The active-zone limit the device enforces.
    func requireActiveLimit() throws(ConformanceStop) -> Int {
        switch info.maxActiveZones {
        case .limit(let limit): return limit
        case .unlimited: throw .skip("device reports no active-zone limit")
        case .unknown:
            throw .skip("the device's active-zone limit is unknown (queue/max_active_zones could not be read)")
        }
    }

    /// Whether `count` more active zones fit under the active limit when `active` are in use.
    func activeRoom(for count: Int, inUse active: Int) -> Bool {
        guard let limit = activeLimit else { return true }
        return active + count <= limit
    }

    /// Skips unless the zone capacity is smaller than the zone size.
    func requireCapacityBelowSize() throws(ConformanceStop) {
        guard zoneCapacity < info.zoneSize else { throw .skip("zone capacity equals zone size") }
    }

    /// Skips unless the zone capacity equals the zone size.
    func requireCapacityEqualsSize(_ why: String) throws(ConformanceStop) {
        guard zoneCapacity == info.zoneSize else { throw .skip("zone capacity is smaller than zone size: \(why)") }
    }

    /// The expected result of an operation that null_blk refuses for lack of an open slot when
    /// `active` zones are active (and the target needs an active slot too): EOVERFLOW when the
    /// active limit is reached first, else ETOOMANYREFS.
    func openRefusal(activeInUse active: Int, targetNeedsActiveSlot: Bool) -> OperationStatus {
        if targetNeedsActiveSlot, let limit = activeLimit, active >= limit { return .tooManyActiveZones }
        return .tooManyOpenZones
    }
}
