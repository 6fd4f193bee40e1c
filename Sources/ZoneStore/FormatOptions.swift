/// Options of ``ZoneStore/format(_:options:)``.
public struct FormatOptions: Sendable, Hashable {
    /// Fraction of bucket capacity held back as the copygc reserve (5–21 %, default 8 %).
    public var copygcReserve: Double
    /// Format even when the device holds a store or other data (everything on it is lost).
    public var force: Bool

    /// Creates options.
    public init(copygcReserve: Double = 0.08, force: Bool = false) {
        self.copygcReserve = copygcReserve
        self.force = force
    }
}
