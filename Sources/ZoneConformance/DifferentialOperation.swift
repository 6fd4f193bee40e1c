public import ZonedStorage

/// One operation of a differential run (``DifferentialRun``), applied to the device under test
/// and to the emulated reference alike. Offsets are absolute bytes.
///
/// Encoded as JSON objects with one key naming the case, for example
/// `{"write":{"offset":1048576,"length":4096}}`.
public enum DifferentialOperation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A zone management operation on one zone (`zbd_open_zones` and friends over one zone).
    case manage(ZoneOperation, zone: Int)
    /// A zone management operation on the zones overlapping `[offset, offset + length)`, zone by
    /// zone (checklist item 50); `length` 0 means "to the end of the device", so a reset from 0
    /// with length 0 is RESET ALL (item 49).
    case manageRange(ZoneOperation, offset: UInt64, length: UInt64)
    /// A write of `length` bytes at `offset`, wherever that is (at, ahead of or behind a write
    /// pointer, into a full zone, across a zone boundary, into a conventional zone, misaligned).
    case write(offset: UInt64, length: Int)
    /// Writes `[from, to)` of one zone in writes of at most ``DifferentialRun/fillWriteSize``
    /// bytes, stopping at the first refused one: fills a zone (or nearly) in one step.
    case fill(zone: Int, from: UInt64, to: UInt64)
    /// A zone append of `length` bytes addressed to `target` (normally a zone start).
    case append(target: UInt64, length: Int)
    /// A read of `length` bytes at `offset` (below, at or beyond a write pointer, across zones).
    case read(offset: UInt64, length: Int)
    /// A flush of the write cache.
    case flush

    /// A short name of the kind of operation, for statistics: `open`, `close`, `finish`,
    /// `reset`, `open-range`, …, `write`, `fill`, `append`, `read`, `flush`.
    public var kind: String {
        switch self {
        case .manage(let operation, _): operation.rawValue
        case .manageRange(let operation, let offset, let length):
            operation == .reset && offset == 0 && length == 0 ? "reset-all" : "\(operation.rawValue)-range"
        case .write: "write"
        case .fill: "fill"
        case .append: "append"
        case .read: "read"
        case .flush: "flush"
        }
    }

    /// `OPEN zone 5`, `write 8192 bytes at 5242880`, ….
    public var description: String {
        switch self {
        case .manage(let operation, let zone):
            "\(operation.rawValue.uppercased()) zone \(zone)"
        case .manageRange(let operation, let offset, let length):
            operation == .reset && offset == 0 && length == 0
                ? "RESET ALL"
                : "\(operation.rawValue.uppercased()) range offset \(offset) length \(length)"
        case .write(let offset, let length):
            "write \(length) bytes at \(offset)"
        case .fill(let zone, let from, let to):
            "fill zone \(zone) from \(from) to \(to) (\(to - from) bytes)"
        case .append(let target, let length):
            "zone append of \(length) bytes to \(target)"
        case .read(let offset, let length):
            "read \(length) bytes at \(offset)"
        case .flush:
            "flush"
        }
    }
}
