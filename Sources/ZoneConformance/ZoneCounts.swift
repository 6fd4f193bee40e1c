import ZonedStorage

/// Zones holding open and active resources, counted from a zone report as sysfs defines them
/// (checklist item 54): open = IMP_OPEN + EXP_OPEN, active = open + CLOSED.
struct ZoneCounts: Sendable, Hashable, CustomStringConvertible {
    /// Implicitly open zones.
    var implicitOpen: Int
    /// Explicitly open zones.
    var explicitOpen: Int
    /// Closed zones.
    var closed: Int

    /// Counts the conditions of `zones`.
    init(_ zones: [Zone]) {
        implicitOpen = zones.count { $0.condition == .implicitOpen }
        explicitOpen = zones.count { $0.condition == .explicitOpen }
        closed = zones.count { $0.condition == .closed }
    }

    /// Creates counts.
    init(implicitOpen: Int, explicitOpen: Int, closed: Int) {
        self.implicitOpen = implicitOpen
        self.explicitOpen = explicitOpen
        self.closed = closed
    }

    /// Open zones: implicit + explicit.
    var open: Int { implicitOpen + explicitOpen }
    /// Active zones: open + closed.
    var active: Int { open + closed }

    /// `IMP_OPEN 2, EXP_OPEN 1, CLOSED 0 (open 3, active 3)`.
    var description: String {
        "IMP_OPEN \(implicitOpen), EXP_OPEN \(explicitOpen), CLOSED \(closed) (open \(open), active \(active))"
    }
}
