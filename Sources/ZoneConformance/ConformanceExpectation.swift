public import ZonedStorage

/// What a check expected from one step: the operation's status and the zone's condition and
/// write pointer afterwards. Lists are alternatives ("any of"); an empty list was not checked.
public struct ConformanceExpectation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The step: what was done, in words (`write 4096 bytes at +0 of zone 3`).
    public var action: String
    /// The zone the step concerns, if one.
    public var zone: Int?
    /// Start of that zone, for printing write pointers relative to it.
    public var zoneStart: UInt64?
    /// Acceptable results of the operation.
    public var statuses: [OperationStatus]
    /// Acceptable conditions of the zone afterwards.
    public var conditions: [ZoneCondition]
    /// Acceptable write pointers (absolute byte offsets) afterwards.
    public var writePointers: [UInt64]
    /// Anything else that was expected, in words.
    public var detail: String?

    /// Creates an expectation.
    public init(
        action: String,
        zone: Int? = nil,
        zoneStart: UInt64? = nil,
        statuses: [OperationStatus] = [],
        conditions: [ZoneCondition] = [],
        writePointers: [UInt64] = [],
        detail: String? = nil
    ) {
        self.action = action
        self.zone = zone
        self.zoneStart = zoneStart
        self.statuses = statuses
        self.conditions = conditions
        self.writePointers = writePointers
        self.detail = detail
    }

    /// `write 4096 bytes at +0 of zone 3: success; zone 3 IMP_OPEN, wp +4096`.
    public var description: String {
        var parts: [String] = []
        if !statuses.isEmpty { parts.append(statuses.map(\.name).joined(separator: " or ")) }
        var zoneParts: [String] = []
        if !conditions.isEmpty { zoneParts.append(conditions.map(\.kernelName).joined(separator: " or ")) }
        if !writePointers.isEmpty {
            zoneParts.append(
                "wp "
                    + writePointers.map { WritePointerText.format($0, zoneStart: zoneStart) }.joined(separator: " or ")
            )
        }
        if !zoneParts.isEmpty {
            parts.append((zone.map { "zone \($0) " } ?? "") + zoneParts.joined(separator: ", "))
        }
        if let detail { parts.append(detail) }
        return action + (parts.isEmpty ? "" : ": " + parts.joined(separator: "; "))
    }
}
