/// What a zoned device says about itself (libzbd's `struct zbd_info`, in bytes).
public struct DeviceInfo: Sendable, Hashable, Codable {
    /// Vendor and model string (`zbd_info.vendor_id`), for example `QEMU NVMe Ctrl`.
    public var vendorID: String
    /// Capacity of the device in bytes.
    public var capacity: UInt64
    /// Zone size in bytes (a power of two).
    public var zoneSize: UInt64
    /// Number of zones.
    public var zoneCount: Int
    /// Logical block size in bytes: the unit of addressing and of O_DIRECT alignment.
    public var logicalBlockSize: Int
    /// Physical block size in bytes.
    public var physicalBlockSize: Int
    /// Maximum number of open (implicitly or explicitly) zones.
    public var maxOpenZones: ZoneResourceLimit
    /// Maximum number of active (open or closed) zones.
    public var maxActiveZones: ZoneResourceLimit
    /// Zone model.
    public var model: DeviceModel
    /// The largest request the block layer sends the device (the queue's `max_sectors`: the
    /// `BLKSECTGET` ioctl, or `/sys/block/<dev>/queue/max_sectors_kb`); longer reads and writes
    /// are split into requests of at most this size, which succeed or fail one by one. `nil` when
    /// unknown.
    public var maxTransferBytes: UInt64?

    /// Creates a device description.
    public init(
        vendorID: String,
        capacity: UInt64,
        zoneSize: UInt64,
        zoneCount: Int,
        logicalBlockSize: Int,
        physicalBlockSize: Int,
        maxOpenZones: ZoneResourceLimit,
        maxActiveZones: ZoneResourceLimit,
        model: DeviceModel,
        maxTransferBytes: UInt64? = nil
    ) {
        self.vendorID = vendorID
        self.capacity = capacity
        self.zoneSize = zoneSize
        self.zoneCount = zoneCount
        self.logicalBlockSize = logicalBlockSize
        self.physicalBlockSize = physicalBlockSize
        self.maxOpenZones = maxOpenZones
        self.maxActiveZones = maxActiveZones
        self.model = model
        self.maxTransferBytes = maxTransferBytes
    }

    /// The index of the zone containing `offset` (no range check).
    public func zoneIndex(containing offset: UInt64) -> Int {
        Int(offset / zoneSize)
    }

    /// The start offset of zone `index`.
    public func zoneStart(_ index: Int) -> UInt64 {
        UInt64(index) * zoneSize
    }
}
