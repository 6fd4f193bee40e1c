/// One zone of a zoned device, in bytes (as libzbd 2's `struct zbd_zone`).
///
/// Offsets are absolute byte offsets on the device. Interpret the write pointer only when
/// ``ZoneCondition/hasValidWritePointer`` is true. For other conditions it holds whatever the
/// device reports, which differs by device (checklist item 11): the emulator and null_blk report
/// `start + length` for conventional and full zones and ``Zone/invalidWritePointer`` for
/// read-only and offline zones; scsi_debug with 4 KiB blocks reports `0xFFFFFFFFFFFFF000` for
/// conventional zones.
public struct Zone: Sendable, Hashable, Codable {
    /// The write pointer the kernel reports for read-only and offline zones
    /// (`(sector_t)-1`, which libzbd turns into `0xFFFFFFFFFFFFFE00` bytes).
    public static let invalidWritePointer: UInt64 = 0xFFFF_FFFF_FFFF_FE00

    /// The zone's number, counting from 0 at the start of the device.
    public var index: Int
    /// First byte of the zone.
    public var start: UInt64
    /// Length of the zone in bytes (the zone size).
    public var length: UInt64
    /// Usable bytes from the start (≤ `length`). Writes may only fill `[start, start + capacity)`.
    public var capacity: UInt64
    /// Write pointer as an absolute byte offset.
    public var writePointer: UInt64
    /// Zone type.
    public var type: ZoneType
    /// Zone condition.
    public var condition: ZoneCondition
    /// The device recommends resetting this zone (`ZBD_ZONE_RWP_RECOMMENDED`).
    public var resetRecommended: Bool
    /// The device uses non-sequential write resources for this zone (`ZBD_ZONE_NON_SEQ_RESOURCES`).
    public var nonSequentialResources: Bool

    /// Creates a zone descriptor.
    public init(
        index: Int,
        start: UInt64,
        length: UInt64,
        capacity: UInt64,
        writePointer: UInt64,
        type: ZoneType,
        condition: ZoneCondition,
        resetRecommended: Bool = false,
        nonSequentialResources: Bool = false
    ) {
        self.index = index
        self.start = start
        self.length = length
        self.capacity = capacity
        self.writePointer = writePointer
        self.type = type
        self.condition = condition
        self.resetRecommended = resetRecommended
        self.nonSequentialResources = nonSequentialResources
    }

    /// One past the last byte of the zone.
    public var end: UInt64 { start + length }

    /// Whether the zone is sequential-write-required (or preferred).
    public var isSequential: Bool { type.isSequential }

    /// Bytes that can still be written at the write pointer: `start + capacity - wp`, clamped at
    /// zero, and zero when the write pointer is not valid (full, read-only, offline). For a
    /// conventional zone, its whole capacity.
    public var remainingCapacity: UInt64 {
        if type == .conventional { return capacity }
        guard condition.hasValidWritePointer else { return 0 }
        let limit = start + capacity
        return writePointer < limit ? limit - writePointer : 0
    }

    /// Bytes written so far below the write pointer (0 when the write pointer is not valid).
    public var writtenBytes: UInt64 {
        guard condition.hasValidWritePointer, writePointer >= start else { return 0 }
        return writePointer - start
    }
}
