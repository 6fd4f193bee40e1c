import SystemPackage

/// The geometry and limits of an ``EmulatedDevice``.
///
/// ``validated()`` enforces the geometry rules a Linux zoned device must satisfy (checklist
/// item 5) and applies the kernel's limit clamps (item 55).
public struct EmulatedGeometry: Sendable, Hashable, Codable {
    /// Number of zones (conventional plus sequential).
    public var zoneCount: Int
    /// Zone size in bytes; a power of two and a multiple of the logical block size.
    public var zoneSize: UInt64
    /// Usable bytes of each sequential zone, `0 < capacity ≤ zoneSize`.
    public var zoneCapacity: UInt64
    /// Number of conventional zones, placed first.
    public var conventionalZones: Int
    /// Logical block size: 512 or 4096.
    public var logicalBlockSize: Int
    /// Physical block size: a multiple of the logical block size (defaults to it).
    public var physicalBlockSize: Int
    /// Maximum open zones; 0 = no limit. Clamped to ``maxActiveZones`` when both are set.
    public var maxOpenZones: Int
    /// Maximum active zones; 0 = no limit.
    public var maxActiveZones: Int
    /// Writes to sequential zones must start and end on a multiple of this (checklist item 23);
    /// defaults to the logical block size, as null_blk.
    public var zoneWriteGranularity: Int
    /// Largest zone append in bytes; defaults to the zone capacity, as null_blk.
    public var maxZoneAppendBytes: UInt64
    /// The largest request the block layer sends the device (the queue's `max_sectors`, shown as
    /// `/sys/block/<dev>/queue/max_sectors_kb`, exactly by the `BLKSECTGET` ioctl). Longer writes
    /// are split into requests of at most this size (and at zone boundaries) that succeed or fail
    /// one by one, as the kernel's are (``BlockLayerRequests``). `nil` takes the profile's value
    /// (``EmulatedDevice/Profile/defaultMaxTransferBytes``) when the device is created. A value is
    /// rounded down to the logical block size and raised to at least 4096 bytes (a page), as
    /// `blk_queue_max_hw_sectors` does.
    public var maxTransferBytes: UInt64?
    /// The vendor string reported in ``DeviceInfo/vendorID``.
    public var vendorID: String

    /// Creates a geometry. Unset optional values take null_blk's defaults.
    public init(
        zoneCount: Int,
        zoneSize: UInt64,
        zoneCapacity: UInt64? = nil,
        conventionalZones: Int = 0,
        logicalBlockSize: Int = 4096,
        physicalBlockSize: Int? = nil,
        maxOpenZones: Int = 0,
        maxActiveZones: Int = 0,
        zoneWriteGranularity: Int? = nil,
        maxZoneAppendBytes: UInt64? = nil,
        maxTransferBytes: UInt64? = nil,
        vendorID: String = EmulatedGeometry.defaultVendorID
    ) {
        self.zoneCount = zoneCount
        self.zoneSize = zoneSize
        self.zoneCapacity = zoneCapacity ?? zoneSize
        self.conventionalZones = conventionalZones
        self.logicalBlockSize = logicalBlockSize
        self.physicalBlockSize = physicalBlockSize ?? logicalBlockSize
        self.maxOpenZones = maxOpenZones
        self.maxActiveZones = maxActiveZones
        self.zoneWriteGranularity = zoneWriteGranularity ?? logicalBlockSize
        self.maxZoneAppendBytes = maxZoneAppendBytes ?? (zoneCapacity ?? zoneSize)
        self.maxTransferBytes = maxTransferBytes
        self.vendorID = vendorID
    }

    /// The vendor string of an emulated device unless one is given: `zonealloc emulated`. A device
    /// whose geometry keeps it reports its profile's ``EmulatedDevice/Profile/vendorID`` instead.
    public static let defaultVendorID = "zonealloc emulated"

    /// Number of sequential-write-required zones.
    public var sequentialZones: Int { zoneCount - conventionalZones }

    /// Total bytes of the device.
    public var capacity: UInt64 { UInt64(zoneCount) * zoneSize }

    /// Checks the geometry and returns it with null_blk's clamps applied (checklist item 55): an
    /// active limit at or above the number of sequential zones becomes 0 (no limit); then
    /// `maxOpenZones` above `maxActiveZones` is lowered to it, or else an open limit at or above
    /// the number of sequential zones becomes 0.
    ///
    /// - Throws: ``ZonedStorageError/Code/invalidGeometry`` naming the rule that was broken.
    public func validated() throws(ZonedStorageError) -> EmulatedGeometry {
        func fail(_ message: String) -> ZonedStorageError {
            ZonedStorageError(code: .invalidGeometry, message: message, errno: .invalidArgument)
        }
        guard logicalBlockSize == 512 || logicalBlockSize == 4096 else {
            throw fail("logical block size \(logicalBlockSize) is not supported: use 512 or 4096")
        }
        guard physicalBlockSize >= logicalBlockSize, physicalBlockSize % logicalBlockSize == 0,
            physicalBlockSize & (physicalBlockSize - 1) == 0
        else {
            throw fail(
                "physical block size \(physicalBlockSize) must be a power-of-two multiple of the "
                    + "logical block size \(logicalBlockSize)"
            )
        }
        guard zoneSize > 0, zoneSize & (zoneSize - 1) == 0 else {
            throw fail("zone size \(zoneSize) bytes is not a power of two; Linux requires one (e.g. 64M, 256M)")
        }
        guard zoneSize >= UInt64(physicalBlockSize) else {
            throw fail("zone size \(zoneSize) is smaller than the physical block size \(physicalBlockSize)")
        }
        guard zoneCapacity > 0, zoneCapacity <= zoneSize else {
            throw fail("zone capacity \(zoneCapacity) must be greater than 0 and at most the zone size \(zoneSize)")
        }
        guard zoneCapacity % UInt64(physicalBlockSize) == 0 else {
            throw fail(
                "zone capacity \(zoneCapacity) is not a multiple of the physical block size \(physicalBlockSize)"
            )
        }
        guard zoneCount > 0 else { throw fail("zone count must be at least 1, got \(zoneCount)") }
        guard conventionalZones >= 0, conventionalZones < zoneCount else {
            throw fail(
                "\(conventionalZones) conventional zones leave no sequential zone out of \(zoneCount); "
                    + "a zoned device needs at least one"
            )
        }
        guard zoneCount <= 1 << 24 else {
            throw fail("zone count \(zoneCount) is above the emulator's limit of \(1 << 24) zones")
        }
        // Byte offsets must fit an off_t: a larger device would overflow ``capacity``.
        guard zoneSize <= UInt64(Int64.max) / UInt64(zoneCount) else {
            throw fail("\(zoneCount) zones of \(zoneSize) bytes exceed the largest device size of \(Int64.max) bytes")
        }
        guard maxOpenZones >= 0, maxActiveZones >= 0 else {
            throw fail(
                "zone limits must be 0 (no limit) or positive, got open \(maxOpenZones), active \(maxActiveZones)"
            )
        }
        guard zoneWriteGranularity >= logicalBlockSize, zoneWriteGranularity % logicalBlockSize == 0,
            zoneCapacity % UInt64(zoneWriteGranularity) == 0
        else {
            throw fail(
                "zone write granularity \(zoneWriteGranularity) must be a multiple of the logical block size "
                    + "that divides the zone capacity"
            )
        }
        var result = self
        result.maxZoneAppendBytes =
            min(maxZoneAppendBytes, zoneCapacity) / UInt64(logicalBlockSize)
            * UInt64(logicalBlockSize)
        guard result.maxZoneAppendBytes > 0 else {
            throw fail("maximum zone append size \(maxZoneAppendBytes) is smaller than one logical block")
        }
        if let maxTransferBytes {
            guard maxTransferBytes >= UInt64(logicalBlockSize), maxTransferBytes <= UInt64(UInt32.max) * 512 else {
                throw fail(
                    "maximum transfer size \(maxTransferBytes) must be at least one logical block "
                        + "(\(logicalBlockSize) bytes) and at most \(UInt64(UInt32.max) * 512) bytes"
                )
            }
            result.maxTransferBytes = Self.kernelMaxTransfer(maxTransferBytes, logicalBlockSize: logicalBlockSize)
        }
        // Item 55, in null_blk's order (null_init_zoned_dev): an active limit >= the number of
        // sequential zones is dropped first; then an open limit above the active limit is
        // lowered to it, or else an open limit >= the number of sequential zones is dropped.
        // (Clamping before dropping matters: open 12 / active 5 on 10 sequential zones is open 5.)
        if result.maxActiveZones >= sequentialZones { result.maxActiveZones = 0 }
        if result.maxActiveZones > 0, result.maxOpenZones > result.maxActiveZones {
            result.maxOpenZones = result.maxActiveZones
        } else if result.maxOpenZones >= sequentialZones {
            result.maxOpenZones = 0
        }
        return result
    }

    /// Checks the geometry as ``validated()`` does, and also against the rules of `profile`
    /// (an NVMe ZNS namespace has no conventional zones; a SCSI ZBC disk has zone capacity equal
    /// to the zone size and no active limit; checklist item 79).
    ///
    /// - Throws: ``ZonedStorageError/Code/invalidGeometry`` naming the rule that was broken.
    ///
    /// An unset ``maxTransferBytes`` becomes the profile's
    /// ``EmulatedDevice/Profile/defaultMaxTransferBytes``.
    public func validated(for profile: EmulatedDevice.Profile) throws(ZonedStorageError) -> EmulatedGeometry {
        var result = try validated()
        if result.maxTransferBytes == nil {
            result.maxTransferBytes = Self.kernelMaxTransfer(
                profile.defaultMaxTransferBytes,
                logicalBlockSize: logicalBlockSize
            )
        }
        if let problem = profile.problem(with: result) {
            throw ZonedStorageError(
                code: .invalidGeometry,
                message: "the \(profile) profile cannot have this geometry: \(problem)",
                errno: .invalidArgument
            )
        }
        return result
    }

    /// `blk_queue_max_hw_sectors`: at least a page, rounded down to the logical block size.
    static func kernelMaxTransfer(_ bytes: UInt64, logicalBlockSize: Int) -> UInt64 {
        let block = UInt64(logicalBlockSize)
        return max(bytes, 4096) / block * block
    }
}
