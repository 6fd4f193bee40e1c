import CZBD
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

// The C layer of `ZBDDevice`: the only file that calls `zbd_*` functions, and the only file of the
// libzbd backend that touches raw C pointers. Everything here returns Swift values or throws
// `ZBDCallError`; `ZBDDevice` turns those into `ZonedStorageError`s with the path and zone.
//
// libzbd's contracts relied on below are those of upstream `lib/zbd.c` (westerndigitalcorporation/
// libzbd, read at 10f6513) and of the installed Debian `libzbd2 2.0.4`, not of the comments in
// `<libzbd/zbd.h>`, which disagree with the code in places (see shared/docs/style-anchors.md §2.2 and
// zone-model-checklist.md items 75-79).

/// A failed libzbd or system call, with libzbd's two error conventions normalized.
///
/// `errno` is `nil` when the call failed without saying why: libzbd returns a bare `-1` without
/// touching `errno` when the descriptor is not in its table or an argument is `NULL`.
struct ZBDCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The C function that failed: `zbd_open`, `zbd_report_zones`, `pwrite`, ….
    var function: String
    /// The errno the call reported, or `nil` when it reported none.
    var errno: Errno?
    /// What else is known beyond the errno, for the few failures an errno cannot explain.
    var detail: String?

    init(function: String, errno: Errno?, detail: String? = nil) {
        self.function = function
        self.errno = errno
        self.detail = detail
    }

    var description: String {
        var text = "'\(function)' failed"
        if let errno {
            text += " with \(ZonedStorageError.symbolicName(errno)) (\(errno.description))"
        } else {
            text += " without setting errno"
        }
        if let detail { text += ": \(detail)" }
        return text
    }
}

/// The kind of file a path names, from stat(2) (symbolic links followed).
enum ZBDFileKind: Sendable, Hashable {
    case blockDevice
    case characterDevice
    case regularFile
    case directory
    case fifo
    case socket
    case other

    /// "a character device", "a regular file", … for error messages.
    var phrase: String {
        switch self {
        case .blockDevice: "a block device"
        case .characterDevice: "a character device"
        case .regularFile: "a regular file"
        case .directory: "a directory"
        case .fifo: "a FIFO"
        case .socket: "a socket"
        case .other: "neither a device nor a regular file"
        }
    }
}

/// Thin, typed wrappers over libzbd and the few system calls the libzbd backend needs.
enum ZBDCalls {
    /// Size of libzbd's per-descriptor table (`ZBD_FD_MAX` in `lib/zbd.c`).
    ///
    /// > `static struct zbd_info *zbd_fdi[ZBD_FD_MAX];` … `zbd_fdi[fd] = zbdi;` (no bounds check)
    static let descriptorTableSize: CInt = 1024

    /// Zones fetched per `zbd_report_zones` call (64 bytes each, so 256 KiB per chunk). libzbd
    /// itself issues `BLKREPORTZONE` in chunks of at most 8192 zones.
    static let reportChunkZones = 4096

    /// Serializes `zbd_open` and `zbd_close`, which write libzbd's unsynchronized global
    /// descriptor table (`zbd_fdi`).
    private static let openCloseLock = Mutex(())

    // MARK: - Normalizers

    /// Runs a libzbd call and normalizes both of libzbd's error conventions.
    ///
    /// libzbd mixes `-1` + `errno` (`zbd_open`, `zbd_zones_operation`, the bad-descriptor paths)
    /// with `-errno` (`zbd_report_zones` returns `-errno` of `BLKREPORTZONE`, and `-ENOMEM`).
    /// `zbd_zones_operation` may also store a *negative* value in `errno` (`errno = -ENOTSUP`,
    /// `errno = -EINVAL`); its magnitude is used. A `-1` can also be `-EPERM`, in which case
    /// `errno` is `EPERM` as well, so both readings agree.
    ///
    /// - Returns: The non-negative result of `body`.
    /// - Throws: ``ZBDCallError`` naming `function`.
    static func call(_ function: String, _ body: () -> CInt) throws(ZBDCallError) -> CInt {
        czbd_clear_errno()
        let result = body()
        if result >= 0 { return result }
        if result < -1 {
            throw ZBDCallError(function: function, errno: Errno(rawValue: -result))
        }
        let saved = czbd_errno()
        let errno: Errno? = saved > 0 ? Errno(rawValue: saved) : saved < 0 ? Errno(rawValue: -saved) : nil
        throw ZBDCallError(function: function, errno: errno)
    }

    /// ``call(_:_:)`` for a libzbd call on an open descriptor: `EFAULT` (a bad pointer from this
    /// file) traps. `EBADF` is thrown: the zone ioctls report it for a descriptor opened read-only,
    /// which `ZBDDevice` refuses before calling, so it should not be seen.
    private static func fdCall(_ function: String, _ body: () -> CInt) throws(ZBDCallError) -> CInt {
        do {
            return try call(function, body)
        } catch {
            precondition(error.errno != .badAddress, "\(function) was given an invalid pointer (EFAULT)")
            throw error
        }
    }

    /// Runs a system I/O call on a descriptor, retrying `EINTR`, and traps on errnos that can only mean a
    /// bug in this module (`EBADF`: the descriptor lifecycle of `ZBDDevice` guarantees a live,
    /// suitably opened descriptor; `EFAULT`: a bad buffer pointer).
    ///
    /// Never use it for `close`: on Linux the descriptor is gone even when close reports `EINTR`.
    private static func ioCall(_ function: String, _ body: () -> Int) throws(ZBDCallError) -> Int {
        while true {
            czbd_clear_errno()
            let result = body()
            if result >= 0 { return result }
            let saved = czbd_errno()
            if saved == EINTR { continue }
            precondition(saved != EFAULT, "\(function) was given an invalid buffer (EFAULT)")
            precondition(saved != EBADF, "\(function) was given a descriptor that is not open for it (EBADF)")
            throw ZBDCallError(function: function, errno: saved > 0 ? Errno(rawValue: saved) : nil)
        }
    }

    // MARK: - Probing

    /// Whether `path` is a zoned (host-managed or host-aware) block device.
    ///
    /// > `zbd_device_is_zoned`: `realpath(3)` the path (failure → `-1` with errno), `0` unless it is
    /// > a block device whose `/sys/block/<name>/queue/zoned` is `host-managed` or `host-aware`.
    static func deviceIsZoned(path: String) throws(ZBDCallError) -> Bool {
        try call("zbd_device_is_zoned") { unsafe zbd_device_is_zoned(path) } == 1
    }

    /// stat(2) of `path`, following symbolic links.
    static func fileKind(path: String) -> Result<ZBDFileKind, Errno> {
        var status = stat()
        czbd_clear_errno()
        guard unsafe stat(path, &status) == 0 else { return .failure(Errno(rawValue: czbd_errno())) }
        let kind: ZBDFileKind =
            switch status.st_mode & S_IFMT {
            case S_IFBLK: .blockDevice
            case S_IFCHR: .characterDevice
            case S_IFREG: .regularFile
            case S_IFDIR: .directory
            case S_IFIFO: .fifo
            case S_IFSOCK: .socket
            default: .other
            }
        return .success(kind)
    }

    /// The kernel name of the block device `path` refers to (`nvme0n1` for `/dev/nvme0n1`,
    /// `dm-3` for `/dev/mapper/x`), found as libzbd does: `basename(realpath(path))`.
    static func kernelName(path: String) -> String? {
        guard let resolved = unsafe realpath(path, nil) else { return nil }
        defer { unsafe free(resolved) }
        let full = unsafe String(cString: resolved)
        guard let name = full.split(separator: "/").last, !name.isEmpty else { return nil }
        return String(name)
    }

    /// The queue's `max_sectors` in bytes: the largest request the block layer sends the device,
    /// from the `BLKSECTGET` ioctl, or `nil` when it fails.
    ///
    /// > `blkdev_ioctl`: `case BLKSECTGET: max_sectors = min_t(unsigned int, USHRT_MAX,
    /// > queue_max_sectors(bdev_get_queue(bdev))); return put_ushort(argp, max_sectors);`
    ///
    /// Exact, unlike sysfs `max_sectors_kb`, which shows null_blk's 255 sectors as 127. A value of
    /// `USHRT_MAX` means "at least that many".
    static func maxSectorsBytes(fd: CInt) -> UInt64? {
        let blkSectGet: UInt = 0x1267  // _IO(0x12, 103)
        var sectors: UInt16 = 0
        let result = unsafe withUnsafeMutableBytes(of: &sectors) { raw in
            unsafe ioctl(fd, blkSectGet, raw.baseAddress!)
        }
        guard result == 0, sectors > 0 else { return nil }
        return UInt64(sectors) * 512
    }

    /// The trimmed text of a small sysfs attribute, or `nil` when it is missing or unreadable.
    static func readAttribute(_ attributePath: String) -> String? {
        do {
            let fd = try FileDescriptor.open(FilePath(attributePath), .readOnly, options: [.closeOnExec])
            return try fd.closeAfter {
                var bytes = [UInt8](repeating: 0, count: 256)
                let count = try unsafe bytes.withUnsafeMutableBytes { raw in try unsafe fd.read(into: raw) }
                let text = String(decoding: bytes[..<count], as: UTF8.self)
                return String(text.filter { !$0.isWhitespace && $0 != "\0" })
            }
        } catch {
            return nil
        }
    }

    // MARK: - Open and close

    /// What `zbd_open` returned and confirmed, converted out of `struct zbd_info`.
    struct OpenedDevice: Sendable {
        var fd: CInt
        var vendorID: String
        /// `nr_sectors << 9`.
        var capacity: UInt64
        var zoneSize: UInt64
        var zoneCount: Int
        var logicalBlockSize: Int
        var physicalBlockSize: Int
        /// libzbd's value: 0 both for "no limit" and for "sysfs attribute missing".
        var maxOpenZones: UInt32
        /// libzbd's value: 0 both for "no limit" and for "sysfs attribute missing".
        var maxActiveZones: UInt32
        /// `enum zbd_dev_model`.
        var model: UInt32
    }

    /// Opens a zoned block device with `flags` (libzbd adds `O_LARGEFILE`) and confirms the
    /// descriptor with `zbd_get_info`.
    ///
    /// > Upstream `zbd_open`: when reading the device information fails after `open(2)`
    /// > succeeded, it jumps to `err:`, closes the descriptor, and still returns it
    /// > (`if (fd >= 0) close(fd); … return fd;`). Its table entry was never set, so
    /// > `zbd_get_info` on that number returns -1: that is how a fake success is recognized.
    ///
    /// Callers should check ``deviceIsZoned(path:)`` first: for a non-zoned path `zbd_open`
    /// returns -1 with whatever errno its sysfs probing left behind.
    static func open(path: String, flags: CInt) throws(ZBDCallError) -> OpenedDevice {
        try openCloseLock.withLock { (_) throws(ZBDCallError) -> OpenedDevice in
            var info = zbd_info()
            let fd = try call("zbd_open") { unsafe zbd_open(path, flags, &info) }
            // zbd_open has already stored into zbd_fdi[fd] without a bounds check; past the
            // table's end that is memory corruption, so stop here rather than carry on.
            precondition(
                fd < descriptorTableSize,
                "zbd_open returned descriptor \(fd), past libzbd's \(descriptorTableSize)-slot table: "
                    + "open zoned devices before the process has \(descriptorTableSize) descriptors open"
            )
            var confirmed = zbd_info()
            do {
                _ = try call("zbd_get_info") { unsafe zbd_get_info(fd, &confirmed) }
            } catch {
                // The descriptor is already closed (and its number may be reused): do not close it.
                throw ZBDCallError(
                    function: "zbd_open",
                    errno: nil,
                    detail: "libzbd returned descriptor \(fd) but holds no device information for it: "
                        + "reading the zone geometry (BLKSSZGET, BLKGETZONESZ, BLKGETNRZONES, sysfs "
                        + "queue/zoned) failed and libzbd closed the descriptor"
                )
            }
            return OpenedDevice(
                fd: fd,
                vendorID: vendorString(confirmed),
                capacity: UInt64(confirmed.nr_sectors) << 9,
                zoneSize: UInt64(confirmed.zone_size),
                zoneCount: Int(confirmed.nr_zones),
                logicalBlockSize: Int(confirmed.lblock_size),
                physicalBlockSize: Int(confirmed.pblock_size),
                maxOpenZones: confirmed.max_nr_open_zones,
                maxActiveZones: confirmed.max_nr_active_zones,
                model: confirmed.model
            )
        }
    }

    /// Closes a descriptor obtained from ``open(path:flags:)``. Never retried: `zbd_close` calls
    /// close(2) once and frees the table entry whatever close reports.
    ///
    /// > `zbd_close`: `void`; logs "Invalid file descriptor" and returns for an unknown fd.
    static func close(_ fd: CInt) {
        openCloseLock.withLock { _ in zbd_close(fd) }
    }

    /// `vendor_id` (a `char[32]`, NUL-terminated by libzbd's `snprintf`) as a trimmed string.
    private static func vendorString(_ info: zbd_info) -> String {
        let bytes = unsafe withUnsafeBytes(of: info.vendor_id) { raw in unsafe Array(raw.prefix { $0 != 0 }) }
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.reversed().drop { $0 == " " }.reversed())
    }

    // MARK: - Zones

    /// Reports at most `maxZones` zones of `[offset, offset + length)` that pass `filter`,
    /// converted to ``Zone`` (libzbd already reports bytes).
    ///
    /// - Parameters:
    ///   - offset: Byte offset, below the device capacity (libzbd rounds it down to a zone start).
    ///   - length: Bytes to inspect from `offset`, 0 for "to the end of the device".
    ///   - maxZones: Size of the buffer, 1...``reportChunkZones``. Must not be 0: the installed
    ///     libzbd returns nothing for 0, and upstream treats 0 as "unbounded" and overruns.
    ///   - zoneSize: The device zone size, to number the zones.
    /// - Throws: ``ZBDCallError``; `errno` is `nil` when a zone has a type or condition this
    ///   module does not know, with the values in `detail`.
    static func reportZones(
        fd: CInt,
        offset: Int64,
        length: Int64,
        filter: ZoneReportFilter,
        maxZones: Int,
        zoneSize: UInt64
    ) throws(ZBDCallError) -> [Zone] {
        precondition(maxZones > 0 && maxZones <= reportChunkZones, "report buffer of \(maxZones) zones")
        var buffer = [zbd_zone](repeating: zbd_zone(), count: maxZones)
        var count = CUnsignedInt(maxZones)
        let option = zbd_report_option(rawValue: CUnsignedInt(filter.rawValue))
        _ = try unsafe buffer.withUnsafeMutableBufferPointer { (zones) throws(ZBDCallError) -> CInt in
            try fdCall("zbd_report_zones") {
                unsafe zbd_report_zones(fd, off_t(offset), off_t(length), option, zones.baseAddress, &count)
            }
        }
        let reported = min(Int(count), maxZones)
        var result: [Zone] = []
        result.reserveCapacity(reported)
        for raw in buffer[..<reported] {
            guard let type = ZoneType(rawValue: UInt8(truncatingIfNeeded: raw.type)), raw.type <= UInt8.max,
                let condition = ZoneCondition(rawValue: UInt8(truncatingIfNeeded: raw.cond)), raw.cond <= UInt8.max
            else {
                throw ZBDCallError(
                    function: "zbd_report_zones",
                    errno: nil,
                    detail: "the zone at byte \(raw.start) has type \(raw.type) and condition "
                        + "0x\(String(raw.cond, radix: 16)), which zonealloc does not know"
                )
            }
            let start = UInt64(raw.start)
            result.append(
                Zone(
                    index: Int(start / zoneSize),
                    start: start,
                    length: UInt64(raw.len),
                    capacity: UInt64(raw.capacity),
                    writePointer: UInt64(raw.wp),
                    type: type,
                    condition: condition,
                    resetRecommended: raw.flags & ZBD_ZONE_RWP_RECOMMENDED.rawValue != 0,
                    nonSequentialResources: raw.flags & ZBD_ZONE_NON_SEQ_RESOURCES.rawValue != 0
                )
            )
        }
        return result
    }

    /// Applies `operation` to the zones of `[offset, offset + length)`, with libzbd's range rules:
    /// rounded out to zone boundaries, clamped to the device, `length == 0` meaning "to the end",
    /// and nothing done (success) for an empty range or an offset past the end.
    ///
    /// > `zbd_zones_operation`: 0, or -1 with errno from the `BLK*ZONE` ioctl (`ENOTTY` is not
    /// > translated by the installed 2.0.4; builds without the open/close/finish ioctls set
    /// > `errno = -ENOTSUP`).
    static func zonesOperation(fd: CInt, _ operation: ZoneOperation, offset: Int64, length: Int64) throws(ZBDCallError)
    {
        let ofst = off_t(offset)
        let len = off_t(length)
        switch operation {
        case .reset: _ = try fdCall("zbd_reset_zones") { zbd_reset_zones(fd, ofst, len) }
        case .open: _ = try fdCall("zbd_open_zones") { zbd_open_zones(fd, ofst, len) }
        case .close: _ = try fdCall("zbd_close_zones") { zbd_close_zones(fd, ofst, len) }
        case .finish: _ = try fdCall("zbd_finish_zones") { zbd_finish_zones(fd, ofst, len) }
        }
    }

    // MARK: - Data

    /// pread(2) until `buffer` is full or the device ends, retrying `EINTR` and short reads.
    ///
    /// - Returns: The bytes read; less than `buffer.count` only at the end of the device.
    static func read(fd: CInt, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(ZBDCallError) -> Int
    {
        var done = 0
        while done < buffer.count {
            let count = try ioCall("pread") {
                unsafe pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// pwrite(2) of all of `bytes`, retrying `EINTR` and continuing after short writes.
    ///
    /// - Throws: ``ZBDCallError``; when part of the data was written first, `detail` says how much.
    static func write(fd: CInt, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(ZBDCallError) {
        var done = 0
        while done < bytes.count {
            let count: Int
            do {
                count = try ioCall("pwrite") {
                    unsafe pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
                }
            } catch {
                var error = error
                if done > 0 { error.detail = "the first \(done) of \(bytes.count) bytes were written" }
                throw error
            }
            if count == 0 {
                throw ZBDCallError(
                    function: "pwrite",
                    errno: nil,
                    detail: "the device accepted 0 bytes after \(done) of \(bytes.count)"
                )
            }
            done += count
        }
    }

    /// fsync(2), retrying `EINTR`: flushes the device's volatile write cache.
    static func sync(fd: CInt) throws(ZBDCallError) {
        _ = try ioCall("fsync") { Int(fsync(fd)) }
    }
}
