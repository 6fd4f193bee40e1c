// Sustained `put` of 64 KiB values onto a file-backed emulated zoned device, against plain
// sequential `pwrite` of the same bytes to a file in the same directory, side by side in one run.
//
//   StoreThroughputProbe [directory] [MiB per round] [rounds] [volatile|write-through] [durable-each]
//
// Each round writes the same volume both ways (alternating which goes first) and ends with the
// data durable: the store's puts are buffered and followed by `sync()` (journal commit + device
// flush, which fsyncs the image); the pwrite loop is followed by `fsync`. Both files are deleted
// after each round. Each round prints both rates and their ratio; the last line prints the
// ratio of the best rounds and the median of the per-round ratios (robust when other processes
// share the machine); `durable-each` adds a round of durable puts (a flush per put) for reference.
//
// The emulated device's write cache is `volatile` by default (NVMe/SCSI with a write cache: data
// is kept in the emulator's memory until written back, then fsynced by `flush`);
// `write-through` models null_blk's default, where every write goes to the image at once.

import Foundation
import ZoneStore
import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
let directory = arguments.count > 1 ? arguments[1] : FileManager.default.currentDirectoryPath
let mebibytes = arguments.count > 2 ? Int(arguments[2]) ?? 1024 : 1024
let rounds = arguments.count > 3 ? Int(arguments[3]) ?? 3 : 3
let cacheMode: EmulatedDevice.WriteCacheMode = arguments.contains("write-through") ? .writeThrough : .volatile
/// The emulator's write-back threshold (`writeback=KiB`; its default is 8 MiB per zone).
let writeback =
    arguments.first { $0.hasPrefix("writeback=") }.flatMap { Int($0.dropFirst("writeback=".count)) }.map { $0 << 10 }
    ?? EmulatedDevice.Options().writebackThreshold
let valueSize = 64 << 10
let count = mebibytes * (1 << 20) / valueSize

/// The value written: 64 KiB of pseudo-random bytes.
let value: [UInt8] = {
    var bytes = [UInt8](repeating: 0, count: valueSize)
    var seed: UInt64 = 0x1234_5678_9ABC_DEF0
    for index in stride(from: 0, to: valueSize, by: 8) {
        seed &+= 0x9E37_79B9_7F4A_7C15
        var z = seed
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        for byte in 0..<8 { bytes[index + byte] = UInt8(truncatingIfNeeded: z >> (8 * UInt64(byte))) }
    }
    return bytes
}()

/// Seconds to put `count` values of 64 KiB into a fresh store on a fresh image, then sync.
func storeRound(durableEach: Bool = false) throws -> Double {
    let path = "\(directory)/store-probe-\(getpid()).img"
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Zones of 64 MiB: room for the volume, the copygc reserve and the journal.
    let zoneSize: UInt64 = 64 << 20
    let zones = Int((UInt64(mebibytes) << 20) * 13 / 10 / zoneSize) + 6
    let geometry = EmulatedGeometry(
        zoneCount: zones,
        zoneSize: zoneSize,
        conventionalZones: 1,
        logicalBlockSize: 4096,
        maxOpenZones: 14,
        maxActiveZones: 14
    )
    let device = try EmulatedDevice.create(
        at: path,
        geometry: geometry,
        options: EmulatedDevice.Options(writeCache: cacheMode, writebackThreshold: writeback),
        overwrite: true
    )
    try ZoneStore.format(device)
    let store = try ZoneStore.open(device)
    let keys = (0..<count).map { StoreKey("v\($0)") }
    let cpu = cpuSeconds()
    let start = ContinuousClock.now
    for key in keys { try store.put(key, value, durability: durableEach ? .durable : .buffered) }
    let written = start.duration(to: .now)
    try store.sync()
    let elapsed = start.duration(to: .now)
    if arguments.contains("verbose") {
        print("  store: puts \(written), sync \(elapsed - written), cpu \(cpuSeconds() - cpu) s")
    }
    try store.close()
    try device.close()
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Seconds to write the same bytes straight to a fresh emulated device (sequentially, zone by zone,
/// at the write pointers), then flush: the emulator's own cost, without the store.
func deviceRound() throws -> Double {
    let path = "\(directory)/device-probe-\(getpid()).img"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let zoneSize: UInt64 = 64 << 20
    let zones = Int((UInt64(mebibytes) << 20) / zoneSize) + 2
    let geometry = EmulatedGeometry(zoneCount: zones, zoneSize: zoneSize, logicalBlockSize: 4096)
    let device = try EmulatedDevice.create(
        at: path,
        geometry: geometry,
        options: EmulatedDevice.Options(writeCache: cacheMode, writebackThreshold: writeback),
        overwrite: true
    )
    let start = ContinuousClock.now
    try value.withUnsafeBytes { raw in
        for index in 0..<count { try device.write(raw, at: UInt64(index * valueSize)) }
    }
    try device.flush()
    let elapsed = start.duration(to: .now)
    try device.close()
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Seconds to pwrite the same bytes sequentially to a fresh file, then fsync.
func pwriteRound() throws -> Double {
    let path = "\(directory)/pwrite-probe-\(getpid()).bin"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    let cpu = cpuSeconds()
    let start = ContinuousClock.now
    try value.withUnsafeBytes { raw in
        for index in 0..<count {
            let written = pwrite(fd, raw.baseAddress, valueSize, off_t(index * valueSize))
            guard written == valueSize else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }
    }
    let written = start.duration(to: .now)
    guard fsync(fd) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    let elapsed = start.duration(to: .now)
    if arguments.contains("verbose") {
        print("  pwrite: writes \(written), fsync \(elapsed - written), cpu \(cpuSeconds() - cpu) s")
    }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// User and system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

func rate(_ seconds: Double) -> String {
    String(format: "%8.1f MiB/s", Double(mebibytes) / seconds)
}

print(
    "\(count) values of 64 KiB (\(mebibytes) MiB) per round, \(rounds) rounds, in \(directory), emulated write cache "
        + "\(cacheMode.rawValue), write-back threshold \(writeback >> 10) KiB"
)
var bestStore = Double.infinity
var bestPwrite = Double.infinity
var ratios: [Double] = []
for round in 0..<rounds {
    let storeFirst = round % 2 == 0
    var storeTime = 0.0
    var pwriteTime = 0.0
    if storeFirst {
        storeTime = try storeRound()
        pwriteTime = try pwriteRound()
    } else {
        pwriteTime = try pwriteRound()
        storeTime = try storeRound()
    }
    bestStore = min(bestStore, storeTime)
    bestPwrite = min(bestPwrite, pwriteTime)
    ratios.append(pwriteTime / storeTime)
    print(
        "round \(round + 1): store put \(rate(storeTime))   pwrite \(rate(pwriteTime))   ratio "
            + String(format: "%.2f", pwriteTime / storeTime)
    )
}
if arguments.contains("device") {
    let seconds = try deviceRound()
    print("emulated device writes alone (no store): \(rate(seconds))")
}
if arguments.contains("durable-each") {
    print("durable puts (a flush each): \(rate(try storeRound(durableEach: true)))")
}
let median = ratios.sorted()[ratios.count / 2]
print(
    "best: store put \(rate(bestStore)), pwrite \(rate(bestPwrite)); store / pwrite: best "
        + String(format: "%.2f", bestPwrite / bestStore) + ", median of the rounds " + String(format: "%.2f", median)
)
