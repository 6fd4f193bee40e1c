import ZonedStorage

extension DifferentialRun {
    /// What a differential run keeps between operations: the last reported zones of both
    /// devices, where data is defined, and the statistics.
    struct RunState {
        let layout: DifferentialLayout
        var generator: DifferentialGenerator
        var deviceZones: [Int: Zone] = [:]
        var referenceZones: [Int: Zone] = [:]
        /// For each working sequential zone, the end of the data written since its last reset:
        /// reads below it must return that data on both devices.
        var definedEnd: [Int: UInt64] = [:]
        /// Blocks of the conventional zone written during the run.
        var writtenBlocks: Set<UInt64> = []
        var statistics = DifferentialStatistics()
        /// The reference's largest request (`DeviceInfo.maxTransferBytes`), for counting the
        /// writes the block layer splits; 0 when unknown (only zone boundaries split).
        var maxTransfer: UInt64 = 0

        init(layout: DifferentialLayout, generator: DifferentialGenerator) {
            self.layout = layout
            self.generator = generator
        }

        /// How many requests the block layer makes of a write of `length` bytes at `offset`: one
        /// per 1 MiB direct-I/O bio, each cut at zone boundaries and at ``maxTransfer`` (the
        /// emulator's `BlockLayerRequests`, without its physical-block rounding, which the
        /// run's block-aligned writes never need).
        func requests(offset: UInt64, length: UInt64) -> Int {
            let bioBytes: UInt64 = 256 * 4096
            var count = 0
            var bioStart = offset
            let end = offset + length
            while bioStart < end {
                let bioEnd = min(end, bioStart + bioBytes)
                var position = bioStart
                while position < bioEnd {
                    let zoneEnd = (position / layout.zoneSize + 1) * layout.zoneSize
                    var step = min(zoneEnd, bioEnd) - position
                    if maxTransfer > 0 { step = min(step, maxTransfer) }
                    position += step
                    count += 1
                }
                bioStart = bioEnd
            }
            return count
        }

        /// Counts a write the block layer may split (``DifferentialStatistics/splitWrites``).
        private mutating func countSplit(offset: UInt64, length: UInt64) {
            guard length > 0 else { return }
            if requests(offset: offset, length: length) > 1 { statistics.splitWrites += 1 }
            if layout.zone(containing: offset) != layout.zone(containing: offset + length - 1) {
                statistics.zoneCrossingWrites += 1
            }
        }

        /// Whether sequential zone `index`'s write pointer moved past `mark` between `before` and
        /// `after`.
        private func advanced(_ index: Int, past mark: UInt64, before: [Int: Zone], after: [Int: Zone]) -> Bool {
            guard layout.isWorking(index), let was = before[index], let now = after[index] else { return false }
            return now.writePointer > max(mark, was.writePointer)
        }

        /// Bytes the working zones hold (a FULL zone counts as its capacity).
        func liveBytes() -> UInt64 {
            layout.sequential.reduce(0) { total, index in
                guard let zone = referenceZones[index] else { return total }
                switch zone.condition {
                case .full: return total + layout.zoneCapacity
                case .implicitOpen, .explicitOpen, .closed: return total + zone.writtenBytes
                default: return total
                }
            }
        }

        /// Whether the byte at `offset` must read back the same on both devices.
        func isDefined(_ offset: UInt64) -> Bool {
            let index = layout.zone(containing: offset)
            if index == layout.conventional {
                return writtenBlocks.contains(offset / layout.unit * layout.unit)
            }
            guard let end = definedEnd[index] else { return false }
            return offset < end
        }

        /// The zones an operation addresses, within the reported range.
        func zones(of operation: DifferentialOperation) -> [Int] {
            switch operation {
            case .manage(_, let zone): [zone]
            case .manageRange(_, let offset, let length):
                layout.zones(overlapping: offset, length: length == 0 ? UInt64.max - offset : length)
            case .write(let offset, let length), .read(let offset, let length):
                layout.zones(overlapping: offset, length: UInt64(length))
            case .fill(let zone, _, _): [zone]
            case .append(let target, _): [layout.zone(containing: target)]
            case .flush: []
            }
        }

        // MARK: - Comparing

        /// The first disagreement after `operation`, or nil.
        func compare(
            index: Int,
            operation: DifferentialOperation,
            device: (Executed, [Int: Zone]),
            reference: (Executed, [Int: Zone])
        ) -> DifferentialDivergence? {
            let range = layout.firstZone...layout.lastZone
            let deviceStates = range.compactMap { device.1[$0].map(DifferentialZoneState.init) }
            let referenceStates = range.compactMap { reference.1[$0].map(DifferentialZoneState.init) }
            let differing = Set(
                range.filter { zone in
                    device.1[zone].map(DifferentialZoneState.init) != reference.1[zone].map(DifferentialZoneState.init)
                }
            )
            func divergence(_ aspect: DifferentialDivergence.Aspect, _ detail: String) -> DifferentialDivergence {
                var shown = Set(zones(of: operation)).union(differing)
                for zone in range {
                    let states = [deviceZones, device.1, referenceZones, reference.1].map {
                        $0[zone].map(DifferentialZoneState.init)
                    }
                    if states[0] != states[1] || states[2] != states[3] { shown.insert(zone) }
                }
                let sorted = shown.sorted()
                return DifferentialDivergence(
                    index: index,
                    operation: operation,
                    aspect: aspect,
                    detail: detail,
                    deviceOutcome: device.0.outcome,
                    referenceOutcome: reference.0.outcome,
                    deviceZones: sorted.compactMap { device.1[$0].map(DifferentialZoneState.init) },
                    referenceZones: sorted.compactMap { reference.1[$0].map(DifferentialZoneState.init) },
                    deviceCounts: DifferentialCounts(Array(device.1.values)),
                    referenceCounts: DifferentialCounts(Array(reference.1.values))
                )
            }
            let (deviceOutcome, referenceOutcome) = (device.0.outcome, reference.0.outcome)
            if !deviceOutcome.matches(referenceOutcome) {
                return divergence(
                    .result,
                    "the device returned \(deviceOutcome), the reference \(referenceOutcome)"
                        + (deviceOutcome.message.map { "; device: \($0)" } ?? "")
                        + (referenceOutcome.message.map { "; reference: \($0)" } ?? "")
                )
            }
            if case .read(let offset, _) = operation, let deviceData = device.0.data,
                let referenceData = reference.0.data
            {
                if let problem = compareData(offset: offset, device: deviceData, reference: referenceData) {
                    return divergence(.data, problem)
                }
            }
            if deviceStates != referenceStates {
                let deviceCounts = DifferentialCounts(Array(device.1.values))
                let referenceCounts = DifferentialCounts(Array(reference.1.values))
                let zonesText = differing.sorted().map { zone in
                    "\(device.1[zone].map { DifferentialZoneState($0).description } ?? "zone \(zone) not reported") "
                        + "on the device, \(reference.1[zone].map { DifferentialZoneState($0).description } ?? "not reported") "
                        + "on the reference"
                }
                return divergence(
                    deviceCounts == referenceCounts ? .zoneState : .resourceCounts,
                    zonesText.joined(separator: "; ")
                )
            }
            return nil
        }

        /// Where the data of a read differs where it is defined, or nil.
        private func compareData(offset: UInt64, device: [UInt8], reference: [UInt8]) -> String? {
            guard device.count == reference.count else {
                return "the device returned \(device.count) bytes, the reference \(reference.count)"
            }
            for index in device.indices where device[index] != reference[index] {
                let position = offset + UInt64(index)
                guard isDefined(position) else { continue }
                let zone = layout.zone(containing: position)
                return "byte \(position) (zone \(zone), +\(position - layout.start(zone))) reads "
                    + "0x\(String(device[index], radix: 16)) on the device, 0x\(String(reference[index], radix: 16)) "
                    + "on the reference, which is what was written there"
            }
            return nil
        }

        // MARK: - Recording

        /// Updates where data is defined and the statistics after an operation both devices
        /// agreed on.
        mutating func record(
            _ operation: DifferentialOperation,
            outcome: DifferentialOutcome,
            before: [Int: Zone],
            after: [Int: Zone]
        ) {
            statistics.operations[operation.kind, default: 0] += 1
            statistics.statuses[outcome.status.name, default: 0] += 1
            if !outcome.status.isSuccess { statistics.refused += 1 }
            let writes: Bool
            switch operation {
            case .write(let offset, let length):
                writes = true
                countSplit(offset: offset, length: UInt64(length))
                if !outcome.status.isSuccess,
                    layout.zones(overlapping: offset, length: UInt64(length)).contains(where: {
                        advanced($0, past: 0, before: before, after: after)
                    })
                {
                    statistics.partlyWrittenRefusals += 1
                }
                if outcome.status.isSuccess {
                    statistics.bytesWritten += UInt64(length)
                    if let conventional = layout.conventional {
                        var block = offset
                        while block < offset + UInt64(length) {
                            if layout.zone(containing: block) == conventional { writtenBlocks.insert(block) }
                            block += layout.unit
                        }
                    }
                }
            case .fill(let zone, let from, let to):
                writes = true
                statistics.bytesWritten += outcome.bytesWritten ?? 0
                // The writes the fill issued: whole ones up to the refused one, if any.
                let written = outcome.bytesWritten ?? (outcome.status.isSuccess ? to - from : 0)
                let step = UInt64(DifferentialRun.fillWriteSize)
                var position = from
                let stop = outcome.status.isSuccess ? to : min(to, from + written + 1)
                while position < stop {
                    countSplit(offset: position, length: min(step, to - position))
                    position += step
                }
                if !outcome.status.isSuccess, advanced(zone, past: from + written, before: before, after: after) {
                    statistics.partlyWrittenRefusals += 1
                }
            case .append(_, let length):
                writes = true
                if outcome.status.isSuccess { statistics.bytesWritten += UInt64(length) }
            case .read(_, let length):
                writes = false
                if outcome.status.isSuccess { statistics.bytesCompared += UInt64(length) }
            case .manageRange(_, let offset, let length) where !(offset == 0 && length == 0):
                writes = false
                let zones = zones(of: operation)
                if zones.count > 1 {
                    statistics.rangeOperations += 1
                    if !outcome.status.isSuccess,
                        zones.contains(where: { before[$0]?.condition != after[$0]?.condition })
                    {
                        statistics.partlyAppliedRangeRefusals += 1
                    }
                }
            default:
                writes = false
            }
            let addressed = Set(zones(of: operation))
            for index in layout.sequential {
                guard let zone = after[index] else { continue }
                let was = before[index]?.condition
                switch zone.condition {
                case .empty:
                    definedEnd[index] = zone.start
                case .implicitOpen, .explicitOpen, .closed:
                    definedEnd[index] = zone.writePointer
                case .full where was != .full:
                    if writes, addressed.contains(index) {
                        definedEnd[index] = layout.capacityEnd(index)
                        statistics.zonesFilled += 1
                    } else {
                        statistics.zonesFinished += 1
                    }
                default:
                    break
                }
            }
            let counts = DifferentialCounts(Array(after.values))
            statistics.peakOpen = max(statistics.peakOpen, counts.open)
            statistics.peakActive = max(statistics.peakActive, counts.active)
            if layout.maxOpen > 0, counts.open >= layout.maxOpen { statistics.atOpenLimit += 1 }
            if layout.maxActive > 0, counts.active >= layout.maxActive { statistics.atActiveLimit += 1 }
        }
    }
}
