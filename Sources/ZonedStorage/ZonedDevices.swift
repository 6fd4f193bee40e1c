import SystemPackage

/// Opens whatever a user names as a device: a `/dev` zoned block device through libzbd, or an
/// emulated device image. The kind is detected from the file, not the name.
public enum ZonedDevices {
    /// What a path holds.
    public enum Kind: Sendable, Hashable {
        /// A block device; zoned or not is decided by ``ZBDDevice``.
        case blockDevice
        /// An emulated device image made by ``EmulatedDevice/create(at:geometry:options:overwrite:)``.
        case emulatedImage
    }

    /// Decides what `path` is.
    ///
    /// - Throws: ``ZonedStorageError``: `.noSuchDevice` when nothing is there, `.notZonedDevice`
    ///   for character devices, directories and files that are not emulated images.
    public static func kind(of path: String) throws(ZonedStorageError) -> Kind {
        switch fileKind(atPath: path) {
        case .failure(let errno):
            throw ZonedStorageError(
                code: errno == .noSuchFileOrDirectory ? .noSuchDevice : .systemCall,
                message: "cannot open \(path): \(errno)"
                    + (errno == .noSuchFileOrDirectory
                        ? "; name a /dev zoned block device or an image made with `zonealloc device create`" : ""),
                errno: errno
            )
        case .success(.blockDevice):
            return .blockDevice
        case .success(.regular):
            if EmulatedDevice.isEmulatedImage(path: path) { return .emulatedImage }
            throw notZoned(path, "it is a regular file without an emulated device header")
        case .success(.characterDevice):
            throw notZoned(path, "it is a character device")
        case .success(.directory):
            throw notZoned(path, "it is a directory")
        case .success(.other):
            throw notZoned(path, "it is neither a block device nor a regular file")
        }
    }

    /// Opens `path` as a zoned device.
    ///
    /// - Parameters:
    ///   - path: a `/dev` zoned block device or an emulated image.
    ///   - readOnly: open a real device read-only (emulated images are always opened read-write).
    ///   - options: options for emulated devices.
    /// - Throws: ``ZonedStorageError``; see ``kind(of:)``, ``ZBDDevice/init(path:readOnly:)`` and
    ///   ``EmulatedDevice/open(at:options:)``.
    public static func open(
        _ path: String,
        readOnly: Bool = false,
        options: EmulatedDevice.Options = .init()
    ) throws(ZonedStorageError) -> any ZonedDevice {
        switch try kind(of: path) {
        case .blockDevice: return try ZBDDevice(path: path, readOnly: readOnly)
        case .emulatedImage: return try EmulatedDevice.open(at: path, options: options)
        }
    }

    static func notZoned(_ path: String, _ why: String) -> ZonedStorageError {
        ZonedStorageError(
            code: .notZonedDevice,
            message: "'\(path)' is not a zoned block device (\(why)): zonealloc needs a host-managed zoned "
                + "block device (SMR, NVMe ZNS, null_blk zoned=1) or an emulated image created with "
                + "`zonealloc device create`",
            errno: .operationNotSupportedByDevice
        )
    }
}
