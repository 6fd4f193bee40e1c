public import ZonedStorage

/// Runs conformance checks on a device and collects a ``ConformanceReport``.
///
/// **Destructive.** The run resets every sequential zone of the device first (RESET ALL), writes
/// to the first few usable sequential zones ("working zones") and to the conventional zones,
/// resets the zones each check left non-empty before and after it, and resets all zones again at
/// the end, so no zone is left open. Read-only and offline zones are never written or reset.
///
/// ```swift
/// let runner = ConformanceRunner(device: device, options: .init(variant: .zns))
/// let report = try runner.run(ConformanceSuite.select([12, 31, 56]))
/// ```
public struct ConformanceRunner: Sendable {
    /// The device under test.
    public let device: any ZonedDevice
    /// How the run is set up.
    public var options: Options

    /// Creates a runner for `device`.
    public init(device: any ZonedDevice, options: Options = Options()) {
        self.device = device
        self.options = options
    }

    /// The variant whose expectations apply: the option, or the one detected from the device
    /// (an emulated device's profile, else its vendor string).
    public var variant: DeviceVariant { options.variant ?? DeviceVariant.detect(for: device) }

    /// Runs `checks` in order and reports their results.
    ///
    /// - Parameters:
    ///   - checks: The checks to run (default: the whole suite).
    ///   - progress: Called with each result as soon as its check has finished.
    /// - Returns: The report; failed checks are results, not errors.
    /// - Throws: ``ZonedStorage/ZonedStorageError`` when the device cannot be prepared at all (the
    ///   first zone report or RESET ALL fails).
    public func run(
        _ checks: [ConformanceCheck] = ConformanceSuite.checks,
        progress: (ConformanceResult) -> Void = { _ in }
    ) throws(ZonedStorageError) -> ConformanceReport {
        let clock = ContinuousClock()
        let started = clock.now
        let info = device.info
        let variant = self.variant
        let source =
            options.variant != nil ? "set explicitly" : "detected: " + DeviceVariant.detectionReason(for: device)
        var notes: [String] = []

        let zones = try device.reportZones()
        let conventional = zones.filter { $0.type == .conventional }
        let faulty = zones.filter { $0.isSequential && ($0.condition == .readOnly || $0.condition == .offline) }
        let usable = zones.filter { $0.isSequential && $0.condition != .readOnly && $0.condition != .offline }
        let untrusted = Self.untrustedOpenLimit(info, sequentialZones: zones.count { $0.isSequential })
        if let untrusted { notes.append(untrusted) }
        let workingCount = min(usable.count, workingZoneCount(info, openLimitTrusted: untrusted == nil))
        try device.resetAllZones()
        let working = try Array(usable.prefix(workingCount)).map { (zone) throws(ZonedStorageError) in
            try device.zone(zone.index)
        }
        if let first = working.first, let last = working.last {
            notes.append(
                "working zones: \(working.count) sequential zones from zone \(first.index) to zone \(last.index)"
                    + (conventional.isEmpty ? "" : ", and conventional zone \(conventional[0].index)")
            )
        }
        if !faulty.isEmpty {
            notes.append(
                "zones left alone (read-only or offline): " + faulty.map { "\($0.index)" }.joined(separator: ", ")
            )
        }

        let context = ConformanceContext(
            device: device,
            variant: variant,
            conventionalZones: conventional,
            sequentialZones: working,
            faultyZones: faulty,
            injector: options.injector,
            untrustedOpenLimit: untrusted
        )
        var results: [ConformanceResult] = []
        for check in checks {
            let result = run(check, in: context, clock: clock, runNotes: &notes)
            results.append(result)
            progress(result)
        }
        do {
            try device.resetAllZones()
        } catch {
            notes.append("the final RESET ALL failed: \(error)")
        }
        return ConformanceReport(
            path: device.path,
            device: info,
            variant: variant,
            variantSource: source,
            results: results,
            duration: Self.seconds(clock.now - started),
            notes: notes
        )
    }

    private func run(
        _ check: ConformanceCheck,
        in context: ConformanceContext,
        clock: ContinuousClock,
        runNotes: inout [String]
    ) -> ConformanceResult {
        let started = clock.now
        context.beginCheck()
        var outcome: ConformanceOutcome
        if !check.concerns(context.variant) {
            outcome = .skip(reason: "item \(check.number) does not concern \(context.variant.displayName) devices")
        } else if let problem = cleanUp(context) {
            outcome = .fail(
                expected: ConformanceExpectation(
                    action: "reset the zones used by earlier checks",
                    statuses: [.success]
                ),
                observed: ConformanceObservation(detail: problem)
            )
        } else {
            do {
                outcome = try check.body(context)
            } catch {
                outcome = error.outcome
            }
            if let problem = cleanUp(context) {
                context.note("resetting the zones after the check failed: \(problem)")
                runNotes.append("after item \(check.number): \(problem)")
            }
        }
        return ConformanceResult(
            number: check.number,
            title: check.title,
            section: check.section,
            outcome: outcome,
            duration: Self.seconds(clock.now - started),
            notes: context.notes
        )
    }

    /// Restores injected faults and resets every sequential zone that is not EMPTY; returns a
    /// description of what went wrong, or nil.
    private func cleanUp(_ context: ConformanceContext) -> String? {
        var problems: [String] = []
        if let injector = context.injector {
            for index in context.injectedZones.sorted() {
                do {
                    try injector.setCondition(index, .empty)
                    context.injectedZones.remove(index)
                } catch {
                    problems.append("zone \(index) could not be made EMPTY again: \(error)")
                }
            }
        }
        let zones: [Zone]
        do {
            zones = try device.reportZones()
        } catch {
            return (problems + ["zone report failed: \(error)"]).joined(separator: "; ")
        }
        for zone in zones
        where zone.isSequential && zone.condition != .empty
            && zone.condition != .readOnly && zone.condition != .offline
        {
            do {
                try device.resetZone(zone.index)
            } catch {
                problems.append("zone \(zone.index) (\(zone.condition.kernelName)) could not be reset: \(error)")
            }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// How many sequential zones the checks need: enough to exceed the open limit twice over
    /// (item 80 step 4) and the active limit, at least 8.
    private func workingZoneCount(_ info: DeviceInfo, openLimitTrusted: Bool) -> Int {
        var count = 8
        if openLimitTrusted, let open = info.maxOpenZones.value { count = max(count, 2 * open + 1, open + 4) }
        if let active = info.maxActiveZones.value { count = max(count, active + 2) }
        if let cap = options.maximumWorkingZones { count = min(count, max(cap, 1)) }
        return count
    }

    /// Why a reported open limit is not a limit the device enforces, or nil.
    ///
    /// Kernels with zone write plugging report `max_open_zones` 128 (the plug pool size) for
    /// devices without open and active limits and more than 128 sequential zones (item 7).
    static func untrustedOpenLimit(_ info: DeviceInfo, sequentialZones: Int) -> String? {
        guard info.maxOpenZones == .limit(128), info.maxActiveZones == .unlimited, sequentialZones > 128 else {
            return nil
        }
        return "max_open_zones 128 with no active limit and \(sequentialZones) sequential zones is probably the "
            + "kernel's zone write plug pool size, not a limit the device enforces (item 7): open-limit checks skipped"
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
