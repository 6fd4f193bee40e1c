import Foundation
import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// The profile is part of an image (format versions 2 and 3); images made before profiles existed
/// (version 1) open as null_blk devices.
@Suite("Emulator profiles in images")
struct EmulatorProfileImageTests {
    typealias Profile = EmulatedDevice.Profile

    /// The header field offsets of `EmulatedImageFormat`, to craft headers the code under test
    /// did not write.
    enum Header {
        static let version = 8
        static let dataOffset = 72
        static let profile = 144
        static let checksumV1 = 144
        static let checksumV2 = 152
    }

    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func put(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt64, width: Int) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    static func get(_ bytes: [UInt8], _ offset: Int, width: Int) -> UInt64 {
        (0..<width).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    static func readHeader(_ path: String) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        return Array(try handle.read(upToCount: 4096) ?? Data())
    }

    static func writeHeader(_ path: String, _ bytes: [UInt8]) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(bytes))
    }

    /// Rewrites the image at `path` as an older zonealloc wrote it: `version` in the header,
    /// the data offset of that version (the device's bytes moved there), and for version 1 no
    /// profile field and the checksum at 144.
    static func downgrade(_ path: String, to version: UInt64, zoneCount: Int) throws {
        var header = try readHeader(path)
        let oldOffset = get(header, Header.dataOffset, width: 8)
        let newOffset = (4096 + 32 * UInt64(zoneCount) + 4095) / 4096 * 4096
        let url = URL(fileURLWithPath: path)
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: oldOffset)
        let data = try handle.readToEnd() ?? Data()
        try handle.truncate(atOffset: newOffset)
        try handle.seek(toOffset: newOffset)
        try handle.write(contentsOf: data)
        put(&header, Header.version, version, width: 4)
        put(&header, Header.dataOffset, newOffset, width: 8)
        if version == 1 {
            for i in 144..<160 { header[i] = 0 }
            put(&header, Header.checksumV1, fnv1a(header[0..<144]), width: 8)
        } else {
            put(&header, Header.checksumV2, fnv1a(header[0..<152]), width: 8)
        }
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data(header))
    }

    static func geometry(_ profile: Profile) -> EmulatedGeometry {
        TestDevices.geometry(
            zones: 8,
            conventional: profile == .zns ? 0 : 1,
            maxOpen: 3,
            maxActive: profile == .zbc ? 0 : 4
        )
    }

    @Test("#37 #79 a reopened image keeps its profile, vendor string and behaviour", arguments: Profile.allCases)
    func reopenKeepsProfile(profile: Profile) throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("\(profile).img")
            let created = try EmulatedDevice.create(at: path, geometry: Self.geometry(profile), profile: profile)
            try created.close()
            #expect(Self.get(try Self.readHeader(path), Header.version, width: 4) == 3)
            #expect(Self.get(try Self.readHeader(path), Header.profile, width: 4) == UInt64(profile.imageCodeForTests))

            let device = try EmulatedDevice.open(at: path)
            #expect(device.profile == profile)
            #expect(device.info.vendorID == profile.vendorID)
            let s = device.geometry.conventionalZones
            try device.openZone(s)
            try device.closeZone(s)
            #expect(device.peek(s).condition == (profile == .zns ? .closed : .empty), "item 37 after reopening")
            try device.close()

            // The zone state a ZNS close leaves (CLOSED with nothing written) survives a clean close.
            let again = try ZonedDevices.open(path)
            defer { try? again.close() }
            #expect((again as? EmulatedDevice)?.profile == profile)
            #expect(try again.zone(s).condition == (profile == .zns ? .closed : .empty))
        }
    }

    @Test("a version-1 image (made before profiles) opens as a nullblk device and stays version 1")
    func versionOneImage() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("v1.img")
            let geometry = Self.geometry(.nullBlk)
            let created = try EmulatedDevice.create(at: path, geometry: geometry)
            let written = try created.writeBlocks(1, 2)
            try created.close()
            try Self.downgrade(path, to: 1, zoneCount: geometry.zoneCount)

            let device = try EmulatedDevice.open(at: path)
            #expect(device.profile == .nullBlk)
            #expect(device.info.vendorID == "zonealloc emulated")
            #expect(device.peek(1).condition == .implicitOpen)
            #expect(device.peek(1).writePointer == device.peek(1).start + 8192)
            #expect(try device.read(count: written.count, at: device.peek(1).start) == written)
            try device.writeBlocks(1)
            try device.close()
            let after = try Self.readHeader(path)
            #expect(Self.get(after, Header.version, width: 4) == 1, "reopening does not upgrade the image")
            #expect(Self.get(after, Header.checksumV1, width: 8) == Self.fnv1a(after[0..<144]))
            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(reopened.peek(1).writePointer == reopened.peek(1).start + 12288)
        }
    }

    @Test("new images keep the data 2 MiB-aligned (version 3); a version-2 image keeps its 4 KiB-aligned data")
    func dataOffsetByVersion() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("v2.img")
            let geometry = Self.geometry(.zns)
            let created = try EmulatedDevice.create(at: path, geometry: geometry, profile: .zns)
            let first = try created.writeBlocks(1, 3, tag: 7)
            try created.close()
            let header = try Self.readHeader(path)
            #expect(Self.get(header, Header.version, width: 4) == 3)
            let aligned = Self.get(header, Header.dataOffset, width: 8)
            #expect(aligned >= 4096 + 32 * UInt64(geometry.zoneCount) && aligned % (2 << 20) == 0)

            try Self.downgrade(path, to: 2, zoneCount: geometry.zoneCount)
            let device = try EmulatedDevice.open(at: path)
            #expect(device.profile == .zns)
            let start = device.peek(1).start
            #expect(try device.read(count: first.count, at: start) == first)
            let second = try device.writeBlocks(1, 2, tag: 9)
            try device.close()
            let after = try Self.readHeader(path)
            #expect(Self.get(after, Header.version, width: 4) == 2, "reopening does not upgrade the image")
            #expect(Self.get(after, Header.dataOffset, width: 8) == 8192)
            // The data really is at the version-2 offset in the file.
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            try handle.seek(toOffset: 8192 + start)
            let raw = Array(try handle.read(upToCount: first.count + second.count) ?? Data())
            try handle.close()
            #expect(raw == first + second)
            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(try reopened.read(count: first.count + second.count, at: start) == first + second)
        }
    }

    @Test("an image with an unknown profile number or a newer format version is refused with the reason")
    func unknownProfileOrVersion() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("bad.img")
            try EmulatedDevice.create(at: path, geometry: Self.geometry(.nullBlk)).close()
            var header = try Self.readHeader(path)
            Self.put(&header, Header.profile, 7, width: 4)
            Self.put(&header, Header.checksumV2, Self.fnv1a(header[0..<152]), width: 8)
            try Self.writeHeader(path, header)
            let unknown = #expect(throws: ZonedStorageError.self) { try EmulatedDevice.open(at: path) }
            #expect(unknown?.code == .corruptImage)
            #expect(unknown?.message.contains("profile number 7 is unknown") == true)

            Self.put(&header, Header.profile, 0, width: 4)
            Self.put(&header, Header.version, 4, width: 4)
            Self.put(&header, Header.checksumV2, Self.fnv1a(header[0..<152]), width: 8)
            try Self.writeHeader(path, header)
            let newer = #expect(throws: ZonedStorageError.self) { try EmulatedDevice.open(at: path) }
            #expect(newer?.message.contains("format version is 4") == true)
        }
    }

    @Test("#79 an image whose stored geometry breaks its profile's rules is refused as damaged")
    func profileRulesCheckedOnOpen() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("zns-with-conventional.img")
            try EmulatedDevice.create(at: path, geometry: Self.geometry(.nullBlk)).close()
            var header = try Self.readHeader(path)
            Self.put(&header, Header.profile, UInt64(Profile.zns.imageCodeForTests), width: 4)
            Self.put(&header, Header.checksumV2, Self.fnv1a(header[0..<152]), width: 8)
            try Self.writeHeader(path, header)
            let error = #expect(throws: ZonedStorageError.self) { try EmulatedDevice.open(at: path) }
            #expect(error?.code == .corruptImage)
            #expect(error?.message.contains("no conventional zones") == true)
        }
    }
}

extension EmulatedDevice.Profile {
    /// The profile's number in the image header, as the format documents it.
    var imageCodeForTests: Int {
        switch self {
        case .nullBlk: 0
        case .zns: 1
        case .zbc: 2
        }
    }
}
