import CZonedShims
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A real zoned block device (`/dev/sdX` SMR disk, `/dev/nvmeXnY` ZNS namespace, `/dev/nullbX`
/// with `zoned=1`, a zoned device-mapper target) driven through libzbd.
///
/// Zone reports and zone management go through libzbd (`zbd_report_zones`,
/// `zbd_zones_operation`); data moves with `pread`/`pwrite` on libzbd's descriptor, which is
/// opened with `O_DIRECT`, so offsets and lengths must be multiples of the logical block size.
/// Caller buffers that are not aligned to the logical block size are copied through an aligned
/// bounce buffer.
///
/// libzbd has no zone append (checklist item 30): ``append(_:toZoneAt:)`` always throws
/// ``ZonedStorageError/Code/unsupported``. Write at the zone's write pointer instead.
///
/// Thread safety: the descriptor and the closed flag live behind a lock that is held only to
/// read them. Operations in flight keep the descriptor open; ``close()`` refuses new operations at
/// once and the descriptor is handed to `zbd_close` when the last operation in flight ends, so a
/// racing operation never touches a reused descriptor number. Devices are opened and closed under
/// one process-wide lock, because libzbd keeps its per-descriptor table (1024 slots) in an
/// unsynchronized global.
///
/// Results differ between device families where the Linux zone model allows it (item 79): for
/// example a refused write reports `EIO` on NVMe and null_blk but `EREMOTEIO` on SCSI (both map to
/// ``ZonedStorageError/Code/ioError``), and closing an empty explicitly opened zone leaves it EMPTY
/// on null_blk and SCSI but CLOSED on NVMe ZNS.
public final class ZBDDevice: ZonedDevice {
    /// Geometry, limits and identification, read once when the device is opened.
    ///
    /// `maxOpenZones`/`maxActiveZones` come from `/sys/block/<name>/queue/max_open_zones` and
    /// `max_active_zones`: 0 there is ``ZoneResourceLimit/unlimited``, a missing or unreadable
    /// attribute is ``ZoneResourceLimit/unknown`` (libzbd reports 0 for both). Note that kernels
    /// with zone write plugging report `max_open_zones` 128 for devices with no limit and more than
    /// 128 sequential zones, a limit the device does not enforce (checklist item 7).
    ///
    /// The corresponding C function is `zbd_get_info`.
    public let info: DeviceInfo

    /// The path the device was opened with.
    public let path: String

    /// Whether the device was opened read-only: writes, zone management and flushes are refused.
    public let isReadOnly: Bool

    private struct State: Sendable {
        /// libzbd's descriptor, or -1 once it was given to `zbd_close`.
        var fd: CInt
        /// Set by the first ``close()``; no operation starts afterwards.
        var isClosed = false
        /// Operations that read `fd` and have not finished.
        var inFlight = 0
    }

    private let state: Mutex<State>

    /// What a caller can use instead of a path that is not a zoned block device.
    private static let zonedDeviceAdvice =
        "zonealloc needs a host-managed zoned block device (SMR, NVMe ZNS, null_blk zoned=1) or an "
        + "emulated image created with `zonealloc device create`"

    // MARK: - Opening

    /// Opens the zoned block device at `path`.
    ///
    /// The device is opened with `O_DIRECT` (and `O_RDWR`, or `O_RDONLY` when `readOnly`). Open
    /// devices before the process has 1024 descriptors open: libzbd's descriptor table has 1024
    /// slots, and a larger descriptor number is a precondition failure.
    ///
    /// - Parameters:
    ///   - path: A block device path such as `/dev/nvme0n2` or `/dev/nullb0` (symbolic links are
    ///     followed, as libzbd does).
    ///   - readOnly: Open for reading only; writes, zone management and ``flush()`` then throw.
    /// - Throws: ``ZonedStorageError``: ``ZonedStorageError/Code/noSuchDevice`` when `path` does
    ///   not exist; ``ZonedStorageError/Code/notZonedDevice`` when it is not a zoned block device
    ///   (a regular file, a character device, a regular disk, a partition);
    ///   ``ZonedStorageError/Code/systemCall`` when it cannot be opened (permissions, busy).
    ///
    /// The corresponding C function is `zbd_open`.
    public init(path: String, readOnly: Bool = false) throws(ZonedStorageError) {
        let opened = try Self.openDevice(path: path, readOnly: readOnly)
        self.path = path
        self.isReadOnly = readOnly
        self.info = Self.deviceInfo(opened, path: path)
        self.state = Mutex(State(fd: opened.fd))
    }

    /// Whether `path` is a zoned (host-managed or host-aware) block device that ``init(path:readOnly:)``
    /// can open. `false` for missing paths, regular files, character devices and regular disks.
    ///
    /// The corresponding C function is `zbd_device_is_zoned`.
    public static func isZonedBlockDevice(path: String) -> Bool {
        (try? ZBDCalls.deviceIsZoned(path: path)) ?? false
    }

    deinit {
        let (wasClosed, fd) = state.withLock { state -> (Bool, CInt) in
            defer {
                state.fd = -1
                state.isClosed = true
            }
            return (state.isClosed, state.fd)
        }
        // Best effort: no flush, nothing to report an error to.
        if fd >= 0 { ZBDCalls.close(fd) }
        assert(wasClosed, "leaked open ZBDDevice '\(path)': call close() before dropping it")
    }

    private static func openDevice(path: String, readOnly: Bool) throws(ZonedStorageError) -> ZBDCalls.OpenedDevice {
        switch ZBDCalls.fileKind(path: path) {
        case .failure(let errno) where errno == .noSuchFileOrDirectory || errno == .notDirectory:
            throw ZonedStorageError(
                code: .noSuchDevice,
                message: "'\(path)' does not exist: pass the path of a zoned block device (`lsblk -o "
                    + "NAME,ZONED` lists them) or of an emulated image created with `zonealloc device create`",
                errno: errno
            )
        case .failure(let errno):
            throw ZonedStorageError(
                code: code(for: errno),
                message: "cannot inspect '\(path)' (stat failed): check that the path and its directories "
                    + "are accessible to this user",
                errno: errno
            )
        case .success(let kind) where kind != .blockDevice:
            throw notZonedError(path: path, reason: "it is \(kind.phrase)")
        case .success:
            break
        }

        let isZoned: Bool
        do {
            isZoned = try ZBDCalls.deviceIsZoned(path: path)
        } catch {
            if error.errno == .noSuchFileOrDirectory {
                throw ZonedStorageError(
                    code: .noSuchDevice,
                    message: "'\(path)' disappeared while it was being opened: pass the path of a zoned "
                        + "block device that stays present",
                    errno: error.errno,
                    cause: error
                )
            }
            throw ZonedStorageError(
                code: code(for: error.errno),
                message: "cannot tell whether '\(path)' is a zoned block device (\(error)): check that its "
                    + "sysfs directory /sys/block/<name> is readable",
                errno: error.errno,
                cause: error
            )
        }
        guard isZoned else {
            throw notZonedError(path: path, reason: blockDeviceModelReason(path: path))
        }

        let flags = (readOnly ? O_RDONLY : O_RDWR) | czoned_o_direct() | O_CLOEXEC
        do {
            return try ZBDCalls.open(path: path, flags: flags)
        } catch {
            throw openError(error, path: path, readOnly: readOnly)
        }
    }

    private static func notZonedError(path: String, reason: String) -> ZonedStorageError {
        ZonedStorageError(
            code: .notZonedDevice,
            message: "'\(path)' is not a zoned block device (\(reason)): \(zonedDeviceAdvice)"
        )
    }

    /// Why a block device is not zoned, from its sysfs `queue/zoned` attribute.
    private static func blockDeviceModelReason(path: String) -> String {
        guard let name = ZBDCalls.kernelName(path: path) else { return "it is a block device that is not zoned" }
        let attribute = "/sys/block/\(name)/queue/zoned"
        guard let model = ZBDCalls.readAttribute(attribute) else {
            return "it is a block device without \(attribute): a partition, or a kernel built without "
                + "CONFIG_BLK_DEV_ZONED"
        }
        return "it is a regular block device: \(attribute) is '\(model)'"
    }

    private static func openError(_ error: ZBDCallError, path: String, readOnly: Bool) -> ZonedStorageError {
        let access = readOnly ? "read-only" : "read-write"
        let advice: String
        switch error.errno {
        case .permissionDenied?, .notPermitted?:
            advice =
                "permission denied opening '\(path)' \(access): run as root, or add this user to the group "
                + "that owns the device (usually 'disk')"
        case .resourceBusy?:
            advice =
                "'\(path)' is busy: it is mounted or held exclusively (a file system, device mapper, md); "
                + "unmount it or pass a device nothing else uses"
        case .readOnlyFileSystem?:
            advice = "'\(path)' is read-only: open it with readOnly: true"
        case .invalidArgument?:
            advice =
                "the kernel refused to open '\(path)' \(access) with O_DIRECT: check that the device "
                + "supports direct I/O"
        case nil where error.detail != nil:
            advice = "'\(path)' could not be opened: \(error.detail!); check dmesg for errors on the device"
        default:
            advice = "'\(path)' could not be opened \(access) (\(error)): check dmesg for errors on the device"
        }
        return ZonedStorageError(
            code: code(for: error.errno),
            message: advice,
            errno: error.errno,
            cause: error
        )
    }

    /// ``DeviceInfo`` from `struct zbd_info`, with the resource limits re-read from sysfs.
    private static func deviceInfo(_ opened: ZBDCalls.OpenedDevice, path: String) -> DeviceInfo {
        let queue = ZBDCalls.kernelName(path: path).map { "/sys/block/\($0)/queue" }
        func limit(_ attribute: String, libzbd value: UInt32) -> ZoneResourceLimit {
            if let queue, let text = ZBDCalls.readAttribute("\(queue)/\(attribute)"), let number = Int(text),
                number >= 0
            {
                return ZoneResourceLimit(kernelValue: number)
            }
            // libzbd defaults to 0 when it cannot read the attribute either, so only a non-zero
            // value (other than the header's "-1 means unknown") says anything.
            if value != 0 && value != UInt32.max { return .limit(Int(value)) }
            return .unknown
        }
        // BLKSECTGET is exact; sysfs max_sectors_kb rounds down to whole KiB.
        var maxTransfer = ZBDCalls.maxSectorsBytes(fd: opened.fd)
        if maxTransfer == nil, let queue, let text = ZBDCalls.readAttribute("\(queue)/max_sectors_kb"),
            let kib = UInt64(text), kib > 0
        {
            maxTransfer = kib << 10
        }
        let model: DeviceModel =
            switch opened.model {
            case 2: .hostAware  // ZBD_DM_HOST_AWARE
            case 3: .notZoned  // ZBD_DM_NOT_ZONED (zbd_open refuses these)
            default: .hostManaged  // ZBD_DM_HOST_MANAGED
            }
        return DeviceInfo(
            vendorID: opened.vendorID,
            capacity: opened.capacity,
            zoneSize: opened.zoneSize,
            zoneCount: opened.zoneCount,
            logicalBlockSize: opened.logicalBlockSize,
            physicalBlockSize: opened.physicalBlockSize,
            maxOpenZones: limit("max_open_zones", libzbd: opened.maxOpenZones),
            maxActiveZones: limit("max_active_zones", libzbd: opened.maxActiveZones),
            model: model,
            maxTransferBytes: maxTransfer
        )
    }

    // MARK: - Zones

    /// Reports the zones that overlap `[offset, offset + length)` and pass `filter`.
    ///
    /// `offset` is rounded down to its zone start and the end rounded up to a zone boundary and
    /// clamped to the device; `length == 0` means "to the end of the device"; an `offset` at or
    /// past the end reports nothing. Zones are fetched 4096 at a time, and libzbd applies the
    /// filter in user space after reading the kernel's report (checklist item 8). A report also
    /// clears the kernel's sticky write error of the zones it covers (item 25).
    ///
    /// - Parameters:
    ///   - offset: Byte offset of the first zone to consider.
    ///   - length: Bytes to consider from `offset`, or 0 for the rest of the device.
    ///   - filter: Which zones to return.
    /// - Returns: The matching zones in device order.
    /// - Throws: ``ZonedStorageError`` when the report ioctl fails or the device was closed.
    ///
    /// The corresponding C function is `zbd_report_zones`.
    public func reportZones(offset: UInt64, length: UInt64, filter: ZoneReportFilter) throws(ZonedStorageError)
        -> [Zone]
    {
        let capacity = info.capacity
        guard offset < capacity else {
            return try withDescriptor("report zones") { _ in [] }
        }
        let zoneSize = info.zoneSize
        let start = offset - offset % zoneSize
        var end = capacity
        if length != 0 {
            let (last, overflow) = offset.addingReportingOverflow(length)
            if !overflow && last < capacity {
                end = min(capacity, last % zoneSize == 0 ? last : last - last % zoneSize + zoneSize)
            }
        }
        let (chunkBytes, chunkOverflow) = UInt64(ZBDCalls.reportChunkZones).multipliedReportingOverflow(by: zoneSize)
        return try withDescriptor("report zones") { fd throws(ZonedStorageError) -> [Zone] in
            var zones: [Zone] = []
            var position = start
            while position < end {
                let span = chunkOverflow ? end - position : min(chunkBytes, end - position)
                let zonesInSpan = Int((span + zoneSize - 1) / zoneSize)
                do throws(ZBDCallError) {
                    zones += try ZBDCalls.reportZones(
                        fd: fd,
                        offset: Int64(position),
                        length: Int64(span),
                        filter: filter,
                        maxZones: min(zonesInSpan, ZBDCalls.reportChunkZones),
                        zoneSize: zoneSize
                    )
                } catch {
                    throw reportError(error, offset: position)
                }
                position += span
            }
            return zones
        }
    }

    /// Applies a zone management operation to every zone overlapping `[offset, offset + length)`.
    ///
    /// Range handling is libzbd's: rounded out to zone boundaries, clamped to the device, `length
    /// == 0` meaning "to the end of the device", and an empty range or an `offset` past the end
    /// doing nothing (checklist item 77). Resetting the whole device is RESET ALL, which skips
    /// conventional, read-only and offline zones (item 49); any other range is applied zone by
    /// zone by the kernel, and zones that succeeded before a failure keep their new state
    /// (item 50).
    ///
    /// - Parameters:
    ///   - operation: Reset, open, close or finish.
    ///   - offset: Byte offset inside the first zone.
    ///   - length: Bytes from `offset`, or 0 for the rest of the device.
    /// - Throws: ``ZonedStorageError``: ``ZonedStorageError/Code/ioError`` (EIO) when a zone's type
    ///   or condition refuses the operation, ``ZonedStorageError/Code/tooManyOpenZones``
    ///   (ETOOMANYREFS) and ``ZonedStorageError/Code/tooManyActiveZones`` (EOVERFLOW) at the
    ///   device's limits; EBADF when the device was opened read-only.
    ///
    /// The corresponding C functions are `zbd_reset_zones`, `zbd_open_zones`, `zbd_close_zones` and
    /// `zbd_finish_zones`.
    public func manageZones(_ operation: ZoneOperation, offset: UInt64, length: UInt64) throws(ZonedStorageError) {
        let name = "\(operation)"
        guard !isReadOnly else {
            throw readOnlyError("zone \(name)", offset: offset)
        }
        try withDescriptor("zone \(name)") { fd throws(ZonedStorageError) in
            // Keep the values within off_t; libzbd clamps to the device the same way.
            guard offset < info.capacity else { return }
            let clampedLength = min(length, info.capacity - offset)
            do throws(ZBDCallError) {
                try ZBDCalls.zonesOperation(fd: fd, operation, offset: Int64(offset), length: Int64(clampedLength))
            } catch {
                throw zoneOperationError(error, operation: operation, offset: offset, length: clampedLength, fd: fd)
            }
        }
    }

    // MARK: - Data

    /// Reads `buffer.count` bytes at `offset`.
    ///
    /// Reads never change zone state; data at or beyond a zone's write pointer is whatever the
    /// device returns (zeros on NVMe and SCSI, `0xFF` on memory-backed null_blk; item 65). A buffer
    /// that is not aligned to the logical block size is filled through an aligned bounce buffer.
    ///
    /// - Parameters:
    ///   - buffer: Where to put the data; its count is the number of bytes to read.
    ///   - offset: Byte offset on the device.
    /// - Throws: ``ZonedStorageError``: ``ZonedStorageError/Code/invalidArgument`` (EINVAL) when
    ///   `offset` or the length is not a multiple of the logical block size or the range leaves
    ///   the device, ``ZonedStorageError/Code/ioError`` on media errors and offline zones.
    ///
    /// The corresponding C function is `pread`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        try checkRange("read", offset: offset, count: buffer.count)
        try withDescriptor("read") { fd throws(ZonedStorageError) in
            guard buffer.count > 0 else { return }
            let count: Int
            do throws(ZBDCallError) {
                if unsafe isAligned(UnsafeRawPointer(buffer.baseAddress!)) {
                    count = try unsafe ZBDCalls.read(fd: fd, into: buffer, at: Int64(offset))
                } else {
                    let bounce = unsafe allocateBounceBuffer(byteCount: buffer.count)
                    defer { unsafe bounce.deallocate() }
                    count = try unsafe ZBDCalls.read(fd: fd, into: bounce, at: Int64(offset))
                    unsafe buffer.copyMemory(from: UnsafeRawBufferPointer(bounce))
                }
            } catch {
                throw dataError(error, operation: "reading", count: buffer.count, offset: offset, fd: fd, write: false)
            }
            guard count == buffer.count else {
                throw ZonedStorageError(
                    code: .ioError,
                    message: "reading \(buffer.count) bytes at offset \(offset) (zone \(zoneIndex(offset))) of "
                        + "'\(path)' returned only \(count) bytes: the device is now smaller than when it was "
                        + "opened; reopen it",
                    errno: .ioError,
                    offset: offset
                )
            }
        }
    }

    /// Writes `bytes` at `offset`. In a sequential zone `offset` must be the write pointer.
    ///
    /// The kernel splits a write that crosses zone boundaries and checks each part against its own
    /// zone (item 20): if a later part is refused, earlier parts stay written. A buffer that is not
    /// aligned to the logical block size is written from an aligned bounce buffer.
    ///
    /// - Parameters:
    ///   - bytes: The data; its count must be a multiple of the logical block size (and, on 512e
    ///     SMR disks, of the zone write granularity, usually the physical block size; item 23).
    ///   - offset: Byte offset on the device, a multiple of the logical block size.
    /// - Throws: ``ZonedStorageError``: ``ZonedStorageError/Code/invalidArgument`` (EINVAL) for
    ///   misalignment or a range past the end; ``ZonedStorageError/Code/ioError`` (EIO, or EREMOTEIO
    ///   on SCSI) for a write not at the write pointer, past the zone capacity, or into a full,
    ///   read-only or offline zone; ``ZonedStorageError/Code/tooManyOpenZones`` (ETOOMANYREFS) and
    ///   ``ZonedStorageError/Code/tooManyActiveZones`` (EOVERFLOW) at the device's limits. The
    ///   error's ``ZonedStorageError/zone`` is the zone as re-read after the failure, when that
    ///   succeeds.
    ///
    /// The corresponding C function is `pwrite`.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        guard !isReadOnly else {
            throw readOnlyError("write", offset: offset)
        }
        try checkRange("write", offset: offset, count: bytes.count)
        try withDescriptor("write") { fd throws(ZonedStorageError) in
            guard bytes.count > 0 else { return }
            do throws(ZBDCallError) {
                if unsafe isAligned(bytes.baseAddress!) {
                    try unsafe ZBDCalls.write(fd: fd, bytes, at: Int64(offset))
                } else {
                    let bounce = unsafe allocateBounceBuffer(byteCount: bytes.count)
                    defer { unsafe bounce.deallocate() }
                    unsafe bounce.copyMemory(from: bytes)
                    try unsafe ZBDCalls.write(fd: fd, UnsafeRawBufferPointer(bounce), at: Int64(offset))
                }
            } catch {
                throw dataError(error, operation: "writing", count: bytes.count, offset: offset, fd: fd, write: true)
            }
        }
    }

    /// Always throws: libzbd exports no zone append, and Linux offers none on the raw block
    /// device (checklist item 30).
    ///
    /// - Throws: ``ZonedStorageError/Code/unsupported``, or ``ZonedStorageError/Code/deviceClosed``
    ///   after ``close()``.
    public func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64
    {
        try withDescriptor("append") { _ throws(ZonedStorageError) -> UInt64 in
            throw ZonedStorageError(
                code: .unsupported,
                message: "zone append of \(bytes.count) bytes to the zone at offset \(zoneStart) (zone "
                    + "\(zoneIndex(zoneStart))) of '\(path)' is not possible: libzbd exports no zone append and "
                    + "Linux offers none on a raw block device; write at the zone's write pointer instead "
                    + "(read it with reportZones)",
                errno: .notSupported,
                offset: zoneStart
            )
        }
    }

    /// Makes every completed write durable by flushing the device's volatile write cache.
    ///
    /// - Throws: ``ZonedStorageError`` when the flush fails, the device was opened read-only, or
    ///   it was closed.
    ///
    /// The corresponding C function is `fsync`.
    public func flush() throws(ZonedStorageError) {
        guard !isReadOnly else {
            throw readOnlyError("flush", offset: nil)
        }
        try withDescriptor("flush") { fd throws(ZonedStorageError) in
            do throws(ZBDCallError) {
                try ZBDCalls.sync(fd: fd)
            } catch {
                throw ZonedStorageError(
                    code: Self.code(for: error.errno),
                    message: "flushing the write cache of '\(path)' failed (\(error)): writes since the last "
                        + "successful flush may not be durable; check dmesg for device errors",
                    errno: error.errno,
                    cause: error
                )
            }
        }
    }

    /// Flushes (unless read-only) and releases the device. Operations still in flight on other
    /// threads finish first; the descriptor is released when the last one ends.
    ///
    /// - Throws: ``ZonedStorageError/Code/deviceClosed`` when called again; the flush's error when
    ///   the flush fails (the device is released anyway).
    ///
    /// The corresponding C function is `zbd_close`.
    public func close() throws(ZonedStorageError) {
        let fd: CInt? = state.withLock { state -> CInt? in
            guard !state.isClosed else { return nil }
            state.isClosed = true
            state.inFlight += 1
            return state.fd
        }
        guard let fd else { throw closedError("close") }
        var flushError: ZBDCallError?
        if !isReadOnly {
            do { try ZBDCalls.sync(fd: fd) } catch { flushError = error }
        }
        endOperation()
        if let flushError {
            throw ZonedStorageError(
                code: Self.code(for: flushError.errno),
                message: "flushing the write cache of '\(path)' while closing it failed (\(flushError)): the "
                    + "device was released, but writes since the last successful flush may not be durable",
                errno: flushError.errno,
                cause: flushError
            )
        }
    }

    // MARK: - Descriptor lifecycle

    /// Runs `body` with the descriptor, keeping it open until `body` returns.
    private func withDescriptor<R>(
        _ operation: String,
        _ body: (CInt) throws(ZonedStorageError) -> R
    ) throws(ZonedStorageError) -> R {
        let fd: CInt? = state.withLock { state -> CInt? in
            guard !state.isClosed else { return nil }
            state.inFlight += 1
            return state.fd
        }
        guard let fd else { throw closedError(operation) }
        defer { endOperation() }
        return try body(fd)
    }

    /// Ends an operation; the last one after ``close()`` hands the descriptor to `zbd_close`.
    private func endOperation() {
        let release: CInt? = state.withLock { state -> CInt? in
            state.inFlight -= 1
            guard state.isClosed, state.inFlight == 0, state.fd >= 0 else { return nil }
            defer { state.fd = -1 }
            return state.fd
        }
        if let release { ZBDCalls.close(release) }
    }

    // MARK: - Helpers

    private func zoneIndex(_ offset: UInt64) -> Int { info.zoneIndex(containing: offset) }

    private func isAligned(_ pointer: UnsafeRawPointer) -> Bool {
        UInt(bitPattern: pointer) % UInt(info.logicalBlockSize) == 0
    }

    /// A buffer aligned for O_DIRECT: to the logical block size and at least to a page.
    private func allocateBounceBuffer(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: max(info.logicalBlockSize, 4096))
    }

    /// EINVAL unless `[offset, offset + count)` is block-aligned and inside the device (the O_DIRECT
    /// rules of `blkdev_dio_invalid`, item 22).
    private func checkRange(_ operation: String, offset: UInt64, count: Int) throws(ZonedStorageError) {
        let block = UInt64(info.logicalBlockSize)
        if offset % block != 0 {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "\(operation) at offset \(offset) of '\(path)' is not aligned: the offset is not a "
                    + "multiple of the logical block size \(block), which O_DIRECT requires; use offset "
                    + "\(offset - offset % block) or \(offset - offset % block + block)",
                errno: .invalidArgument,
                offset: offset
            )
        }
        if UInt64(count) % block != 0 {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "\(operation) of \(count) bytes at offset \(offset) of '\(path)' is not aligned: the length "
                    + "is not a multiple of the logical block size \(block), which O_DIRECT requires; pad it to "
                    + "\((UInt64(count) / block + 1) * block) bytes",
                errno: .invalidArgument,
                offset: offset
            )
        }
        if offset > info.capacity || UInt64(count) > info.capacity - offset {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "\(operation) of \(count) bytes at offset \(offset) of '\(path)' ends past the end of the "
                    + "device (capacity \(info.capacity) bytes); keep the range inside the device",
                errno: .invalidArgument,
                offset: offset
            )
        }
    }

    /// The zone containing `offset` as the device reports it now, or `nil` if that fails. The
    /// report also clears the kernel's sticky write error for the zone (item 25).
    private func freshZone(containing offset: UInt64, fd: CInt) -> Zone? {
        guard offset < info.capacity else { return nil }
        let start = offset - offset % info.zoneSize
        return try? ZBDCalls.reportZones(
            fd: fd,
            offset: Int64(start),
            length: Int64(min(info.zoneSize, info.capacity - start)),
            filter: .all,
            maxZones: 1,
            zoneSize: info.zoneSize
        ).first
    }

    /// `zone 3 (IMP_OPEN, write pointer 201330688, capacity ends at 266338304)`.
    private static func describe(_ zone: Zone) -> String {
        if zone.type == .conventional { return "zone \(zone.index) (conventional)" }
        if zone.condition.hasValidWritePointer {
            return "zone \(zone.index) (\(zone.condition.kernelName), write pointer \(zone.writePointer), "
                + "capacity ends at \(zone.start + zone.capacity))"
        }
        return "zone \(zone.index) (\(zone.condition.kernelName), no valid write pointer)"
    }

    private static func code(for errno: Errno?) -> ZonedStorageError.Code {
        switch errno {
        case .ioError?: .ioError
        case Errno.remoteIOError?: .ioError
        case .tooManyReferences?: .tooManyOpenZones
        case .overflow?: .tooManyActiveZones
        case .invalidArgument?: .invalidArgument
        case .noSuchFileOrDirectory?: .noSuchDevice
        default: .systemCall
        }
    }

    private func closedError(_ operation: String) -> ZonedStorageError {
        ZonedStorageError(
            code: .deviceClosed,
            message: "\(operation) on '\(path)' after close(): open the device again with ZBDDevice(path:)",
            errno: .badFileDescriptor
        )
    }

    private func readOnlyError(_ operation: String, offset: UInt64?) -> ZonedStorageError {
        ZonedStorageError(
            code: .systemCall,
            message: "\(operation) on '\(path)'"
                + (offset.map { " at offset \($0) (zone \(zoneIndex($0)))" } ?? "")
                + " is not allowed: the device was opened read-only; open it with readOnly: false",
            errno: .badFileDescriptor,
            offset: offset
        )
    }

    private func reportError(_ error: ZBDCallError, offset: UInt64) -> ZonedStorageError {
        let reason =
            if error.errno == nil, let detail = error.detail {
                "\(detail); this device reports zones zonealloc cannot use"
            } else {
                "\(error); check dmesg for errors on the device"
            }
        return ZonedStorageError(
            code: error.errno == nil && error.detail != nil ? .unsupported : Self.code(for: error.errno),
            message:
                "reporting the zones of '\(path)' from offset \(offset) (zone \(zoneIndex(offset))) failed: \(reason)",
            errno: error.errno,
            offset: offset,
            cause: error
        )
    }

    private func zoneOperationError(
        _ error: ZBDCallError,
        operation: ZoneOperation,
        offset: UInt64,
        length: UInt64,
        fd: CInt
    ) -> ZonedStorageError {
        let first = zoneIndex(offset)
        let endIndex =
            length == 0 || offset.addingReportingOverflow(length).overflow
            ? info.zoneCount : min(info.zoneCount, Int((offset + length - 1) / info.zoneSize) + 1)
        let single = endIndex - first <= 1
        let zones = single ? "zone \(first)" : "zones \(first)..<\(endIndex)"
        let zone = single ? freshZone(containing: offset, fd: fd) : nil
        let state = zone.map { " Now: \(Self.describe($0))." } ?? ""
        let why: String
        switch error.errno {
        case .ioError?, Errno.remoteIOError?:
            let refusals: String =
                switch operation {
                case .reset, .finish:
                    "conventional, read-only and offline zones cannot be \(operation == .reset ? "reset" : "finished")"
                case .open: "conventional, full, read-only and offline zones cannot be opened on most devices"
                case .close: "conventional, empty, full, read-only and offline zones cannot be closed on most devices"
                }
            why =
                "the device refused it for \(single ? "the zone" : "a zone in the range"): \(refusals); apply it "
                + "only to zones in a condition that allows it"
                + (single ? "" : " (zones of the range that accepted it keep their new state)")
        case .tooManyReferences?:
            why =
                "the device's open-zone limit (max_open_zones \(info.maxOpenZones)) is used up by explicitly "
                + "opened zones; close or finish one of them first"
        case .overflow?:
            why =
                "the device's active-zone limit (max_active_zones \(info.maxActiveZones)) is reached; finish "
                + "or reset an open or closed zone first"
        case .invalidArgument?:
            why = "the kernel refused the range as invalid; pass a range of whole zones inside the device"
        case .notSupported?, .inappropriateIOCTLForDevice?:
            why = "this kernel or libzbd build does not support zone \(operation); use reset or finish only"
        default:
            why = "\(error); check dmesg for errors on the device"
        }
        return ZonedStorageError(
            code: Self.code(for: error.errno),
            message: "zone \(operation) of \(zones) at offset \(offset) of '\(path)' failed: \(why).\(state)",
            errno: error.errno,
            zone: zone,
            offset: offset,
            cause: error
        )
    }

    private func dataError(
        _ error: ZBDCallError,
        operation: String,
        count: Int,
        offset: UInt64,
        fd: CInt,
        write: Bool
    ) -> ZonedStorageError {
        let index = zoneIndex(offset)
        let zone = write ? freshZone(containing: offset, fd: fd) : nil
        let state: String
        if let zone {
            state = " Now: \(Self.describe(zone))."
        } else if write {
            state = " The zone's state could not be re-read."
        } else {
            state = ""
        }
        let partial = error.detail.map { " (\($0))" } ?? ""
        let why: String
        switch error.errno {
        case .ioError?, Errno.remoteIOError?:
            if write {
                let hint =
                    if let zone, zone.condition.hasValidWritePointer, zone.writePointer != offset {
                        "write at the write pointer \(zone.writePointer) instead, or reset the zone first"
                    } else {
                        "write at the zone's write pointer, or reset the zone first; if the offset was the "
                            + "write pointer, check dmesg for a media error"
                    }
                why =
                    "the device refused the write: a sequential zone accepts writes only at its write pointer, "
                    + "within its capacity, and not when it is full, read-only or offline; \(hint)"
            } else {
                why = "the device reported an I/O error (an offline zone or a media error); check dmesg"
            }
        case .tooManyReferences?:
            why =
                "the device's open-zone limit (max_open_zones \(info.maxOpenZones)) is used up by explicitly "
                + "opened zones; close or finish one of them, then retry"
        case .overflow?:
            why =
                "the device's active-zone limit (max_active_zones \(info.maxActiveZones)) is reached; finish or "
                + "reset an open or closed zone, then retry"
        case .invalidArgument?:
            why =
                "the kernel refused the request as invalid for O_DIRECT (offsets, lengths and buffer addresses "
                + "must be aligned to the logical block size \(info.logicalBlockSize)); align the request"
        case .noData?:
            why = "the device reported a media error; check dmesg and the device's health"
        default:
            why = "\(error); check dmesg for errors on the device"
        }
        return ZonedStorageError(
            code: Self.code(for: error.errno),
            message: "\(operation) \(count) bytes at offset \(offset) (zone \(index)) of '\(path)' failed\(partial): "
                + "\(why).\(state)",
            errno: error.errno,
            zone: zone,
            offset: offset,
            cause: error
        )
    }
}
