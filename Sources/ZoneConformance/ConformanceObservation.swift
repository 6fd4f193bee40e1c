public import ZonedStorage

/// What a check observed at the step that did not meet its ``ConformanceExpectation``.
public struct ConformanceObservation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The zone the step concerns, if one.
    public var zone: Int?
    /// Start of that zone, for printing write pointers relative to it.
    public var zoneStart: UInt64?
    /// How the operation ended, if the step ran one.
    public var status: OperationStatus?
    /// The zone's condition afterwards, if it was read.
    public var condition: ZoneCondition?
    /// The zone's write pointer (absolute byte offset) afterwards, if it was read.
    public var writePointer: UInt64?
    /// Anything else observed: the device's error message, a count, the data read.
    public var detail: String?

    /// Creates an observation.
    public init(
        zone: Int? = nil,
        zoneStart: UInt64? = nil,
        status: OperationStatus? = nil,
        condition: ZoneCondition? = nil,
        writePointer: UInt64? = nil,
        detail: String? = nil
    ) {
        self.zone = zone
        self.zoneStart = zoneStart
        self.status = status
        self.condition = condition
        self.writePointer = writePointer
        self.detail = detail
    }

    /// The observation of `zone` as reported, after an operation that ended with `status`.
    public init(zone: Zone, status: OperationStatus? = nil, detail: String? = nil) {
        self.init(
            zone: zone.index,
            zoneStart: zone.start,
            status: status,
            condition: zone.condition,
            writePointer: zone.writePointer,
            detail: detail
        )
    }

    /// `EIO; zone 3 EMPTY, wp +0; <detail>`.
    public var description: String {
        var parts: [String] = []
        if let status { parts.append(status.name) }
        var zoneParts: [String] = []
        if let condition { zoneParts.append(condition.kernelName) }
        if let writePointer { zoneParts.append("wp " + WritePointerText.format(writePointer, zoneStart: zoneStart)) }
        if !zoneParts.isEmpty {
            parts.append((zone.map { "zone \($0) " } ?? "") + zoneParts.joined(separator: ", "))
        }
        if let detail { parts.append(detail) }
        return parts.isEmpty ? "nothing observed" : parts.joined(separator: "; ")
    }
}
