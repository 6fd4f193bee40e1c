/// Thrown inside a check to end it early with a failure or a skip.
///
/// The helpers of ``ConformanceContext`` throw it when a step does not meet its expectation; a
/// check body can throw it too (`throw .skip("no conventional zones")`).
public struct ConformanceStop: Error, Sendable {
    /// The outcome the check ends with.
    public var outcome: ConformanceOutcome

    /// Ends the check with `outcome`.
    public init(_ outcome: ConformanceOutcome) {
        self.outcome = outcome
    }

    /// Ends the check as skipped.
    public static func skip(_ reason: String) -> ConformanceStop {
        ConformanceStop(.skip(reason: reason))
    }

    /// Ends the check as failed.
    public static func fail(expected: ConformanceExpectation, observed: ConformanceObservation) -> ConformanceStop {
        ConformanceStop(.fail(expected: expected, observed: observed))
    }
}
