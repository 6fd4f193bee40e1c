/// A host-managed zoned block device, addressed in bytes as libzbd 2 does.
///
/// Implementations: ``EmulatedDevice`` (file- or memory-backed, the embedded default) and
/// ``ZBDDevice`` (a real `/dev` zoned block device through libzbd). Both follow the Linux zone
/// model of `shared/docs/zone-model-checklist.md`; every refused operation throws a
/// ``ZonedStorageError`` whose ``ZonedStorageError/errno`` is what the kernel would return.
///
/// Devices are shared between threads. Call ``close()`` exactly once when done; the device
/// asserts in debug builds if it is dropped open.
public protocol ZonedDevice: AnyObject, Sendable {
    /// Geometry, limits and identification of the device.
    var info: DeviceInfo { get }

    /// A human-readable name: the image path or `/dev` path.
    var path: String { get }

    /// Reports the zones that overlap `[offset, offset + length)` and pass `filter`.
    ///
    /// As `zbd_report_zones`: `offset` is rounded down to its zone start, the end rounded up to a
    /// zone boundary and clamped to the device; `length == 0` means "to the end of the device";
    /// an `offset` at or past the end reports nothing.
    ///
    /// - Throws: ``ZonedStorageError`` if the device cannot be read.
    func reportZones(offset: UInt64, length: UInt64, filter: ZoneReportFilter) throws(ZonedStorageError) -> [Zone]

    /// Applies a zone management operation to every zone overlapping `[offset, offset + length)`.
    ///
    /// Range handling is libzbd's (`zbd_zones_operation`): rounded to zone boundaries, `length ==
    /// 0` means "to the end of the device". A reset of the whole device is RESET ALL (checklist
    /// item 49): conventional, read-only and offline zones are skipped without error. Any other
    /// range is applied zone by zone, as the kernel sends one command per zone: every zone is
    /// tried, conventional and FULL ones included, zones that succeeded keep their new state, and
    /// the error thrown is the *last* zone's that failed (item 50; the kernel chains the commands
    /// so that a later error replaces an earlier one).
    ///
    /// - Throws: ``ZonedStorageError`` with EIO for a zone in a condition that refuses the
    ///   operation, ETOOMANYREFS / EOVERFLOW when the open / active limits refuse it.
    func manageZones(_ operation: ZoneOperation, offset: UInt64, length: UInt64) throws(ZonedStorageError)

    /// Reads `buffer.count` bytes at `offset`.
    ///
    /// Reads never change zone state. Data at or beyond a zone's write pointer is device-defined
    /// (never an error, item 65). Offline zones fail with EIO.
    ///
    /// - Throws: ``ZonedStorageError``: EINVAL when `offset` or the length is not a multiple of
    ///   the logical block size or the range leaves the device, EIO on media or offline errors.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ZonedStorageError)

    /// Writes `bytes` at `offset`. In a sequential zone `offset` must be the write pointer.
    ///
    /// A write crossing zone boundaries, or longer than the device's largest request
    /// (``DeviceInfo/maxTransferBytes``), is split and each part checked against its own zone as
    /// the zone stands after the earlier parts, as the block layer does (item 20): parts before a
    /// refused one stay written, later ones are still tried, and the errno is the kernel's (the
    /// last part's if it failed, else the first failed part's).
    ///
    /// - Throws: ``ZonedStorageError``: EINVAL for misalignment, EIO for a write not at the write
    ///   pointer or past the zone capacity, ETOOMANYREFS / EOVERFLOW for resource limits.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError)

    /// Zone append: writes `bytes` at the write pointer of the sequential zone starting at
    /// `zoneStart` and returns the byte offset where they landed.
    ///
    /// - Throws: ``ZonedStorageError``: EIO when `zoneStart` is not the start of a sequential zone,
    ///   the zone is full / read-only / offline, or the data does not fit (no partial append);
    ///   ``ZonedStorageError/Code/unsupported`` on devices that cannot append (libzbd).
    func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64

    /// Makes every completed write durable (the device write cache is flushed).
    func flush() throws(ZonedStorageError)

    /// Flushes and releases the device. Further calls throw ``ZonedStorageError/Code/deviceClosed``.
    func close() throws(ZonedStorageError)
}
