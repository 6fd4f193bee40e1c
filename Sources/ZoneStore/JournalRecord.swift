import ZoneAlloc

/// One record of the journal (FORMAT.md, "Records"). Every record has a sequence number, given
/// by its place in the journal; a put's version is its own sequence number.
enum JournalRecord: Sendable, Hashable {
    /// `key` now holds `entry` (a user put, or a copygc move when `moved`). The entry's version
    /// is the record's sequence number.
    case put(key: StoreKey, entry: IndexEntry, moved: Bool)
    /// `key` was deleted.
    case delete(key: StoreKey)
    /// `bucket`'s generation is now `generation`: its zone may be reset once this is durable.
    case generation(bucket: UInt32, generation: UInt8)
    /// A checkpoint starts: the records up to this one's sequence number − 1 are summarised by
    /// the snapshot records that follow (interleaved with newer records).
    case checkpointBegin(entryCount: UInt64)
    /// One index entry of the snapshot, with the version it had when the snapshot was taken.
    case snapshotEntry(key: StoreKey, entry: IndexEntry)
    /// Bucket generations `first ..< first + generations.count` when the snapshot was taken.
    case snapshotGenerations(first: UInt32, generations: [UInt8])
    /// The checkpoint whose snapshot was taken after `snapshotSequence` is complete.
    case checkpointEnd(snapshotSequence: UInt64, entryCount: UInt64)

    enum Tag: UInt8 {
        case put = 1
        case delete = 2
        case generation = 3
        case checkpointBegin = 4
        case snapshotEntry = 5
        case snapshotGenerations = 6
        case checkpointEnd = 7
    }

    /// Bytes of an encoded extent.
    static let extentSize = 32

    /// Appends the record (type, body length, body) to `writer`.
    func encode(into writer: inout ByteWriter) {
        let start = writer.bytes.count
        writer.u8(tag.rawValue)
        writer.u32(0)
        switch self {
        case .put(let key, let entry, let moved):
            Self.encodeEntry(key: key, entry: entry, moved: moved, into: &writer)
        case .delete(let key):
            writer.u16(UInt16(key.bytes.count))
            writer.raw(key.bytes)
        case .generation(let bucket, let generation):
            writer.u32(bucket)
            writer.u8(generation)
        case .checkpointBegin(let entryCount):
            writer.u64(entryCount)
        case .snapshotEntry(let key, let entry):
            writer.u64(entry.version)
            Self.encodeEntry(key: key, entry: entry, moved: false, into: &writer)
        case .snapshotGenerations(let first, let generations):
            writer.u32(first)
            writer.u32(UInt32(generations.count))
            writer.raw(generations)
        case .checkpointEnd(let snapshotSequence, let entryCount):
            writer.u64(snapshotSequence)
            writer.u64(entryCount)
        }
        writer.patch(u32: UInt32(writer.bytes.count - start - 5), at: start + 1)
    }

    var tag: Tag {
        switch self {
        case .put: .put
        case .delete: .delete
        case .generation: .generation
        case .checkpointBegin: .checkpointBegin
        case .snapshotEntry: .snapshotEntry
        case .snapshotGenerations: .snapshotGenerations
        case .checkpointEnd: .checkpointEnd
        }
    }

    /// The encoded size in bytes.
    var encodedSize: Int {
        var writer = ByteWriter()
        encode(into: &writer)
        return writer.bytes.count
    }

    private static func encodeEntry(key: StoreKey, entry: IndexEntry, moved: Bool, into writer: inout ByteWriter) {
        var flags: UInt8 = 0
        if entry.kind == .cached { flags |= 1 }
        if entry.isEvictedMarker { flags |= 2 }
        if moved { flags |= 4 }
        writer.u8(flags)
        writer.u16(UInt16(key.bytes.count))
        writer.raw(key.bytes)
        writer.u64(UInt64(entry.length))
        writer.u16(UInt16(entry.extents.count))
        for extent in entry.extents {
            let pointer = extent.pointer
            writer.u32(pointer.bucket.rawValue)
            writer.u32(pointer.offset)
            writer.u32(pointer.sectors)
            writer.u8(pointer.generation.rawValue)
            writer.u8(pointer.isCached ? 1 : 0)
            writer.u16(0)
            writer.u32(UInt32(extent.byteCount))
            writer.u32(0)
            writer.u64(extent.checksum)
        }
    }

    private static func decodeEntry(_ reader: inout ByteReader, version: UInt64) -> (StoreKey, IndexEntry, Bool)? {
        let flags = reader.u8()
        let keyLength = Int(reader.u16())
        let key = StoreKey(reader.raw(keyLength))
        let length = reader.u64()
        let count = Int(reader.u16())
        // Limits first (FORMAT.md, "Limits"): a value's length and extents are trusted later (a
        // read reserves `length` bytes, recovery adds offsets and lengths).
        guard !reader.failed, keyLength <= StoreLimits.maximumKeyLength, count <= StoreLimits.maximumExtentsPerValue,
            reader.remaining >= count * extentSize, length <= UInt64(StoreLimits.absoluteMaximumValueSize)
        else { return nil }
        var extents: [StoredExtent] = []
        extents.reserveCapacity(count)
        for _ in 0..<count {
            let bucket = reader.u32()
            let offset = reader.u32()
            let sectors = reader.u32()
            let generation = reader.u8()
            let cached = reader.u8() & 1 != 0
            reader.skip(2)
            let byteCount = Int(reader.u32())
            reader.skip(4)
            let checksum = reader.u64()
            extents.append(
                StoredExtent(
                    pointer: DataPointer(
                        bucket: BucketIndex(rawValue: bucket),
                        offset: offset,
                        sectors: sectors,
                        generation: BucketGeneration(rawValue: generation),
                        isCached: cached
                    ),
                    byteCount: byteCount,
                    checksum: checksum
                )
            )
        }
        guard !reader.failed, keyLength > 0 else { return nil }
        // Each extent holds at most its sectors' bytes and must not wrap its zone's offsets; the
        // value is exactly its extents' bytes (an evicted marker has no extents and keeps the
        // length it had).
        var total = 0
        for extent in extents {
            let pointer = extent.pointer
            guard pointer.sectors > 0, pointer.offset <= UInt32.max - pointer.sectors,
                extent.byteCount <= pointer.byteCount
            else { return nil }
            total += extent.byteCount
        }
        guard flags & 2 != 0 ? extents.isEmpty : total == Int(length) else { return nil }
        let entry = IndexEntry(
            length: Int(length),
            kind: flags & 1 != 0 ? .cached : .dirty,
            extents: extents,
            version: version,
            isEvictedMarker: flags & 2 != 0
        )
        return (key, entry, flags & 4 != 0)
    }

    /// Decodes the record at `reader`'s position; `sequence` is its sequence number. Returns
    /// nil for a malformed record (the group holding it is then invalid).
    static func decode(_ reader: inout ByteReader, sequence: UInt64) -> JournalRecord? {
        let rawTag = reader.u8()
        let length = Int(reader.u32())
        guard !reader.failed, length <= reader.remaining, let tag = Tag(rawValue: rawTag) else { return nil }
        var body = ByteReader(reader.bytes, from: reader.position, to: reader.position + length)
        reader.skip(length)
        let record: JournalRecord?
        switch tag {
        case .put:
            record = decodeEntry(&body, version: sequence).map { .put(key: $0.0, entry: $0.1, moved: $0.2) }
        case .delete:
            let keyLength = Int(body.u16())
            let key = body.raw(keyLength)
            record = keyLength > 0 && keyLength <= StoreLimits.maximumKeyLength ? .delete(key: StoreKey(key)) : nil
        case .generation:
            record = .generation(bucket: body.u32(), generation: body.u8())
        case .checkpointBegin:
            record = .checkpointBegin(entryCount: body.u64())
        case .snapshotEntry:
            let version = body.u64()
            record = decodeEntry(&body, version: version).map { .snapshotEntry(key: $0.0, entry: $0.1) }
        case .snapshotGenerations:
            let first = body.u32()
            let count = Int(body.u32())
            record = .snapshotGenerations(first: first, generations: body.raw(count))
        case .checkpointEnd:
            record = .checkpointEnd(snapshotSequence: body.u64(), entryCount: body.u64())
        }
        guard let record, !body.failed, !reader.failed else { return nil }
        return record
    }
}
