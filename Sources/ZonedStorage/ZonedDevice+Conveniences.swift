import SystemPackage

extension ZonedDevice {
    /// Every zone of the device.
    public func reportZones() throws(ZonedStorageError) -> [Zone] {
        try reportZones(offset: 0, length: 0, filter: .all)
    }

    /// The zone with number `index`.
    ///
    /// - Throws: ``ZonedStorageError`` with EINVAL when `index` is out of range.
    public func zone(_ index: Int) throws(ZonedStorageError) -> Zone {
        guard index >= 0, index < info.zoneCount else {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "zone \(index) does not exist: \(path) has zones 0..<\(info.zoneCount)",
                errno: .invalidArgument
            )
        }
        let zones = try reportZones(offset: info.zoneStart(index), length: info.zoneSize, filter: .all)
        guard let zone = zones.first else {
            throw ZonedStorageError(
                code: .ioError,
                message: "the device reported no zone at index \(index) of \(path)",
                errno: .ioError
            )
        }
        return zone
    }

    /// Applies `operation` to the zones numbered `indices`.
    ///
    /// - Throws: ``ZonedStorageError`` `.invalidArgument` (EINVAL) when `indices` reaches outside
    ///   the device's zones, or what the device's zone management returns.
    public func manageZones(_ operation: ZoneOperation, zones indices: Range<Int>) throws(ZonedStorageError) {
        guard indices.lowerBound >= 0, indices.upperBound <= info.zoneCount else {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "cannot \(operation) zones \(indices.lowerBound)..<\(indices.upperBound) of \(path): "
                    + "the device has zones 0..<\(info.zoneCount); pass zone numbers in that range",
                errno: .invalidArgument
            )
        }
        guard !indices.isEmpty else { return }
        try manageZones(
            operation,
            offset: info.zoneStart(indices.lowerBound),
            length: UInt64(indices.count) * info.zoneSize
        )
    }

    /// Resets zone `index`.
    public func resetZone(_ index: Int) throws(ZonedStorageError) { try manageZones(.reset, zones: index..<index + 1) }
    /// Opens zone `index` explicitly.
    public func openZone(_ index: Int) throws(ZonedStorageError) { try manageZones(.open, zones: index..<index + 1) }
    /// Closes zone `index`.
    public func closeZone(_ index: Int) throws(ZonedStorageError) { try manageZones(.close, zones: index..<index + 1) }
    /// Finishes zone `index`.
    public func finishZone(_ index: Int) throws(ZonedStorageError) {
        try manageZones(.finish, zones: index..<index + 1)
    }
    /// Resets every sequential zone (RESET ALL, checklist item 49).
    public func resetAllZones() throws(ZonedStorageError) { try manageZones(.reset, offset: 0, length: 0) }

    /// Writes `bytes` at `offset` (see ``ZonedDevice/write(_:at:)``).
    public func write(_ bytes: [UInt8], at offset: UInt64) throws(ZonedStorageError) {
        try unsafe bytes.withUnsafeBytes { raw in
            Result { () throws(ZonedStorageError) in try unsafe write(raw, at: offset) }
        }.get()
    }

    /// Appends `bytes` to the zone starting at `zoneStart` (see ``ZonedDevice/append(_:toZoneAt:)``).
    public func append(_ bytes: [UInt8], toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64 {
        try unsafe bytes.withUnsafeBytes { raw in
            Result { () throws(ZonedStorageError) in try unsafe append(raw, toZoneAt: zoneStart) }
        }.get()
    }

    /// Reads `count` bytes at `offset` (see ``ZonedDevice/read(into:at:)``).
    public func read(count: Int, at offset: UInt64) throws(ZonedStorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try unsafe bytes.withUnsafeMutableBytes { raw in
            Result { () throws(ZonedStorageError) in try unsafe read(into: raw, at: offset) }
        }.get()
        return bytes
    }
}
