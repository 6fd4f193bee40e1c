/// The on-disk layout of an emulated device image (version 3; versions 1 and 2 are read too), all
/// integers little-endian:
///
/// ```
/// offset 0      header block (4096 bytes)
///   0   8  magic "ZAEMUIMG"
///   8   4  format version (3; 2 for images made before the data offset was aligned to 2 MiB,
///          1 for images made before profiles existed)
///  12   4  clean flag: 1 = closed cleanly (rows hold live conditions), 0 = in use or crashed
///  16   8  zone count            24  8  zone size          32  8  zone capacity
///  40   4  conventional zones    44  4  logical block      48  4  physical block
///  52   4  max open (0 = none)   56  4  max active         60  4  zone write granularity
///  64   8  max zone append bytes 72  8  data offset (bytes from the start of the file)
///  80  64  vendor string, NUL padded
/// versions 2 and 3:
/// 144   4  profile: 0 = nullblk, 1 = zns, 2 = zbc (EmulatedDevice.Profile)
/// 148   4  largest request in 512-byte sectors (EmulatedGeometry.maxTransferBytes); 0 = the
///          profile's default (images written before the field existed hold 0)
/// 152   8  FNV-1a 64 of bytes 0..<152
/// version 1 (no profile field; the image is a nullblk device):
/// 144   8  FNV-1a 64 of bytes 0..<144
/// 4096     zone table: one 32-byte row per zone
///   0  1 condition (kernel value)  1  1 flags (bit 0: finished)   2  6 reserved
///   8  8 write pointer (absolute)  16 8 data end (absolute)       24 8 FNV-1a 64 of bytes 0..<24
/// data offset (after the table; version 3: a multiple of 2 MiB, versions 1 and 2: of 4096): the
///          device's bytes, sparse; the file may end before the device does (new images end at
///          the data offset and grow as zones are written): bytes past its end read as zeros.
/// ```
///
/// Version 3 aligns the data to 2 MiB so that device offsets aligned to a power of two are
/// aligned the same way in the file, up to the page cache's largest folio. Linux (ext4 since
/// 6.16, XFS earlier) caches a file in large folios only at naturally aligned file offsets. With
/// the data at a 4 KiB multiple that is not 64 KiB-aligned (version 2 puts it at 8 KiB for up to
/// 128 zones), a plain C loop of sequential 64 KiB `pwrite`s ran at 0.72 of the speed of the
/// same loop at aligned offsets (Linux 6.18, ext4).
///
/// While a process has the image open, the clean flag is 0 and the rows hold the *durable* state
/// (what a power loss at that moment would leave: flushed data, open zones as closed). On a
/// clean close the rows hold the live state, including explicitly open zones, and the flag is 1.
///
/// New images are written as version 3. An image keeps the version (and data offset) it was
/// created with when it is reopened, so a version-1 or version-2 image stays readable by the
/// zonealloc that made it.
enum EmulatedImageFormat {
    static let magic: [UInt8] = Array("ZAEMUIMG".utf8)
    /// The version new images are written in.
    static let version: UInt32 = 3
    /// The versions this code reads.
    static let readableVersions: ClosedRange<UInt32> = 1...3
    static let headerSize = 4096
    static let rowSize = 32

    /// The number of header bytes the header checksum covers (it is stored right after them).
    static func headerChecksummedBytes(version: UInt32) -> Int {
        version == 1 ? 144 : 152
    }

    /// Why a header does not decode.
    struct Problem: Error {
        var reason: String
    }

    struct Header: Equatable {
        var version: UInt32 = EmulatedImageFormat.version
        var clean: Bool
        var geometry: EmulatedGeometry
        var profile: EmulatedDevice.Profile = .nullBlk
        var dataOffset: UInt64
    }

    /// The alignment of the data offset in images of `version`: 2 MiB from version 3 on.
    static func dataAlignment(version: UInt32) -> UInt64 {
        version >= 3 ? 2 << 20 : 4096
    }

    /// Where the device's bytes start in an image of `version` with `zoneCount` zones: the first
    /// multiple of ``dataAlignment(version:)`` after the zone table.
    static func dataOffset(zoneCount: Int, version: UInt32 = version) -> UInt64 {
        let end = UInt64(headerSize + rowSize * zoneCount)
        let alignment = dataAlignment(version: version)
        return (end + alignment - 1) / alignment * alignment
    }

    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// Encodes a header in `header.version`'s layout. Version 1 has no profile field: only
    /// nullblk images can be written in it.
    static func encode(_ header: Header) -> [UInt8] {
        precondition(readableVersions.contains(header.version), "no image format version \(header.version)")
        precondition(header.version >= 2 || header.profile == .nullBlk, "version 1 images are nullblk images")
        var bytes = [UInt8](repeating: 0, count: headerSize)
        let g = header.geometry
        bytes.replaceSubrange(0..<8, with: magic)
        put(&bytes, 8, UInt64(header.version), width: 4)
        put(&bytes, 12, header.clean ? 1 : 0, width: 4)
        put(&bytes, 16, UInt64(g.zoneCount), width: 8)
        put(&bytes, 24, g.zoneSize, width: 8)
        put(&bytes, 32, g.zoneCapacity, width: 8)
        put(&bytes, 40, UInt64(g.conventionalZones), width: 4)
        put(&bytes, 44, UInt64(g.logicalBlockSize), width: 4)
        put(&bytes, 48, UInt64(g.physicalBlockSize), width: 4)
        put(&bytes, 52, UInt64(g.maxOpenZones), width: 4)
        put(&bytes, 56, UInt64(g.maxActiveZones), width: 4)
        put(&bytes, 60, UInt64(g.zoneWriteGranularity), width: 4)
        put(&bytes, 64, g.maxZoneAppendBytes, width: 8)
        put(&bytes, 72, header.dataOffset, width: 8)
        let vendor = Array(g.vendorID.utf8.prefix(63))
        bytes.replaceSubrange(80..<(80 + vendor.count), with: vendor)
        if header.version >= 2 {
            put(&bytes, 144, UInt64(header.profile.imageCode), width: 4)
            put(&bytes, 148, (g.maxTransferBytes ?? 0) / 512, width: 4)
        }
        let checksummed = headerChecksummedBytes(version: header.version)
        put(&bytes, checksummed, fnv1a(bytes[0..<checksummed]), width: 8)
        return bytes
    }

    /// Decodes a header block, or returns why it is not a valid image header.
    static func decode(_ bytes: [UInt8]) -> Result<Header, Problem> {
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic else {
            return .failure(Problem(reason: "it does not start with the emulated image magic \"ZAEMUIMG\""))
        }
        let rawVersion = get(bytes, 8, width: 4)
        guard let version = UInt32(exactly: rawVersion), readableVersions.contains(version) else {
            return .failure(
                Problem(
                    reason: "its format version is \(rawVersion); this zonealloc reads versions "
                        + "\(readableVersions.lowerBound) to \(readableVersions.upperBound) (a newer zonealloc made it)"
                )
            )
        }
        let checksummed = headerChecksummedBytes(version: version)
        let storedChecksum = get(bytes, checksummed, width: 8)
        guard storedChecksum == fnv1a(bytes[0..<checksummed]) else {
            return .failure(Problem(reason: "its header checksum does not match (the header is damaged)"))
        }
        var profile = EmulatedDevice.Profile.nullBlk
        var maxTransferBytes: UInt64?
        if version >= 2 {
            let sectors = get(bytes, 148, width: 4)
            if sectors > 0 { maxTransferBytes = sectors * 512 }
            let code = get(bytes, 144, width: 4)
            guard let decoded = UInt32(exactly: code).flatMap(EmulatedDevice.Profile.init(imageCode:)) else {
                return .failure(
                    Problem(
                        reason: "its profile number \(code) is unknown; this zonealloc knows "
                            + EmulatedDevice.Profile.allCases.map { "\($0) (\($0.imageCode))" }.joined(separator: ", ")
                    )
                )
            }
            profile = decoded
        }
        let vendorBytes = bytes[80..<144].prefix { $0 != 0 }
        let geometry = EmulatedGeometry(
            zoneCount: Int(get(bytes, 16, width: 8)),
            zoneSize: get(bytes, 24, width: 8),
            zoneCapacity: get(bytes, 32, width: 8),
            conventionalZones: Int(get(bytes, 40, width: 4)),
            logicalBlockSize: Int(get(bytes, 44, width: 4)),
            physicalBlockSize: Int(get(bytes, 48, width: 4)),
            maxOpenZones: Int(get(bytes, 52, width: 4)),
            maxActiveZones: Int(get(bytes, 56, width: 4)),
            zoneWriteGranularity: Int(get(bytes, 60, width: 4)),
            maxZoneAppendBytes: get(bytes, 64, width: 8),
            maxTransferBytes: maxTransferBytes,
            vendorID: String(decoding: vendorBytes, as: UTF8.self)
        )
        return .success(
            Header(
                version: version,
                clean: get(bytes, 12, width: 4) == 1,
                geometry: geometry,
                profile: profile,
                dataOffset: get(bytes, 72, width: 8)
            )
        )
    }

    static func encode(_ record: ZoneRecord) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: rowSize)
        bytes[0] = record.condition.rawValue
        bytes[1] = record.finished ? 1 : 0
        put(&bytes, 8, record.writePointer, width: 8)
        put(&bytes, 16, record.dataEnd, width: 8)
        put(&bytes, 24, fnv1a(bytes[0..<24]), width: 8)
        return bytes
    }

    /// Decodes a zone table row; the flushed end equals the data end (rows hold durable data).
    static func decodeRow(_ bytes: ArraySlice<UInt8>) -> ZoneRecord? {
        let row = Array(bytes)
        guard row.count == rowSize, get(row, 24, width: 8) == fnv1a(row[0..<24]),
            let condition = ZoneCondition(rawValue: row[0])
        else { return nil }
        let dataEnd = get(row, 16, width: 8)
        return ZoneRecord(
            condition: condition,
            writePointer: get(row, 8, width: 8),
            dataEnd: dataEnd,
            flushedEnd: dataEnd,
            finished: row[1] & 1 != 0,
            needsWritePointerUpdate: false
        )
    }

    private static func put(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt64, width: Int) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    private static func get(_ bytes: [UInt8], _ offset: Int, width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<width { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return value
    }
}
