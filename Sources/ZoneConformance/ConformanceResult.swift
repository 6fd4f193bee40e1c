/// The result of running one ``ConformanceCheck``.
public struct ConformanceResult: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The checklist item number.
    public var number: Int
    /// The checklist item title.
    public var title: String
    /// The checklist section.
    public var section: ConformanceSection
    /// Pass, fail (expected vs observed) or skip (reason).
    public var outcome: ConformanceOutcome
    /// Wall-clock time of the check, including the zone resets around it, in seconds.
    public var duration: Double
    /// Remarks made while running: which of several valid results the device gave, values read,
    /// problems resetting the zones afterwards.
    public var notes: [String]

    /// Creates a result.
    public init(
        number: Int,
        title: String,
        section: ConformanceSection,
        outcome: ConformanceOutcome,
        duration: Double,
        notes: [String] = []
    ) {
        self.number = number
        self.title = title
        self.section = section
        self.outcome = outcome
        self.duration = duration
        self.notes = notes
    }

    /// `12 Write at wp of an EMPTY zone → implicit open: pass`.
    public var description: String { "\(number) \(title): \(outcome)" }
}
