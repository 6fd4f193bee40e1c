/// The emulator's state of one zone.
///
/// Offsets are absolute bytes. `writePointer` is the internal write pointer as null_blk keeps it
/// (`start + capacity` when filled by writes, `start + length` after FINISH, ``Zone/invalidWritePointer``
/// for read-only and offline zones); reports show `start + length` for every FULL zone, as SCSI,
/// NVMe and virtio drivers do (checklist item 11).
struct ZoneRecord: Sendable, Hashable {
    var condition: ZoneCondition
    var writePointer: UInt64
    /// End of the data written since the last reset (below it reads return data; between it and
    /// the write pointer, after a FINISH, reads return zeros).
    var dataEnd: UInt64
    /// Data below this offset has been written back to the backing store.
    var flushedEnd: UInt64
    /// The zone was made FULL by a FINISH, which is durable at once (a zone filled by writes is
    /// only durably FULL once its data is flushed).
    var finished: Bool
    /// A write to the zone failed and the kernel refuses further writes until the write pointer
    /// is refreshed by a report, reset or finish (`BLK_ZONE_WPLUG_NEED_WP_UPDATE`, item 25).
    var needsWritePointerUpdate: Bool

    static func conventional(start: UInt64, length: UInt64) -> ZoneRecord {
        ZoneRecord(
            condition: .notWritePointer,
            writePointer: start + length,
            dataEnd: start + length,
            flushedEnd: start + length,
            finished: false,
            needsWritePointerUpdate: false
        )
    }

    static func empty(start: UInt64) -> ZoneRecord {
        ZoneRecord(
            condition: .empty,
            writePointer: start,
            dataEnd: start,
            flushedEnd: start,
            finished: false,
            needsWritePointerUpdate: false
        )
    }
}
