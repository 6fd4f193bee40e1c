import Synchronization
import SystemPackage

extension EmulatedDevice {
    /// Creates a file-backed emulated device: a sparse image holding a header, the zone table
    /// and the device's bytes.
    ///
    /// - Parameters:
    ///   - path: the image file to create.
    ///   - geometry: zone count, sizes and limits; validated and clamped as the kernel does.
    ///   - profile: the kind of device to reproduce where kinds differ; stored in the image.
    ///   - options: write cache and error behaviour (not stored in the image).
    ///   - overwrite: replace an existing file at `path`.
    /// - Throws: ``ZonedStorageError``: `.invalidGeometry` (also for a geometry the profile's kind
    ///   of device cannot have), or `.systemCall` (EEXIST when the file exists and `overwrite` is
    ///   false).
    public static func create(
        at path: String,
        geometry: EmulatedGeometry,
        profile: Profile = .nullBlk,
        options: Options = Options(),
        overwrite: Bool = false
    ) throws(ZonedStorageError) -> EmulatedDevice {
        let valid = try geometry.validated(for: profile)
        // Close-on-exec: a child process must not inherit the descriptor, and with it the flock.
        // An existing image is truncated only once its lock is held (below), so replacing an
        // image that another process is using fails without harming it.
        var flags: FileDescriptor.OpenOptions = [.create, .closeOnExec]
        if !overwrite { flags.insert(.exclusiveCreate) }
        let fd: FileDescriptor
        do {
            fd = try systemCall {
                try FileDescriptor.open(
                    FilePath(path),
                    .readWrite,
                    options: flags,
                    permissions: [.ownerReadWrite, .groupRead, .otherRead]
                )
            }
        } catch {
            let hint =
                error == .fileExists
                ? "the file exists; choose another path or pass --force to replace it"
                : "check the directory exists and is writable"
            throw ZonedStorageError(
                code: .systemCall,
                message: "cannot create the emulated device image \(path): \(error); \(hint)",
                errno: error
            )
        }
        let dataOffset = EmulatedImageFormat.dataOffset(zoneCount: valid.zoneCount)
        let device = EmulatedDevice(
            geometry: valid,
            profile: profile,
            options: options,
            path: path,
            backing: .file(fd, dataOffset: dataOffset),
            records: nil
        )
        do throws(ZonedStorageError) {
            if let errno = lockExclusively(fd) { throw device.inUseError(errno) }
            if overwrite, let errno = fileTruncate(fd, size: 0) {
                throw ZonedStorageError(
                    code: .systemCall,
                    message: "cannot empty the existing file \(path) to replace it: \(errno)",
                    errno: errno
                )
            }
            // The file ends at the data offset and grows as zones are written: past its end it
            // reads as zeros, like a hole. (On Linux 6.18 ext4, writes inside a sparse file and
            // writes that extend it cost the same; what costs is the alignment of the data in the
            // file, see EmulatedImageFormat.)
            if let errno = fileTruncate(fd, size: dataOffset) {
                throw ZonedStorageError(
                    code: .systemCall,
                    message: "cannot size the image \(path) to \(dataOffset) bytes: \(errno)",
                    errno: errno
                )
            }
            try device.writeHeader(fd, clean: false)
            try device.persistDurableRows(Array(0..<valid.zoneCount))
        } catch {
            device.state.withLock { $0.closed = true }
            try? fd.close()
            throw error
        }
        return device
    }

    /// Opens an existing emulated device image, with the zone state it was left in and the
    /// profile it was created with (a version-1 image, made before profiles existed, is a
    /// nullblk device).
    ///
    /// After a clean ``close()`` every zone is as it was, including explicitly open zones. After
    /// a crash of the process that had it open, the image holds what a power loss at its last
    /// flush would leave: flushed data, and open zones closed.
    ///
    /// - Throws: ``ZonedStorageError``: `.noSuchDevice`, `.notZonedDevice` for a file that is not
    ///   an image, `.corruptImage` for a damaged one, `.systemCall` when another process has it open.
    public static func open(at path: String, options: Options = Options()) throws(ZonedStorageError) -> EmulatedDevice {
        let fd: FileDescriptor
        do {
            fd = try systemCall { try FileDescriptor.open(FilePath(path), .readWrite, options: [.closeOnExec]) }
        } catch {
            throw ZonedStorageError(
                code: error == .noSuchFileOrDirectory ? .noSuchDevice : .systemCall,
                message: "cannot open the emulated device image \(path): \(error)"
                    + (error == .noSuchFileOrDirectory ? "; create one with `zonealloc device create`" : ""),
                errno: error
            )
        }
        do throws(ZonedStorageError) {
            return try open(fd: fd, path: path, options: options)
        } catch {
            try? fd.close()
            throw error
        }
    }

    private static func open(fd: FileDescriptor, path: String, options: Options) throws(ZonedStorageError)
        -> EmulatedDevice
    {
        func corrupt(_ why: String) -> ZonedStorageError {
            ZonedStorageError(
                code: .corruptImage,
                message:
                    "\(path) is not a usable emulated device image: \(why); recreate it with `zonealloc device create`",
                errno: .invalidArgument
            )
        }
        let headerBytes = try readExactly(fd, path: path, offset: 0, count: EmulatedImageFormat.headerSize)
        guard headerBytes.count == EmulatedImageFormat.headerSize,
            Array(headerBytes[0..<8]) == EmulatedImageFormat.magic
        else {
            throw ZonedStorageError(
                code: .notZonedDevice,
                message: "\(path) is not a zoned block device or an emulated zoned device image (no \"ZAEMUIMG\" "
                    + "header); create an image with `zonealloc device create` or name a /dev zoned block device",
                errno: .invalidArgument
            )
        }
        let header: EmulatedImageFormat.Header
        switch EmulatedImageFormat.decode(headerBytes) {
        case .success(let decoded): header = decoded
        case .failure(let problem): throw corrupt(problem.reason)
        }
        let geometry: EmulatedGeometry
        do {
            geometry = try header.geometry.validated(for: header.profile)
        } catch {
            throw corrupt("its geometry is invalid (\(error.message))")
        }
        // Images written before the largest transfer was recorded hold 0 there: the profile's.
        var recorded = header.geometry
        if recorded.maxTransferBytes == nil { recorded.maxTransferBytes = geometry.maxTransferBytes }
        guard geometry == recorded,
            header.dataOffset == EmulatedImageFormat.dataOffset(zoneCount: geometry.zoneCount, version: header.version)
        else { throw corrupt("its header fields are inconsistent") }
        let table = try readExactly(
            fd,
            path: path,
            offset: UInt64(EmulatedImageFormat.headerSize),
            count: EmulatedImageFormat.rowSize * geometry.zoneCount
        )
        guard table.count == EmulatedImageFormat.rowSize * geometry.zoneCount else {
            throw corrupt("its zone table is truncated")
        }
        var records: [ZoneRecord] = []
        records.reserveCapacity(geometry.zoneCount)
        for index in 0..<geometry.zoneCount {
            let low = index * EmulatedImageFormat.rowSize
            guard let record = EmulatedImageFormat.decodeRow(table[low..<(low + EmulatedImageFormat.rowSize)]),
                rowIsConsistent(record, index: index, geometry: geometry)
            else { throw corrupt("the zone table row of zone \(index) is damaged") }
            records.append(record)
        }
        let device = EmulatedDevice(
            geometry: geometry,
            profile: header.profile,
            options: options,
            path: path,
            backing: .file(fd, dataOffset: header.dataOffset),
            records: records,
            imageVersion: header.version
        )
        do throws(ZonedStorageError) {
            if let errno = lockExclusively(fd) { throw device.inUseError(errno) }
            // From now on the table holds durable rows, and the header says "in use": a crash of
            // this process leaves the image as a power loss at the last flush would.
            try device.persistDurableRows(Array(0..<geometry.zoneCount))
            try device.writeHeader(fd, clean: false)
        } catch {
            device.state.withLock { $0.closed = true }
            throw error
        }
        return device
    }

    /// Whether `path` is a file that starts with the emulated image magic.
    public static func isEmulatedImage(path: String) -> Bool {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) else {
            return false
        }
        defer { try? fd.close() }
        guard let bytes = try? readExactly(fd, path: path, offset: 0, count: 8) else { return false }
        return bytes == EmulatedImageFormat.magic
    }

    private static func rowIsConsistent(_ record: ZoneRecord, index: Int, geometry: EmulatedGeometry) -> Bool {
        let start = UInt64(index) * geometry.zoneSize
        if index < geometry.conventionalZones { return record.condition == .notWritePointer }
        switch record.condition {
        case .notWritePointer: return false
        case .readOnly, .offline:
            return record.writePointer == Zone.invalidWritePointer && record.dataEnd >= start
                && record.dataEnd <= start + geometry.zoneCapacity
        case .full:
            return record.dataEnd >= start && record.dataEnd <= start + geometry.zoneCapacity
                && (record.writePointer == start + geometry.zoneCapacity
                    || record.writePointer == start + geometry.zoneSize)
        default:
            return record.writePointer == record.dataEnd && record.writePointer >= start
                && record.writePointer < start + geometry.zoneCapacity
                && (record.condition != .empty || record.writePointer == start)
        }
    }

    private static func readExactly(_ fd: FileDescriptor, path: String, offset: UInt64, count: Int)
        throws(ZonedStorageError) -> [UInt8]
    {
        var bytes = [UInt8](repeating: 0, count: count)
        do {
            let got = try systemCall {
                try unsafe bytes.withUnsafeMutableBytes { raw in
                    try unsafe fd.read(fromAbsoluteOffset: Int64(offset), into: raw)
                }
            }
            return Array(bytes[0..<got])
        } catch {
            throw ZonedStorageError(
                code: .systemCall,
                message: "cannot read \(path) at offset \(offset): \(error)",
                errno: error
            )
        }
    }

    func inUseError(_ errno: Errno) -> ZonedStorageError {
        ZonedStorageError(
            code: .systemCall,
            message: "the emulated device image \(path) is in use by another process (flock: \(errno)); "
                + "an emulated device, like a block device, is driven by one program at a time",
            errno: errno
        )
    }

    // MARK: - Zone table persistence

    /// Writes the durable rows of `indices` to the image's zone table and syncs it.
    func persistDurableRows(_ indices: [Int]) throws(ZonedStorageError) {
        guard case .file(let fd, _) = backing, !indices.isEmpty else { return }
        try persistLock.withLock { _ throws(ZonedStorageError) in
            let rows = state.withLock { state in
                indices.map { index in
                    (
                        index,
                        state.machine.recordAfterPowerLoss(
                            zone: index,
                            keepingDataTo: state.machine.zones[index].flushedEnd
                        )
                    )
                }
            }
            try writeRows(fd, rows: rows)
            try backingSync()
        }
    }

    func writeRows(_ fd: FileDescriptor, rows: [(Int, ZoneRecord)]) throws(ZonedStorageError) {
        // Contiguous runs of rows are written with one pwrite each.
        var runStart = 0
        while runStart < rows.count {
            var runEnd = runStart + 1
            while runEnd < rows.count, rows[runEnd].0 == rows[runEnd - 1].0 + 1 { runEnd += 1 }
            var bytes: [UInt8] = []
            bytes.reserveCapacity((runEnd - runStart) * EmulatedImageFormat.rowSize)
            for i in runStart..<runEnd { bytes += EmulatedImageFormat.encode(rows[i].1) }
            let offset = Int64(EmulatedImageFormat.headerSize + rows[runStart].0 * EmulatedImageFormat.rowSize)
            do {
                _ = try systemCall {
                    try unsafe bytes.withUnsafeBytes { raw in try unsafe fd.writeAll(toAbsoluteOffset: offset, raw) }
                }
            } catch {
                throw ZonedStorageError(
                    code: .systemCall,
                    message: "writing the zone table of \(path) failed: \(error)",
                    errno: error
                )
            }
            runStart = runEnd
        }
    }

    func writeHeader(_ fd: FileDescriptor, clean: Bool) throws(ZonedStorageError) {
        guard case .file(_, let dataOffset) = backing else { return }
        let bytes = EmulatedImageFormat.encode(
            .init(version: imageVersion, clean: clean, geometry: geometry, profile: profile, dataOffset: dataOffset)
        )
        do {
            _ = try systemCall {
                try unsafe bytes.withUnsafeBytes { raw in try unsafe fd.writeAll(toAbsoluteOffset: 0, raw) }
            }
        } catch {
            throw ZonedStorageError(
                code: .systemCall,
                message: "writing the header of \(path) failed: \(error)",
                errno: error
            )
        }
        try backingSync()
    }
}
