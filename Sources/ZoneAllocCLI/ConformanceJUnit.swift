import ZoneConformance

/// JUnit XML for `zonealloc conformance --junit FILE`, as CI systems read it: one `testsuite`
/// per run, one `testcase` per check (or per differential seed), `failure` and `skipped`
/// elements with the expected-vs-observed text.
enum ConformanceJUnit {
    /// The XML of a suite run.
    static func document(_ report: ConformanceReport) -> String {
        var cases: [String] = []
        for result in report.results {
            let name = "\(result.number) \(result.title)"
            var body = ""
            switch result.outcome {
            case .pass:
                break
            case .skip(let reason):
                body = "<skipped message=\"\(escape(reason))\"/>"
            case .fail(let expected, let observed):
                let text = "expected \(expected); observed \(observed)"
                body = "<failure message=\"\(escape(text))\" type=\"conformance\">\(escape(text))</failure>"
            }
            if !result.notes.isEmpty {
                body += "<system-out>\(escape(result.notes.joined(separator: "\n")))</system-out>"
            }
            cases.append(
                testcase(
                    className: "ZoneConformance.\(result.section.rawValue)",
                    name: name,
                    time: result.duration,
                    body: body
                )
            )
        }
        return suite(
            name: "zone conformance of \(report.path) (\(report.variant))",
            tests: report.results.count,
            failures: report.summary.failed,
            skipped: report.summary.skipped,
            time: report.duration,
            cases: cases
        )
    }

    /// The XML of differential runs: one test case per seed.
    static func document(_ reports: [DifferentialReport]) -> String {
        var cases: [String] = []
        for report in reports {
            var body = "<system-out>\(escape("exercised: \(report.statistics)"))</system-out>"
            if let divergence = report.divergence {
                let message = "diverged at operation \(divergence.index): \(divergence.operation): \(divergence.detail)"
                body =
                    "<failure message=\"\(escape(message))\" type=\"divergence\">\(escape(divergence.description))"
                    + "</failure>" + body
            }
            cases.append(
                testcase(
                    className: "ZoneConformance.Differential",
                    name: "seed \(report.seed), \(report.requestedOperations) operations",
                    time: report.duration,
                    body: body
                )
            )
        }
        return suite(
            name: "differential run on \(reports.first?.path ?? "?")",
            tests: reports.count,
            failures: reports.count { !$0.isSuccess },
            skipped: 0,
            time: reports.reduce(0) { $0 + $1.duration },
            cases: cases
        )
    }

    private static func testcase(className: String, name: String, time: Double, body: String) -> String {
        let open = "    <testcase classname=\"\(escape(className))\" name=\"\(escape(name))\" time=\"\(time)\""
        return body.isEmpty ? open + "/>" : open + ">" + body + "</testcase>"
    }

    private static func suite(name: String, tests: Int, failures: Int, skipped: Int, time: Double, cases: [String])
        -> String
    {
        ([
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<testsuites tests=\"\(tests)\" failures=\"\(failures)\" skipped=\"\(skipped)\" time=\"\(time)\">",
            "  <testsuite name=\"\(escape(name))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"0\" "
                + "skipped=\"\(skipped)\" time=\"\(time)\">",
        ]
            + cases + ["  </testsuite>", "</testsuites>"]).joined(separator: "\n") + "\n"
    }

    /// `text` with the five XML special characters escaped and control characters other than
    /// tab and newline dropped (XML 1.0 cannot carry them).
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }
}
