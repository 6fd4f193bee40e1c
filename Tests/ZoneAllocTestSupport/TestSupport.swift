import Foundation
package import ZonedStorage

/// A directory of its own under the system temporary directory, removed by ``remove()``.
///
/// Every file-backed test device lives in one, so tests running in parallel never share an
/// image and nothing is left behind.
package final class TemporaryDirectory: Sendable {
    /// Absolute path of the directory.
    package let path: String

    /// Creates a fresh, empty directory named after `label` and a UUID.
    package init(label: String = "zonealloc-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    package func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Removes the directory and everything in it.
    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Runs `body` with a fresh temporary directory and removes it afterwards, whatever happens.
package func withTemporaryDirectory<T>(
    label: String = "zonealloc-test",
    _ body: (TemporaryDirectory) throws -> T
) throws -> T {
    let directory = try TemporaryDirectory(label: label)
    defer { directory.remove() }
    return try body(directory)
}

/// Geometries and scoped emulated devices for the `ZonedStorage` tests.
package enum TestDevices {
    /// The tight geometry of the model-based tests: 12 zones of 64 KiB with 48 KiB capacity,
    /// 2 conventional zones, 4096-byte blocks, max open 3, max active 5.
    package static let tight = EmulatedGeometry(
        zoneCount: 12,
        zoneSize: 64 << 10,
        zoneCapacity: 48 << 10,
        conventionalZones: 2,
        logicalBlockSize: 4096,
        maxOpenZones: 3,
        maxActiveZones: 5
    )

    /// ``tight`` without open or active limits.
    package static let unlimited = EmulatedGeometry(
        zoneCount: 12,
        zoneSize: 64 << 10,
        zoneCapacity: 48 << 10,
        conventionalZones: 2,
        logicalBlockSize: 4096
    )

    /// ``tight`` with 512-byte logical blocks and capacity equal to the zone size (so that
    /// writes can cross zone boundaries, item 20).
    package static let smallBlocks = EmulatedGeometry(
        zoneCount: 12,
        zoneSize: 64 << 10,
        conventionalZones: 2,
        logicalBlockSize: 512,
        maxOpenZones: 3,
        maxActiveZones: 5
    )

    /// A small geometry with explicit limits: `zones` zones of 64 KiB, `conventional` of them
    /// conventional, capacity `capacity`, 4096-byte blocks.
    package static func geometry(
        zones: Int = 8,
        conventional: Int = 1,
        capacity: UInt64? = nil,
        blockSize: Int = 4096,
        maxOpen: Int = 0,
        maxActive: Int = 0
    ) -> EmulatedGeometry {
        EmulatedGeometry(
            zoneCount: zones,
            zoneSize: 64 << 10,
            zoneCapacity: capacity,
            conventionalZones: conventional,
            logicalBlockSize: blockSize,
            maxOpenZones: maxOpen,
            maxActiveZones: maxActive
        )
    }

    /// Runs `body` with a memory-backed device and closes it afterwards.
    package static func withMemoryDevice<T>(
        _ geometry: EmulatedGeometry,
        options: EmulatedDevice.Options = .init(),
        _ body: (EmulatedDevice) throws -> T
    ) throws -> T {
        let device = try EmulatedDevice(geometry: geometry, storage: .memory, options: options)
        defer { try? device.close() }
        return try body(device)
    }

    /// Runs `body` with a file-backed device in a fresh temporary directory; the device is
    /// closed (if `body` left it open) and the directory removed afterwards.
    ///
    /// `body` gets the device and the image path, so that it can close and reopen the image.
    package static func withFileDevice<T>(
        _ geometry: EmulatedGeometry,
        options: EmulatedDevice.Options = .init(),
        _ body: (EmulatedDevice, String) throws -> T
    ) throws -> T {
        try withTemporaryDirectory { directory in
            let path = directory.file("device.img")
            let device = try EmulatedDevice.create(at: path, geometry: geometry, options: options)
            defer { try? device.close() }
            return try body(device, path)
        }
    }
}

/// Deterministic test data: the same `tag` always gives the same bytes, and different tags
/// give different bytes, so misplaced or stale data is recognised when read back.
package enum TestData {
    /// `count` bytes derived from `tag`.
    package static func bytes(tag: UInt64, count: Int) -> [UInt8] {
        var rng = SplitMix64(seed: tag &* 0xD134_2543_DE82_EF95 &+ 0x1234_5678)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Whole 64-bit words, then the tail byte by byte (fast enough in debug builds).
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var index = 0
            while index + 8 <= count {
                raw.storeBytes(of: rng.next().littleEndian, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            var word = rng.next()
            while index < count {
                raw[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
            initialized = count
        }
    }
}
