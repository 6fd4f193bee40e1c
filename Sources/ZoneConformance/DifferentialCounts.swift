public import ZonedStorage

/// Zones holding open and active resources, as a differential run compares them (checklist
/// item 54): open = IMP_OPEN + EXP_OPEN, active = open + CLOSED.
public struct DifferentialCounts: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Implicitly open zones.
    public var implicitOpen: Int
    /// Explicitly open zones.
    public var explicitOpen: Int
    /// Closed zones.
    public var closed: Int

    /// Creates counts.
    public init(implicitOpen: Int, explicitOpen: Int, closed: Int) {
        self.implicitOpen = implicitOpen
        self.explicitOpen = explicitOpen
        self.closed = closed
    }

    /// Counts the conditions of `zones`.
    public init(_ zones: [Zone]) {
        self.init(
            implicitOpen: zones.count { $0.condition == .implicitOpen },
            explicitOpen: zones.count { $0.condition == .explicitOpen },
            closed: zones.count { $0.condition == .closed }
        )
    }

    /// Open zones: implicit + explicit.
    public var open: Int { implicitOpen + explicitOpen }
    /// Active zones: open + closed.
    public var active: Int { open + closed }

    /// `IMP_OPEN 2, EXP_OPEN 1, CLOSED 0 (open 3, active 3)`.
    public var description: String {
        "IMP_OPEN \(implicitOpen), EXP_OPEN \(explicitOpen), CLOSED \(closed) (open \(open), active \(active))"
    }
}
