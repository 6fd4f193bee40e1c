import ZonedStorage

/// The steps of `zonealloc demo` on an open emulated device.
struct DemoScript {
    /// The demo device, freshly created.
    let device: EmulatedDevice

    private var info: DeviceInfo { device.info }
    private var block: UInt64 { UInt64(info.logicalBlockSize) }
    private var step = 0

    /// Creates the script for `device`.
    init(device: EmulatedDevice) { self.device = device }

    /// Recognisable data: `count` bytes that depend on `seed` and their position.
    static func data(seed: UInt8, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index / 4096 &* 31 &+ index) &+ seed }
        return bytes
    }

    private mutating func say(_ line: String) {
        step += 1
        print("\(step < 10 ? " " : "")\(step). \(line)")
    }

    private func condition(_ zone: Int) throws(ZonedStorageError) -> String {
        try device.zone(zone).condition.kernelName
    }

    private func offsetInZone(_ offset: UInt64) -> String {
        let within = offset - info.zoneStart(info.zoneIndex(containing: offset))
        return within == 0 ? "+0" : "+\(SizeFormatter.string(within))"
    }

    /// Runs every step, printing one line each, and the zone report at the end.
    ///
    /// - Throws: ``ZonedStorageError`` when the device refuses a step that should succeed, or
    ///   ``CommandFailure`` when data read back differs from what was written.
    mutating func run() throws {
        let geometry = device.geometry
        say(
            "created \(device.path): \(geometry.zoneCount) zones of \(SizeFormatter.string(geometry.zoneSize)) "
                + "(capacity \(SizeFormatter.string(geometry.zoneCapacity))), "
                + "\(geometry.conventionalZones) conventional, max open \(info.maxOpenZones), "
                + "max active \(info.maxActiveZones), \(geometry.logicalBlockSize)-byte blocks"
        )

        // Conventional zone 0: blocks written in any order.
        let conventional = Self.data(seed: 1, count: Int(block))
        let conventionalOffsets: [UInt64] = [16 * block, 0, 8 * block]
        for offset in conventionalOffsets { try device.write(conventional, at: offset) }
        say(
            "zone 0 (conventional): wrote 4 KiB blocks at "
                + conventionalOffsets.map(offsetInZone).joined(separator: ", ")
                + " in that order; random writes are fine, the zone stays \(try condition(0))"
        )

        // Zone 2: sequential writes at the write pointer.
        let zone2 = info.zoneStart(2)
        let sequential = Self.data(seed: 2, count: 3 << 20)
        for part in 0..<3 {
            let from = part << 20
            try device.write(Array(sequential[from..<(from + (1 << 20))]), at: zone2 + UInt64(from))
        }
        let zone2After = try device.zone(2)
        say(
            "zone 2: three 1 MiB writes, each at the write pointer; the first opened the zone implicitly: "
                + "\(zone2After.condition.kernelName), write pointer \(offsetInZone(zone2After.writePointer))"
        )

        // Zone 3: filled to capacity.
        let zone3 = info.zoneStart(3)
        let fill = Self.data(seed: 3, count: 4 << 20)
        for part in 0..<Int(geometry.zoneCapacity / UInt64(fill.count)) {
            try device.write(fill, at: zone3 + UInt64(part * fill.count))
        }
        say(
            "zone 3: wrote its whole \(SizeFormatter.string(geometry.zoneCapacity)) capacity in 4 MiB writes: "
                + "\(try condition(3)) (the last \(SizeFormatter.string(geometry.zoneSize - geometry.zoneCapacity)) "
                + "of the zone are beyond its capacity and never writable)"
        )

        // Zone 4: explicit open.
        try device.openZone(4)
        say("zone 4: opened explicitly before any write: \(try condition(4))")

        // Zone 5: written, then closed.
        try device.write(Self.data(seed: 5, count: 256 << 10), at: info.zoneStart(5))
        try device.closeZone(5)
        say(
            "zone 5: wrote 256 KiB, then closed it: \(try condition(5)) (no longer open, still active: "
                + "it keeps its write pointer)"
        )

        // Zone 6: written, then finished.
        try device.write(Self.data(seed: 6, count: 1 << 20), at: info.zoneStart(6))
        try device.finishZone(6)
        say("zone 6: wrote 1 MiB, then finished it: \(try condition(6)); the rest reads as zeros")

        // Zone 7: zone append; the device picks the offset.
        let appended = Self.data(seed: 7, count: 64 << 10)
        let first = try device.append(appended, toZoneAt: info.zoneStart(7))
        let second = try device.append(appended, toZoneAt: info.zoneStart(7))
        say(
            "zone 7: two 64 KiB zone appends landed at \(offsetInZone(first)) and \(offsetInZone(second)): "
                + "the device chose the offsets (\(try condition(7)))"
        )

        // A write not at the write pointer is refused, and nothing changes.
        let before = try device.zone(2)
        do {
            try device.write(Self.data(seed: 9, count: Int(block)), at: zone2)
            throw CommandFailure("the device accepted a write behind the write pointer of zone 2")
        } catch let refusal as ZonedStorageError {
            let after = try device.zone(2)
            guard after == before else {
                throw CommandFailure("zone 2 changed after a refused write: \(before) became \(after)")
            }
            say("zone 2: a 4 KiB write at the zone start, behind the write pointer, is refused; the zone is unchanged:")
            print("      \(refusal.description)")
        }

        // Read back what was written.
        var checked: [String] = []
        for offset in conventionalOffsets where try device.read(count: Int(block), at: offset) != conventional {
            throw CommandFailure("zone 0 at \(offsetInZone(offset)) reads back different data")
        }
        checked.append("zone 0's three blocks")
        guard try device.read(count: sequential.count, at: zone2) == sequential else {
            throw CommandFailure("zone 2 reads back different data")
        }
        checked.append("zone 2's 3 MiB")
        guard try device.read(count: appended.count, at: second) == appended else {
            throw CommandFailure("the second append to zone 7 reads back different data")
        }
        checked.append("the second append to zone 7")
        say("read back \(checked.joined(separator: ", ")): identical to what was written")

        try device.flush()
        let usage = device.resourceUsage()
        say(
            "flushed the write cache: the data and write pointers are durable. Zones in use: "
                + "\(usage.open) open (\(usage.implicitOpen) implicitly, \(usage.explicitOpen) explicitly) of "
                + "\(info.maxOpenZones), \(usage.active) active of \(info.maxActiveZones)"
        )

        print("")
        let rows = try DeviceReport.rows(of: device, zones: nil)
        ReportFormatter.table(rows).forEach { print($0) }
    }
}
