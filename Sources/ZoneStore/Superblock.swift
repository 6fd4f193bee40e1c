/// The superblock record (FORMAT.md, "Superblock"): identity, geometry, and where the journal
/// replay starts. Rewritten at format, at every open and after every checkpoint.
struct Superblock: Sendable, Hashable {
    /// Where the superblock lives.
    enum Placement: UInt8, Sendable, Hashable {
        /// Two slots at the start of a conventional zone, written alternately.
        case conventional = 1
        /// A log in a pair of sequential zones (as btrfs zoned): records appended at the write
        /// pointer of one zone; when it is full, the other is reset and written.
        case sequentialPair = 2
    }

    /// A stretch of the journal to replay: from ``offset`` in ``bucket`` (at ``generation``),
    /// records ``firstSequence`` to ``lastSequence`` (nil: until the first torn or invalid group).
    struct Chain: Sendable, Hashable {
        var bucket: UInt32
        var generation: UInt8
        var offset: UInt32
        var firstSequence: UInt64
        var lastSequence: UInt64?
    }

    static let magic: [UInt8] = Array("ZSTORESB".utf8)
    static let formatVersion: UInt32 = 1
    static let maximumChains = 32
    static let headerSize = 104
    static let chainSize = 32

    /// Bytes of a superblock record on a device with `blockSize`-byte blocks.
    static func recordSize(blockSize: Int) -> Int { max(4096, blockSize) }

    var recordSize: Int
    var uuid: [UInt8]
    /// Incremented with every write; the valid record with the highest wins.
    var sequence: UInt64
    var zoneSize: UInt64
    var zoneCapacity: UInt64
    var zoneCount: UInt32
    var blockSize: UInt32
    var placement: Placement
    var superblockZones: [UInt32]
    var copygcReserveBasisPoints: UInt16
    /// The last sequence number the checkpoint in the first chain summarises; 0 when the replay
    /// starts from an empty store.
    var checkpointSequence: UInt64
    /// Seconds since 1970 when the store was formatted.
    var formattedAt: UInt64
    var chains: [Chain]
    /// Totals since format (at ``LifetimeCounters/offset``).
    var lifetime = LifetimeCounters()

    /// The copygc reserve as a fraction.
    var copygcReserve: Double { Double(copygcReserveBasisPoints) / 10_000 }

    func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: recordSize)
        writer.raw(Self.magic)
        writer.u32(Self.formatVersion)
        writer.u32(UInt32(recordSize))
        writer.raw(uuid)
        writer.u64(sequence)
        writer.u64(zoneSize)
        writer.u64(zoneCapacity)
        writer.u32(zoneCount)
        writer.u32(blockSize)
        writer.u32(superblockZones[0])
        writer.u32(superblockZones[1])
        writer.u8(placement.rawValue)
        writer.u8(0)
        writer.u16(copygcReserveBasisPoints)
        writer.u32(0)
        writer.u64(checkpointSequence)
        writer.u64(formattedAt)
        writer.u32(UInt32(chains.count))
        writer.u32(0)
        for chain in chains {
            writer.u32(chain.bucket)
            writer.u8(chain.generation)
            writer.zeros(3)
            writer.u32(chain.offset)
            writer.u32(0)
            writer.u64(chain.firstSequence)
            writer.u64(chain.lastSequence ?? .max)
        }
        writer.zeros(LifetimeCounters.offset - writer.bytes.count)
        lifetime.encode(into: &writer)
        writer.zeros(recordSize - 8 - writer.bytes.count)
        writer.u64(Checksum.of(writer.bytes))
        return writer.bytes
    }

    /// Why a record is not a valid superblock.
    enum DecodeFailure: Error, Sendable, Hashable {
        /// No superblock magic: never written, or not a zonealloc store.
        case noMagic
        /// The magic is there but the record is damaged (checksum, sizes).
        case damaged(String)
        /// Written by a newer format version.
        case unsupportedVersion(UInt32)
    }

    static func decode(_ bytes: [UInt8], at start: Int = 0) -> Result<Superblock, DecodeFailure> {
        guard bytes.count >= start + 4096, Array(bytes[start..<(start + 8)]) == magic else { return .failure(.noMagic) }
        var reader = ByteReader(bytes, from: start + 8)
        let version = reader.u32()
        let size = Int(reader.u32())
        guard version == formatVersion else { return .failure(.unsupportedVersion(version)) }
        guard size >= 4096, size % 512 == 0, bytes.count >= start + size else {
            return .failure(.damaged("record size \(size) is invalid"))
        }
        var checksumReader = ByteReader(bytes, from: start + size - 8, to: start + size)
        guard checksumReader.u64() == Checksum.of(bytes, start..<(start + size - 8)) else {
            return .failure(.damaged("checksum mismatch"))
        }
        let uuid = reader.raw(16)
        let sequence = reader.u64()
        let zoneSize = reader.u64()
        let zoneCapacity = reader.u64()
        let zoneCount = reader.u32()
        let blockSize = reader.u32()
        let zoneA = reader.u32()
        let zoneB = reader.u32()
        let rawPlacement = reader.u8()
        reader.skip(1)
        let reserve = reader.u16()
        reader.skip(4)
        let checkpointSequence = reader.u64()
        let formattedAt = reader.u64()
        let chainCount = Int(reader.u32())
        reader.skip(4)
        guard let placement = Placement(rawValue: rawPlacement), chainCount >= 1, chainCount <= maximumChains else {
            return .failure(.damaged("placement \(rawPlacement) or chain count \(chainCount) is invalid"))
        }
        var chains: [Chain] = []
        for _ in 0..<chainCount {
            let bucket = reader.u32()
            let generation = reader.u8()
            reader.skip(3)
            let offset = reader.u32()
            reader.skip(4)
            let first = reader.u64()
            let last = reader.u64()
            chains.append(
                Chain(
                    bucket: bucket,
                    generation: generation,
                    offset: offset,
                    firstSequence: first,
                    lastSequence: last == .max ? nil : last
                )
            )
        }
        guard !reader.failed else { return .failure(.damaged("truncated")) }
        // Sequence numbers count from 1 and stay far below 2⁶², so replay's arithmetic on them
        // (the record before a chain, one past a group) never wraps.
        let limit: UInt64 = 1 << 62
        guard checkpointSequence < limit,
            chains.allSatisfy({ $0.firstSequence >= 1 && $0.firstSequence < limit && ($0.lastSequence ?? 0) < limit })
        else {
            return .failure(.damaged("a journal chain or the checkpoint names an impossible sequence number"))
        }
        var counters = ByteReader(bytes, from: start + LifetimeCounters.offset, to: start + size - 8)
        let lifetime = LifetimeCounters.decode(&counters)
        return .success(
            Superblock(
                recordSize: size,
                uuid: uuid,
                sequence: sequence,
                zoneSize: zoneSize,
                zoneCapacity: zoneCapacity,
                zoneCount: zoneCount,
                blockSize: blockSize,
                placement: placement,
                superblockZones: [zoneA, zoneB],
                copygcReserveBasisPoints: reserve,
                checkpointSequence: checkpointSequence,
                formattedAt: formattedAt,
                chains: chains,
                lifetime: lifetime
            )
        )
    }
}
