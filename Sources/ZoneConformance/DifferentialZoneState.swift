public import ZonedStorage

/// The part of a zone a differential run compares: its condition, and its write pointer where
/// the write pointer is defined (checklist item 11: not for conventional, FULL, read-only or
/// offline zones, whose reported value differs between devices).
public struct DifferentialZoneState: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The zone number.
    public var zone: Int
    /// The zone's start, for printing the write pointer relative to it.
    public var start: UInt64
    /// The condition.
    public var condition: ZoneCondition
    /// The write pointer (absolute bytes), nil where it is not defined.
    public var writePointer: UInt64?

    /// Creates a state.
    public init(zone: Int, start: UInt64, condition: ZoneCondition, writePointer: UInt64?) {
        self.zone = zone
        self.start = start
        self.condition = condition
        self.writePointer = writePointer
    }

    /// The compared part of a reported zone.
    public init(_ zone: Zone) {
        self.init(
            zone: zone.index,
            start: zone.start,
            condition: zone.condition,
            writePointer: zone.condition.hasValidWritePointer ? zone.writePointer : nil
        )
    }

    /// `zone 5 IMP_OPEN, wp +8192`.
    public var description: String {
        "zone \(zone) \(condition.kernelName)"
            + (writePointer.map { ", wp " + WritePointerText.format($0, zoneStart: start) } ?? "")
    }
}
