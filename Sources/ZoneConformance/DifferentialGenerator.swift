import ZonedStorage

/// Chooses the operations of a differential run: seeded, and steered by the zone states the
/// reference reports, so that the same seed gives the same operations on devices that agree.
///
/// It cycles through three phases so the run gets deep instead of failing at random: *grow*
/// opens and writes zones until the open and active limits refuse more, *churn* mixes every
/// kind of operation, *drain* finishes and resets zones to free resources. Every phase keeps a
/// share of operations that must fail (writes ahead of or behind the write pointer, into full
/// zones, past the capacity, misaligned I/O, zone operations the condition forbids, appends to
/// the wrong place).
///
/// Writes the kernel splits are generated on purpose: fills go in writes of
/// ``DifferentialRun/fillWriteSize`` bytes (kept below what QEMU NVMe may split for reasons a
/// program cannot see, its `max_segments`), which devices with a smaller `max_sectors` split into
/// several requests (refused together when the zone cannot open, partly written when they run
/// past the capacity), and writes crossing into the next zone either fit exactly in the first
/// zone (checklist item 20) or start where the first zone refuses them, so that only the part in
/// the next zone can land. The reference splits them the same way (`BlockLayerRequests` in the
/// emulator). Crossing writes of the second kind have a kind of their own (`crossingWrite`),
/// which mostly picks an EMPTY next zone, so that every run has some refused writes whose part
/// in the next zone is written (a few dozen per 2000 operations). Refused writes to one zone
/// are otherwise at most a few units long.
struct DifferentialGenerator {
    enum Kind: CaseIterable {
        case writeAtPointer, writeToEmpty, openZone, closeZone, finishZone, resetZone, randomZoneOperation
        case rangeOperation, resetAll, misplacedWrite, nearCapacityWrite, fill, read, append, flush
        case conventionalWrite, misalignedIO, crossingWrite
    }

    enum Phase {
        case grow, churn, drain
    }

    private var rng: SplitMix64
    let layout: DifferentialLayout
    /// False once the device refused a zone append as unsupported (libzbd devices).
    var appendsSupported = true
    private(set) var phase: Phase = .grow
    private var phaseLeft: Int

    init(seed: UInt64, layout: DifferentialLayout) {
        self.rng = SplitMix64(seed: seed ^ 0xD1FF_E4E1_7141_5EED)
        self.layout = layout
        self.phaseLeft = 0
        self.phaseLeft = int(150...250)
    }

    // MARK: - Random helpers

    private mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    private mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    private mutating func element<T>(_ values: [T]) -> T? {
        values.isEmpty ? nil : values[int(0...(values.count - 1))]
    }

    private static func weights(_ phase: Phase) -> [(Kind, Int)] {
        switch phase {
        case .grow:
            [
                (.writeAtPointer, 16), (.writeToEmpty, 24), (.openZone, 10), (.closeZone, 7), (.finishZone, 1),
                (.resetZone, 2), (.randomZoneOperation, 2), (.rangeOperation, 1), (.misplacedWrite, 5),
                (.nearCapacityWrite, 2), (.fill, 2), (.read, 12), (.append, 5), (.flush, 2),
                (.conventionalWrite, 3), (.misalignedIO, 1), (.crossingWrite, 1),
            ]
        case .churn:
            [
                (.writeAtPointer, 15), (.writeToEmpty, 6), (.openZone, 5), (.closeZone, 5), (.finishZone, 5),
                (.resetZone, 6), (.randomZoneOperation, 8), (.rangeOperation, 3), (.resetAll, 1),
                (.misplacedWrite, 6), (.nearCapacityWrite, 5), (.fill, 4), (.read, 15), (.append, 6), (.flush, 3),
                (.conventionalWrite, 4), (.misalignedIO, 2), (.crossingWrite, 2),
            ]
        case .drain:
            [
                (.writeAtPointer, 10), (.writeToEmpty, 2), (.openZone, 2), (.closeZone, 5), (.finishZone, 14),
                (.resetZone, 22), (.randomZoneOperation, 4), (.rangeOperation, 4), (.resetAll, 2),
                (.misplacedWrite, 3), (.nearCapacityWrite, 2), (.fill, 3), (.read, 12), (.append, 3), (.flush, 4),
                (.conventionalWrite, 2), (.misalignedIO, 1), (.crossingWrite, 1),
            ]
        }
    }

    private mutating func pickKind() -> Kind {
        let table = Self.weights(phase)
        var roll = int(0...(table.reduce(0) { $0 + $1.1 } - 1))
        for (kind, weight) in table {
            if roll < weight { return kind }
            roll -= weight
        }
        return .read
    }

    private mutating func advancePhase() {
        phaseLeft -= 1
        guard phaseLeft <= 0 else { return }
        switch phase {
        case .grow:
            phase = .churn
            phaseLeft = int(80...150)
        case .churn:
            phase = .drain
            phaseLeft = int(40...80)
        case .drain:
            phase = .grow
            phaseLeft = int(200...300)
        }
    }

    // MARK: - The next operation

    /// What the generator may spend: data held in the working zones, and data written in all.
    struct Budget {
        /// Bytes the working zones hold now.
        var liveBytes: UInt64
        /// At most this many bytes may be held.
        var dataBudget: UInt64
        /// Bytes written so far.
        var writtenBytes: UInt64
        /// Fills stop (and zones are finished instead) once this many bytes were written.
        var writeBudget: UInt64

        /// Whether `bytes` more may be written by a fill.
        func allows(_ bytes: UInt64) -> Bool {
            liveBytes + bytes <= dataBudget && writtenBytes + bytes <= writeBudget
        }
    }

    /// The next operation, given the reference's zones (by index) and what may still be written.
    mutating func next(zones: [Int: Zone], budget: Budget) -> DifferentialOperation {
        advancePhase()
        let view = View(layout: layout, zones: zones)
        if budget.liveBytes > budget.dataBudget, let fullest = view.fullest() {
            return .manage(.reset, zone: fullest)
        }
        switch pickKind() {
        case .writeAtPointer: return writeAtPointer(view)
        case .writeToEmpty: return writeToEmpty(view)
        case .openZone: return openZone(view)
        case .closeZone: return closeZone(view)
        case .finishZone: return finishZone(view)
        case .resetZone: return resetZone(view)
        case .randomZoneOperation: return randomZoneOperation(view)
        case .rangeOperation: return rangeOperation()
        case .resetAll: return .manageRange(.reset, offset: 0, length: 0)
        case .misplacedWrite: return misplacedWrite(view)
        case .nearCapacityWrite: return nearCapacityWrite(view, budget: budget)
        case .fill: return fill(view, budget: budget)
        case .read: return read(view)
        case .append: return appendsSupported ? append(view) : read(view)
        case .flush: return .flush
        case .conventionalWrite: return conventionalWrite(view)
        case .misalignedIO: return misalignedIO(view)
        case .crossingWrite: return refusedThenCrossing(view, preferEmptyNext: true) ?? writeAtPointer(view)
        }
    }

    /// The reference's zones as the generator sees them.
    struct View {
        let layout: DifferentialLayout
        let zones: [Int: Zone]

        func zone(_ index: Int) -> Zone? { zones[index] }

        func working(where predicate: (Zone) -> Bool) -> [Int] {
            layout.sequential.filter { index in zones[index].map(predicate) ?? false }
        }

        /// Bytes left below the capacity of `index`, 0 when its write pointer is not valid.
        func remaining(_ index: Int) -> UInt64 {
            guard let zone = zones[index], zone.condition.hasValidWritePointer else { return 0 }
            let end = layout.capacityEnd(index)
            return zone.writePointer < end ? end - zone.writePointer : 0
        }

        /// The non-empty working zone holding the most data.
        func fullest() -> Int? {
            var best: (Int, UInt64)?
            for index in layout.sequential {
                guard let zone = zones[index] else { continue }
                let held: UInt64 =
                    switch zone.condition {
                    case .full: layout.zoneCapacity
                    case .implicitOpen, .explicitOpen, .closed: zone.writePointer - zone.start
                    default: 0
                    }
                if held > 0, best == nil || held > best!.1 { best = (index, held) }
            }
            return best?.0
        }
    }

    // MARK: - Kinds

    private mutating func units(_ range: ClosedRange<Int>) -> UInt64 { UInt64(int(range)) * layout.unit }

    private mutating func anyWorkingZone() -> Int { element(layout.sequential)! }

    private mutating func writeAtPointer(_ view: View) -> DifferentialOperation {
        let open = view.working { $0.condition.isOpen }
        let index = (chance(70) ? element(open) : nil) ?? anyWorkingZone()
        return writeAtPointer(of: index, view)
    }

    private mutating func writeAtPointer(of index: Int, _ view: View) -> DifferentialOperation {
        guard let zone = view.zone(index), zone.condition.hasValidWritePointer else {
            // FULL, read-only or offline: refused.
            return .write(offset: layout.start(index), length: layout.ioUnit)
        }
        let remaining = view.remaining(index)
        var length = min(units(1...4), remaining)
        if chance(10), remaining <= 16 * layout.unit { length = remaining }
        return .write(offset: zone.writePointer, length: Int(length))
    }

    private mutating func writeToEmpty(_ view: View) -> DifferentialOperation {
        let candidates =
            chance(70) ? view.working { $0.condition == .empty } : view.working { $0.condition == .closed }
        guard let index = element(candidates) else { return writeAtPointer(view) }
        guard let zone = view.zone(index) else { return writeAtPointer(view) }
        return .write(offset: zone.writePointer, length: Int(min(units(1...2), view.remaining(index))))
    }

    private mutating func openZone(_ view: View) -> DifferentialOperation {
        let candidates =
            chance(80)
            ? view.working { $0.condition == .empty || $0.condition == .closed }
            : view.working { $0.condition == .implicitOpen }
        return .manage(.open, zone: element(candidates) ?? anyWorkingZone())
    }

    private mutating func closeZone(_ view: View) -> DifferentialOperation {
        let open = view.working { $0.condition.isOpen }
        return .manage(.close, zone: (chance(85) ? element(open) : nil) ?? anyWorkingZone())
    }

    private mutating func finishZone(_ view: View) -> DifferentialOperation {
        let active = view.working { $0.condition.isActive }
        return .manage(.finish, zone: (chance(60) ? element(active) : nil) ?? anyWorkingZone())
    }

    private mutating func resetZone(_ view: View) -> DifferentialOperation {
        // Growing: make room for more open and active zones by emptying FULL ones.
        if phase == .grow, let full = element(view.working { $0.condition == .full }) {
            return .manage(.reset, zone: full)
        }
        if chance(40), let fullest = view.fullest() { return .manage(.reset, zone: fullest) }
        let used = view.working { $0.condition != .empty }
        return .manage(.reset, zone: (chance(85) ? element(used) : nil) ?? anyWorkingZone())
    }

    private mutating func randomZoneOperation(_ view: View) -> DifferentialOperation {
        let operation = element(ZoneOperation.allCases)!
        if let conventional = layout.conventional, chance(15) { return .manage(operation, zone: conventional) }
        return .manage(operation, zone: anyWorkingZone())
    }

    private mutating func rangeOperation() -> DifferentialOperation {
        let operation = element(ZoneOperation.allCases)!
        var offset = layout.sequentialRangeOffset
        let end = offset + layout.sequentialRangeLength
        // Sometimes include the conventional zone: it fails, the sequential zones are still tried.
        if let conventional = layout.conventional, conventional < layout.sequential[0], chance(30) {
            offset = layout.start(conventional)
        }
        return .manageRange(operation, offset: offset, length: end - offset)
    }

    private mutating func misplacedWrite(_ view: View) -> DifferentialOperation {
        let index = anyWorkingZone()
        guard let zone = view.zone(index), zone.condition.hasValidWritePointer else {
            // Anywhere inside a FULL (read-only, offline) zone.
            let inside = UInt64(int(0...3)) * layout.unit
            return .write(
                offset: layout.start(index) + min(inside, layout.zoneCapacity - layout.unit),
                length: layout.ioUnit
            )
        }
        let wp = zone.writePointer
        let remaining = view.remaining(index)
        let length = units(1...2)
        let behind = wp > zone.start && (chance(50) || remaining < layout.unit + length)
        if behind {
            let back = min(units(1...3), wp - zone.start)
            return .write(offset: wp - back, length: Int(length))
        }
        if remaining >= layout.unit + length {
            let ahead = min(units(1...3), remaining - length)
            return .write(offset: wp + ahead, length: Int(length))
        }
        return writeAtPointer(of: index, view)
    }

    /// A write that reaches past the capacity of its zone: refused inside the zone when the
    /// capacity is smaller than the zone size (item 19), or crossing into the next zone when it
    /// is not (item 20; the part in the first zone fits exactly, so the first zone becomes FULL
    /// whatever happens to the second part).
    private mutating func nearCapacityWrite(_ view: View, budget: Budget) -> DifferentialOperation {
        let near = view.working { zone in
            let remaining = view.remaining(zone.index)
            return remaining > 0 && remaining <= 4 * layout.unit
        }
        guard let index = element(near), let zone = view.zone(index) else {
            // Prepare one: fill a zone up to a unit or two below its capacity.
            return fill(view, budget: budget, leaving: units(1...2))
        }
        let remaining = view.remaining(index)
        if chance(25), let crossing = refusedThenCrossing(view) { return crossing }
        if layout.zoneCapacity < layout.zoneSize {
            let room = layout.start(index) + layout.zoneSize - zone.writePointer
            let length = min(remaining + units(1...2), room)
            return .write(offset: zone.writePointer, length: Int(length))
        }
        guard layout.isWorking(index + 1) else { return writeAtPointer(of: index, view) }
        return .write(offset: zone.writePointer, length: Int(remaining + units(1...2)))
    }

    /// A write crossing into the next working zone whose part in the first zone is refused: it
    /// starts in the gap between capacity and zone size (ZNS), in a FULL zone, or off the write
    /// pointer. The block layer still sends the part in the next zone, which lands if that zone
    /// is at its start and may open; the system call fails either way (checklist item 20).
    ///
    /// With `preferEmptyNext`, the next zone is usually an EMPTY one, so that its part is more
    /// often written while the call still fails (what the block layer's splitting decides).
    private mutating func refusedThenCrossing(_ view: View, preferEmptyNext: Bool = false) -> DifferentialOperation? {
        let pairs = layout.sequential.filter { layout.isWorking($0 + 1) }
        let emptyNext = pairs.filter { view.zone($0 + 1)?.condition == .empty }
        let candidates = preferEmptyNext && !emptyNext.isEmpty && chance(70) ? emptyNext : pairs
        guard let index = element(candidates), let zone = view.zone(index) else { return nil }
        let end = layout.start(index) + layout.zoneSize
        let back: UInt64
        if layout.zoneCapacity < layout.zoneSize {
            back = min(units(1...2), layout.zoneSize - layout.zoneCapacity)
        } else {
            back = units(1...2)
            if zone.condition.hasValidWritePointer, zone.writePointer == end - back { return nil }
        }
        return .write(offset: end - back, length: Int(back + units(1...2)))
    }

    /// Fills a zone up to its capacity, or `leaving` bytes below it. When the budget does not
    /// allow it, resets the fullest zone (too much data held) or finishes the zone (too much
    /// written: FINISH makes it FULL without writing).
    private mutating func fill(_ view: View, budget: Budget, leaving: UInt64? = nil) -> DifferentialOperation {
        let open = view.working { $0.condition.isOpen && view.remaining($0.index) > 0 }
        let writable = view.working { $0.condition.hasValidWritePointer && view.remaining($0.index) > 0 }
        guard let index = (chance(70) ? element(open) : nil) ?? element(writable), let zone = view.zone(index) else {
            return resetZone(view)
        }
        let remaining = view.remaining(index)
        var keep: UInt64 = leaving ?? [0, 0, layout.unit, 2 * layout.unit][int(0...3)]
        if keep >= remaining { keep = 0 }
        let to = layout.capacityEnd(index) - keep
        let bytes = to - zone.writePointer
        if budget.liveBytes + bytes > budget.dataBudget { return resetZone(view) }
        if !budget.allows(bytes) { return .manage(.finish, zone: index) }
        return .fill(zone: index, from: zone.writePointer, to: to)
    }

    private mutating func read(_ view: View) -> DifferentialOperation {
        let unit = layout.unit
        switch int(0...99) {
        case 0..<35:
            // Below the write pointer (possibly straddling it).
            let written = view.working { $0.condition == .full || $0.writtenBytes > 0 }
            guard let index = element(written), let zone = view.zone(index) else { break }
            let top = zone.condition == .full ? layout.zoneCapacity : zone.writePointer - zone.start
            let first = UInt64(int(0...Int(max(top / unit, 1) - 1))) * unit
            let length = min(units(1...4), layout.zoneSize - first)
            return .read(offset: zone.start + first, length: Int(length))
        case 35..<50:
            // At or beyond the write pointer.
            let index = anyWorkingZone()
            guard let zone = view.zone(index) else { break }
            let from = zone.condition.hasValidWritePointer ? zone.writePointer : zone.start
            let offset = min(from + units(0...2), zone.start + layout.zoneSize - unit)
            let length = min(units(1...3), zone.start + layout.zoneSize - offset)
            return .read(offset: offset, length: Int(length))
        case 50..<70:
            // Across a zone boundary (between working zones, or the conventional zone and the
            // first sequential one).
            let pairs =
                layout.sequential.filter { layout.isWorking($0 + 1) || layout.conventional == $0 + 1 }
                + (layout.conventional.map { layout.isWorking($0 + 1) ? [$0] : [] } ?? [])
            guard let index = element(pairs) else { break }
            let back = units(1...2)
            return .read(offset: layout.start(index + 1) - back, length: Int(2 * back))
        case 70..<85:
            guard let conventional = layout.conventional else { break }
            let blocks = Int(min(64, layout.zoneSize / unit))
            let offset = layout.start(conventional) + UInt64(int(0...(blocks - 1))) * unit
            let length = min(units(1...4), layout.start(conventional) + layout.zoneSize - offset)
            return .read(offset: offset, length: Int(length))
        default:
            // The gap between capacity and zone size (item 72), when there is one.
            guard layout.zoneCapacity < layout.zoneSize else { break }
            let index = anyWorkingZone()
            let gap = layout.zoneSize - layout.zoneCapacity
            let offset = layout.capacityEnd(index) + min(units(0...1), gap - unit)
            let length = min(units(1...2), layout.start(index) + layout.zoneSize - offset)
            return .read(offset: offset, length: Int(length))
        }
        let index = anyWorkingZone()
        return .read(offset: layout.start(index), length: Int(units(1...4)))
    }

    private mutating func append(_ view: View) -> DifferentialOperation {
        let roll = int(0...99)
        if roll < 5, let conventional = layout.conventional {
            return .append(target: layout.start(conventional), length: layout.ioUnit)
        }
        let writable = view.working { $0.condition == .empty || $0.condition.isOpen }
        let index = (chance(80) ? element(writable) : nil) ?? anyWorkingZone()
        if roll < 10 {
            return .append(target: layout.start(index) + layout.unit, length: layout.ioUnit)
        }
        let remaining = view.remaining(index)
        if roll < 20, remaining > 0, remaining <= 8 * layout.unit {
            return .append(target: layout.start(index), length: Int(remaining + layout.unit))
        }
        let length = remaining > 0 ? min(units(1...4), remaining) : layout.unit
        return .append(target: layout.start(index), length: Int(length))
    }

    private mutating func conventionalWrite(_ view: View) -> DifferentialOperation {
        guard let conventional = layout.conventional else { return writeAtPointer(view) }
        let blocks = Int(min(64, layout.zoneSize / layout.unit))
        let offset = layout.start(conventional) + UInt64(int(0...(blocks - 1))) * layout.unit
        let length = min(units(1...2), layout.start(conventional) + layout.zoneSize - offset)
        return .write(offset: offset, length: Int(length))
    }

    private mutating func misalignedIO(_ view: View) -> DifferentialOperation {
        let index = anyWorkingZone()
        let half = UInt64(layout.logicalBlockSize / 2)
        let base =
            view.zone(index).map { $0.condition.hasValidWritePointer ? $0.writePointer : $0.start }
            ?? layout.start(index)
        switch int(0...3) {
        case 0: return .write(offset: base + half, length: layout.ioUnit)
        case 1: return .write(offset: base, length: layout.ioUnit + Int(half))
        case 2: return .read(offset: base + half, length: layout.ioUnit)
        default:
            guard appendsSupported else { return .read(offset: base, length: layout.ioUnit + Int(half)) }
            return .append(target: layout.start(index), length: layout.ioUnit + Int(half))
        }
    }
}
