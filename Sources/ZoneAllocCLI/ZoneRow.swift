import ZonedStorage

/// One zone as `zonealloc device report` shows it, in the table and in the JSON output.
///
/// JSON keys: `index`, `start`, `length`, `capacity` (bytes), `writePointer` (an absolute byte
/// offset, or `null` where the table shows `-`), `type` (`cnv`, `swr`, `swp`) and `condition`
/// (the kernel's name without `BLK_ZONE_COND_`: `NOT_WP`, `EMPTY`, `IMP_OPEN`, `EXP_OPEN`,
/// `CLOSED`, `FULL`, `READONLY`, `OFFLINE`).
struct ZoneRow: Codable, Equatable, Sendable {
    /// Zone number.
    var index: Int
    /// First byte of the zone.
    var start: UInt64
    /// Zone size in bytes.
    var length: UInt64
    /// Usable bytes of the zone.
    var capacity: UInt64
    /// The write pointer as the device reports it, or `nil` when the zone has none: conventional,
    /// read-only and offline zones. Full zones show what the device reports (`start + capacity` or
    /// `start + length` depending on the device).
    var writePointer: UInt64?
    /// `cnv`, `swr` or `swp`, as `zbd report` prints the type.
    var type: String
    /// The kernel's condition name, e.g. `EMPTY`.
    var condition: String

    /// Creates a row from individual values.
    init(
        index: Int,
        start: UInt64,
        length: UInt64,
        capacity: UInt64,
        writePointer: UInt64?,
        type: String,
        condition: String
    ) {
        self.index = index
        self.start = start
        self.length = length
        self.capacity = capacity
        self.writePointer = writePointer
        self.type = type
        self.condition = condition
    }

    /// The row for `zone`.
    init(_ zone: Zone) {
        let hasWritePointer =
            zone.type.isSequential
            && (zone.condition.hasValidWritePointer || zone.condition == .full)
            && zone.writePointer != Zone.invalidWritePointer
        self.init(
            index: zone.index,
            start: zone.start,
            length: zone.length,
            capacity: zone.capacity,
            writePointer: hasWritePointer ? zone.writePointer : nil,
            type: zone.type.shortName,
            condition: zone.condition.kernelName
        )
    }

    /// Bytes between the zone start and the write pointer, at most the capacity (a full zone's
    /// write pointer may be reported at the zone end), or `nil` without a write pointer.
    var used: UInt64? {
        guard let writePointer, writePointer >= start else { return nil }
        return min(writePointer - start, capacity)
    }

    private enum CodingKeys: String, CodingKey {
        case index, start, length, capacity, writePointer, type, condition
    }

    /// Encodes every key; optional values as an explicit `null`.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encode(start, forKey: .start)
        try container.encode(length, forKey: .length)
        try container.encode(capacity, forKey: .capacity)
        // Written as an explicit `null` so every zone object has the same keys.
        try container.encode(writePointer, forKey: .writePointer)
        try container.encode(type, forKey: .type)
        try container.encode(condition, forKey: .condition)
    }
}
