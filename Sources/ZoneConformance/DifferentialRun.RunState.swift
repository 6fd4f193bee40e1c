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

        init(layout: DifferentialLayout, generator: DifferentialGenerator) {
            self.layout = layout
            self.generator = generator
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
            case .fill:
                writes = true
                statistics.bytesWritten += outcome.bytesWritten ?? 0
            case .append(_, let length):
                writes = true
                if outcome.status.isSuccess { statistics.bytesWritten += UInt64(length) }
            case .read(_, let length):
                writes = false
                if outcome.status.isSuccess { statistics.bytesCompared += UInt64(length) }
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
