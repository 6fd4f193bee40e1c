/// The first operation of a differential run after which the device under test and the
/// emulated reference disagree.
public struct DifferentialDivergence: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What disagreed.
    public enum Aspect: String, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The operation's result: success or errno, append location, bytes written by a fill.
        case result
        /// Data read where both devices must return what was written.
        case data
        /// A zone's condition or write pointer afterwards.
        case zoneState = "zone-state"
        /// The numbers of implicitly open, explicitly open and closed zones afterwards.
        case resourceCounts = "resource-counts"

        public var description: String { rawValue }
    }

    /// The operation's position in the run, counting from 0.
    public var index: Int
    /// The operation.
    public var operation: DifferentialOperation
    /// What disagreed.
    public var aspect: Aspect
    /// The disagreement in words.
    public var detail: String
    /// How the operation ended on the device under test.
    public var deviceOutcome: DifferentialOutcome
    /// How it ended on the reference.
    public var referenceOutcome: DifferentialOutcome
    /// The zones the operation touched or that differ, on the device under test, afterwards.
    public var deviceZones: [DifferentialZoneState]
    /// The same zones on the reference.
    public var referenceZones: [DifferentialZoneState]
    /// Resource counts of the device under test afterwards.
    public var deviceCounts: DifferentialCounts
    /// Resource counts of the reference afterwards.
    public var referenceCounts: DifferentialCounts

    /// Creates a divergence record.
    public init(
        index: Int,
        operation: DifferentialOperation,
        aspect: Aspect,
        detail: String,
        deviceOutcome: DifferentialOutcome,
        referenceOutcome: DifferentialOutcome,
        deviceZones: [DifferentialZoneState],
        referenceZones: [DifferentialZoneState],
        deviceCounts: DifferentialCounts,
        referenceCounts: DifferentialCounts
    ) {
        self.index = index
        self.operation = operation
        self.aspect = aspect
        self.detail = detail
        self.deviceOutcome = deviceOutcome
        self.referenceOutcome = referenceOutcome
        self.deviceZones = deviceZones
        self.referenceZones = referenceZones
        self.deviceCounts = deviceCounts
        self.referenceCounts = referenceCounts
    }

    /// Several lines: the operation, what disagreed, both results, both zone states.
    public var description: String {
        var lines = [
            "operation \(index): \(operation)",
            "  \(aspect): \(detail)",
            "  device:    \(deviceOutcome); \(deviceCounts)",
            "  reference: \(referenceOutcome); \(referenceCounts)",
        ]
        let device = deviceZones.map(\.description).joined(separator: "; ")
        let reference = referenceZones.map(\.description).joined(separator: "; ")
        if !device.isEmpty || !reference.isEmpty {
            lines.append("  device zones:    \(device.isEmpty ? "-" : device)")
            lines.append("  reference zones: \(reference.isEmpty ? "-" : reference)")
        }
        return lines.joined(separator: "\n")
    }
}
