import ZonedStorage

/// The zones a differential run works in and the sizes it works with.
struct DifferentialLayout: Sendable {
    /// The device's zone size.
    let zoneSize: UInt64
    /// The capacity of the sequential zones.
    let zoneCapacity: UInt64
    /// The logical block size.
    let logicalBlockSize: Int
    /// The unit of every write and read: the physical block (the zone write granularity of 512e
    /// disks, item 23) when it divides the zone capacity, else the logical block.
    let ioUnit: Int
    /// The working sequential zones, in order.
    let sequential: [Int]
    /// The conventional zone used, if the device has one (the last one, next to the sequential
    /// zones).
    let conventional: Int?
    /// The device's open limit, 0 when there is none (or it is not enforced).
    let maxOpen: Int
    /// The device's active limit, 0 when there is none.
    let maxActive: Int

    /// The first and last zone of the reported range: every working zone and the conventional one.
    let firstZone: Int
    let lastZone: Int

    init(
        zoneSize: UInt64,
        zoneCapacity: UInt64,
        logicalBlockSize: Int,
        physicalBlockSize: Int,
        sequential: [Int],
        conventional: Int?,
        maxOpen: Int,
        maxActive: Int
    ) {
        precondition(!sequential.isEmpty, "a differential run needs at least one sequential zone")
        self.zoneSize = zoneSize
        self.zoneCapacity = zoneCapacity
        self.logicalBlockSize = logicalBlockSize
        if physicalBlockSize > logicalBlockSize, physicalBlockSize % logicalBlockSize == 0,
            zoneCapacity % UInt64(physicalBlockSize) == 0
        {
            self.ioUnit = physicalBlockSize
        } else {
            self.ioUnit = logicalBlockSize
        }
        self.sequential = sequential
        self.conventional = conventional
        self.maxOpen = maxOpen
        self.maxActive = maxActive
        let all = sequential + (conventional.map { [$0] } ?? [])
        self.firstZone = all.min()!
        self.lastZone = all.max()!
    }

    /// The write unit in bytes, as `UInt64`.
    var unit: UInt64 { UInt64(ioUnit) }

    /// The start of zone `index`.
    func start(_ index: Int) -> UInt64 { UInt64(index) * zoneSize }

    /// The end of the writable part of sequential zone `index`.
    func capacityEnd(_ index: Int) -> UInt64 { start(index) + zoneCapacity }

    /// The zone containing `offset`.
    func zone(containing offset: UInt64) -> Int { Int(offset / zoneSize) }

    /// The byte range the run reports after every operation.
    var reportOffset: UInt64 { start(firstZone) }
    var reportLength: UInt64 { UInt64(lastZone - firstZone + 1) * zoneSize }

    /// The byte range of the working sequential zones, for range operations ("all" zones).
    var sequentialRangeOffset: UInt64 { start(sequential.first!) }
    var sequentialRangeLength: UInt64 { start(sequential.last!) + zoneSize - sequentialRangeOffset }

    /// Whether `index` is a working sequential zone.
    func isWorking(_ index: Int) -> Bool { sequential.contains(index) }

    /// The zones `[offset, offset + length)` overlaps, clipped to the reported range.
    func zones(overlapping offset: UInt64, length: UInt64) -> [Int] {
        let first = max(zone(containing: offset), firstZone)
        let last = min(zone(containing: offset + max(length, 1) - 1), lastZone)
        return first <= last ? Array(first...last) : []
    }
}
