/// A journal group (FORMAT.md, "Journal groups"): a 64-byte header and the records of one
/// commit, padded to the logical block size, written at the write pointer of a journal bucket.
/// A continuation group holds no records and names the bucket the journal continues in.
struct LogGroup: Sendable, Hashable {
    /// What a group holds.
    enum Kind: UInt8, Sendable {
        /// Records.
        case records = 1
        /// The journal continues at the start of ``LogGroup/nextBucket``.
        case continuation = 2
    }

    static let magic: [UInt8] = Array("ZSJOURNL".utf8)
    static let headerSize = 64

    /// The store's UUID.
    var uuid: [UInt8]
    /// The bucket (zone) the group is written in.
    var bucket: UInt32
    /// That bucket's generation when the journal took it.
    var generation: UInt8
    var kind: Kind
    /// The sequence number of the first record (for a continuation: of the next record).
    var firstSequence: UInt64
    var recordCount: UInt32
    var payloadLength: UInt32
    /// Header, payload and padding: a multiple of the logical block size.
    var groupLength: UInt32
    var nextBucket: UInt32 = 0
    var nextGeneration: UInt8 = 0

    /// The sequence number after the group's last record.
    var endSequence: UInt64 { firstSequence + UInt64(recordCount) }

    /// The group's bytes: header with checksum, `payload`, zero padding to `blockSize`.
    static func encode(
        uuid: [UInt8],
        bucket: UInt32,
        generation: UInt8,
        kind: Kind,
        firstSequence: UInt64,
        recordCount: Int,
        payload: ArraySlice<UInt8>,
        blockSize: Int,
        nextBucket: UInt32 = 0,
        nextGeneration: UInt8 = 0
    ) -> [UInt8] {
        let unpadded = headerSize + payload.count
        let length = (unpadded + blockSize - 1) / blockSize * blockSize
        var writer = ByteWriter(capacity: length)
        writer.raw(magic)
        writer.raw(uuid)
        writer.u32(bucket)
        writer.u8(generation)
        writer.u8(kind.rawValue)
        writer.u8(nextGeneration)
        writer.u8(0)
        writer.u64(firstSequence)
        writer.u32(UInt32(recordCount))
        writer.u32(UInt32(payload.count))
        writer.u32(UInt32(length))
        writer.u32(nextBucket)
        writer.u64(0)
        writer.bytes.append(contentsOf: payload)
        writer.zeros(length - unpadded)
        let checksum = checksum(of: writer.bytes, payloadLength: payload.count)
        writer.patch(u64: checksum, at: 56)
        return writer.bytes
    }

    /// XXH3-64 of the header's first 56 bytes and the payload.
    static func checksum(of bytes: [UInt8], from start: Int = 0, payloadLength: Int) -> UInt64 {
        var covered = Array(bytes[start..<(start + 56)])
        covered.append(contentsOf: bytes[(start + headerSize)..<(start + headerSize + payloadLength)])
        return Checksum.of(covered)
    }

    /// Decodes the header at `start` of `bytes`; nil when the magic is wrong or fields are out of
    /// range. The checksum is checked separately (``verify(_:at:)``), once the whole group is read.
    static func decodeHeader(_ bytes: [UInt8], at start: Int = 0) -> LogGroup? {
        guard bytes.count >= start + headerSize, Array(bytes[start..<(start + 8)]) == magic else { return nil }
        var reader = ByteReader(bytes, from: start + 8, to: start + headerSize)
        let uuid = reader.raw(16)
        let bucket = reader.u32()
        let generation = reader.u8()
        let rawKind = reader.u8()
        let nextGeneration = reader.u8()
        reader.skip(1)
        let firstSequence = reader.u64()
        let recordCount = reader.u32()
        let payloadLength = reader.u32()
        let groupLength = reader.u32()
        let nextBucket = reader.u32()
        // The sequence numbers of the group's records must not wrap (a sequence number is a u64
        // counted from 1; one past the last record is computed from these fields).
        guard !reader.failed, let kind = Kind(rawValue: rawKind),
            UInt64(payloadLength) + UInt64(headerSize) <= UInt64(groupLength),
            firstSequence < UInt64.max - UInt64(recordCount)
        else { return nil }
        return LogGroup(
            uuid: uuid,
            bucket: bucket,
            generation: generation,
            kind: kind,
            firstSequence: firstSequence,
            recordCount: recordCount,
            payloadLength: payloadLength,
            groupLength: groupLength,
            nextBucket: nextBucket,
            nextGeneration: nextGeneration
        )
    }

    /// Whether the group at `start` of `bytes` (all ``groupLength`` bytes of it) has a valid
    /// checksum.
    func verify(_ bytes: [UInt8], at start: Int = 0) -> Bool {
        guard bytes.count >= start + Int(groupLength) else { return false }
        var reader = ByteReader(bytes, from: start + 56, to: start + 64)
        let stored = reader.u64()
        return stored == Self.checksum(of: bytes, from: start, payloadLength: Int(payloadLength))
    }

    /// Decodes the records of the verified group at `start` of `bytes`.
    func records(_ bytes: [UInt8], at start: Int = 0) -> [JournalRecord]? {
        var reader = ByteReader(
            bytes,
            from: start + Self.headerSize,
            to: start + Self.headerSize + Int(payloadLength)
        )
        var records: [JournalRecord] = []
        // The count comes from the header: never reserve for more records than the payload can
        // hold (5 bytes each at least), a bad count must not allocate gigabytes.
        records.reserveCapacity(min(Int(recordCount), Int(payloadLength) / 5))
        for index in 0..<Int(recordCount) {
            guard let record = JournalRecord.decode(&reader, sequence: firstSequence + UInt64(index)) else {
                return nil
            }
            records.append(record)
        }
        return reader.remaining == 0 ? records : nil
    }
}
