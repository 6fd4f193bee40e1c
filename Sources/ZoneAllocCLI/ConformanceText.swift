import ZoneConformance
import ZonedStorage

/// The human-readable output of `zonealloc conformance`.
enum ConformanceText {
    /// The catalogue for `--list`: one line per check, then indented lines for where the
    /// variants differ and what the check cannot observe.
    static func catalogue(_ checks: [ConformanceCheck]) -> [String] {
        var table = TextTable(columns: [("ITEM", .right), ("SECTION", .left), ("TITLE", .left)])
        var extra: [Int: [String]] = [:]
        for check in checks {
            table.append(["\(check.number)", check.section.rawValue, check.title])
            var lines: [String] = []
            for variant in DeviceVariant.allCases {
                if let note = check.variantNotes[variant] { lines.append("\(variant): \(note)") }
            }
            let skipped = DeviceVariant.allCases.filter { !check.concerns($0) }
            if !skipped.isEmpty { lines.append("not run on: " + skipped.map(\.rawValue).joined(separator: ", ")) }
            if let limitation = check.limitation { lines.append("limitation: \(limitation)") }
            extra[check.number] = lines
        }
        let rendered = table.lines()
        var lines = [rendered[0]]
        let indent = String(repeating: " ", count: 6)
        for (check, line) in zip(checks, rendered.dropFirst()) {
            lines.append(line)
            lines += (extra[check.number] ?? []).map { indent + $0 }
        }
        lines.append(
            "\(checks.count) checks; sections: "
                + ConformanceSection.allCases.map(\.description).joined(separator: "; ")
        )
        return lines
    }

    /// The report of a suite run: a header, one row per check (fail: expected vs observed;
    /// skip: the reason), the run's notes and the summary.
    static func report(_ report: ConformanceReport) -> [String] {
        var lines = [
            "conformance of \(report.path): \(report.device.vendorID), "
                + "\(report.device.zoneCount) zones of \(SizeFormatter.string(report.device.zoneSize)); variant "
                + "\(report.variant) (\(report.variantSource))"
        ]
        var table = TextTable(columns: [("ITEM", .right), ("TITLE", .left), ("RESULT", .left), ("DETAIL", .left)])
        for result in report.results {
            table.append(["\(result.number)", result.title, result.outcome.status, detail(result.outcome)])
        }
        lines += table.lines()
        for note in report.notes { lines.append("note: \(note)") }
        lines.append(
            "\(report.summary) (\(report.summary.ran) run) in \(seconds(report.duration))"
                + (report.isSuccess
                    ? "" : "; failed: " + report.failures.map { "\($0.number)" }.joined(separator: ", "))
        )
        return lines
    }

    /// What the table's DETAIL column says about an outcome.
    static func detail(_ outcome: ConformanceOutcome) -> String {
        switch outcome {
        case .pass: ""
        case .skip(let reason): reason
        case .fail(let expected, let observed): "expected \(expected); observed \(observed)"
        }
    }

    /// The outcome of differential runs, one block per seed.
    static func differential(_ reports: [DifferentialReport]) -> [String] {
        guard let first = reports.first else { return [] }
        var lines = [
            "differential run on \(first.path): \(first.device.vendorID); reference: emulated \(first.variant) "
                + "profile (\(first.variantSource)); working zones \(zoneList(first.workingZones))"
        ]
        for report in reports {
            if let divergence = report.divergence {
                lines.append(
                    "seed \(report.seed): DIVERGED at operation \(divergence.index) of \(report.requestedOperations) "
                        + "(\(seconds(report.duration)))"
                )
                lines += divergence.description.split(separator: "\n").map { "  " + $0 }
            } else {
                lines.append(
                    "seed \(report.seed): no divergence in \(report.executedOperations) operations "
                        + "(\(seconds(report.duration)))"
                )
            }
            lines.append("  exercised: \(report.statistics)")
            for note in report.notes where !note.hasPrefix("working zones") { lines.append("  note: \(note)") }
        }
        let diverged = reports.filter { !$0.isSuccess }.map { "\($0.seed)" }
        lines.append(
            diverged.isEmpty
                ? "\(reports.count) seeds, no divergence"
                : "\(reports.count) seeds, diverged with seed \(diverged.joined(separator: ", "))"
        )
        return lines
    }

    /// `3-12, 1`.
    static func zoneList(_ zones: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < zones.count {
            var end = index
            while end + 1 < zones.count, zones[end + 1] == zones[end] + 1 { end += 1 }
            parts.append(end == index ? "\(zones[index])" : "\(zones[index])-\(zones[end])")
            index = end + 1
        }
        return parts.joined(separator: ", ")
    }

    /// `0.42 s`.
    static func seconds(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) s"
    }
}
