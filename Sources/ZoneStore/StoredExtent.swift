public import ZoneAlloc

/// One piece of a stored value: where it lies (a ``ZoneAlloc/DataPointer``: bucket, offset,
/// sectors, generation, cached flag), how many of its bytes belong to the value, and the XXH3-64
/// checksum of all its sectors as written (value bytes, then zero padding to the block).
public struct StoredExtent: Hashable, Sendable {
    /// Where the data lies.
    public var pointer: DataPointer
    /// Bytes of the value in this extent (the rest of its sectors is zero padding).
    public var byteCount: Int
    /// XXH3-64 of the extent's sectors.
    public var checksum: UInt64

    /// Creates an extent record.
    public init(pointer: DataPointer, byteCount: Int, checksum: UInt64) {
        self.pointer = pointer
        self.byteCount = byteCount
        self.checksum = checksum
    }

    /// Same place: bucket, offset, length, generation (checksums and flags are not compared).
    func sameLocation(as other: DataPointer) -> Bool {
        pointer.bucket == other.bucket && pointer.offset == other.offset && pointer.sectors == other.sectors
            && pointer.generation == other.generation
    }
}
