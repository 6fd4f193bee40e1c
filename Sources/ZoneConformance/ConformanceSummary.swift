/// Counts of a ``ConformanceReport``'s outcomes.
public struct ConformanceSummary: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Checks that passed.
    public var passed: Int
    /// Checks that failed.
    public var failed: Int
    /// Checks that were skipped.
    public var skipped: Int

    /// Counts the outcomes of `results`.
    public init(_ results: [ConformanceResult]) {
        self.passed = results.count { $0.outcome.isPass }
        self.failed = results.count { $0.outcome.isFailure }
        self.skipped = results.count { $0.outcome.isSkip }
    }

    /// Checks that ran (passed or failed).
    public var ran: Int { passed + failed }

    /// `62 passed, 0 failed, 7 skipped`.
    public var description: String { "\(passed) passed, \(failed) failed, \(skipped) skipped" }
}
