import Synchronization
import ZonedStorage

/// The device as the store's allocator sees it: the zones of the superblock log are reported
/// OFFLINE, so the allocator never takes them as buckets, and one open and one active zone are
/// held back from the device's limits for the superblock zone that may be partly written. Every
/// other call goes straight through. Counts the bytes written, for write amplification.
final class StoreDevice: ZonedDevice {
    let base: any ZonedDevice
    let info: DeviceInfo
    let hidden: Set<Int>
    private let written = Atomic<UInt64>(0)

    var path: String { base.path }

    init(base: any ZonedDevice, hiding hidden: Set<Int>) {
        self.base = base
        self.hidden = hidden
        var info = base.info
        if !hidden.isEmpty {
            if case .limit(let n) = info.maxOpenZones, n > 1 { info.maxOpenZones = .limit(n - 1) }
            if case .limit(let n) = info.maxActiveZones, n > 1 { info.maxActiveZones = .limit(n - 1) }
        }
        self.info = info
    }

    /// Bytes written through this device since it was created.
    var bytesWritten: UInt64 { written.load(ordering: .relaxed) }

    func reportZones(offset: UInt64, length: UInt64, filter: ZoneReportFilter) throws(ZonedStorageError) -> [Zone] {
        let zones = try base.reportZones(offset: offset, length: length, filter: hidden.isEmpty ? filter : .all)
        guard !hidden.isEmpty else { return zones }
        return zones.compactMap { zone in
            var zone = zone
            if hidden.contains(zone.index) {
                zone.condition = .offline
                zone.writePointer = Zone.invalidWritePointer
            }
            return filter.matches(zone) ? zone : nil
        }
    }

    func manageZones(_ operation: ZoneOperation, offset: UInt64, length: UInt64) throws(ZonedStorageError) {
        if !hidden.isEmpty {
            let first = info.zoneIndex(containing: offset)
            let last = length == 0 ? info.zoneCount - 1 : info.zoneIndex(containing: offset + length - 1)
            precondition(
                !hidden.contains(where: { $0 >= first && $0 <= last }),
                "zone \(operation) over zones \(first)...\(last) would touch the superblock zones \(hidden.sorted())"
            )
        }
        try base.manageZones(operation, offset: offset, length: length)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        try base.read(into: buffer, at: offset)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        try base.write(bytes, at: offset)
        written.add(UInt64(bytes.count), ordering: .relaxed)
    }

    func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64 {
        let at = try base.append(bytes, toZoneAt: zoneStart)
        written.add(UInt64(bytes.count), ordering: .relaxed)
        return at
    }

    func flush() throws(ZonedStorageError) { try base.flush() }

    /// Does nothing: the store does not own the device; its opener closes it.
    func close() throws(ZonedStorageError) {}
}
