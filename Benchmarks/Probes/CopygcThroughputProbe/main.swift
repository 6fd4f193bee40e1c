// Copygc relocation throughput: bytes moved per second by `ZoneStore.collectGarbage()` on a
// file-backed emulated zoned device, against a plain read-then-write copy of the same number of
// bytes, side by side in one run.
//
//   CopygcThroughputProbe [directory] [MiB filled] [rounds] [size=KiB] [live=percent] [zone=MiB]
//                         [target=ratio] [verbose] [no-warmup] [trace] [prefault=MiB]
//
// Store round: a fresh store (zones of 128 MiB unless `zone=` says otherwise) is filled with
// `MiB filled` of values of `size` (64 KiB by default), then every other value (`live=50`: half
// of each filled bucket stays live) is overwritten, and the store is synced; none of that is
// timed. Then `collectGarbage()` runs until copygc finds nothing more to free (the stop threshold
// is set above the device's bucket count, so each pass takes up to copygc's 16 victims); the
// time of those passes (read the live extents, write them through the copygc write point,
// journal the moves, flush, reset the victims) and the bytes they moved give the rate.
//
// Baselines, with the same number of bytes in chunks of `size`, each ending with the copy durable:
// - device copy (the target's baseline): a fresh emulated device of the same geometry, filled the
//   same way (untimed); then read the chunks at the live positions (every other one) with
//   `read(into:at:)` and write each at the write pointer of empty zones, then `flush()`;
// - file copy (for reference): `pread` the chunks from a filled plain file, `pwrite` them
//   sequentially to a second file, then `fsync`.
//
// A warm-up round of each (not counted) comes first; rounds alternate which goes first. The
// summary prints the median of the per-round ratios, the median of the CPU-time ratios (the
// device copy's CPU seconds per byte over copygc's: steadier on a loaded machine, blind to
// fsync waits), and a `RESULT` line against issue 7's target:
// copygc ≥ 0.8 × the device copy.
//
// Before each timed section the probe touches some fresh memory and frees it (`prefault=`,
// GuestMemoryPrefault): on a virtual machine that hands freed memory back to its host, the page
// cache a round fills would otherwise pay host page faults at random, on either side.

import ProbeSupport
import ZoneAlloc
import ZoneStore
import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

let arguments = ProbeArguments(knownFlags: ["verbose", "no-warmup", "trace"])
let directory = arguments.string(at: 0, default: ".")
let filledMebibytes = arguments.integer(at: 1, default: 512)
let rounds = max(1, arguments.integer(at: 2, default: 3))
let valueSize = arguments.integer("size", default: 64) << 10
let livePercent = min(95, max(5, arguments.integer("live", default: 50)))
let zoneSize = UInt64(arguments.integer("zone", default: 128)) << 20
let target = arguments.options["target"].flatMap { Double($0) } ?? 0.8
let verbose = arguments.has("verbose")
/// Marks the copygc passes on stderr (one `write` each), to find them in an strace.
let trace = arguments.has("trace")
let prefault = GuestMemoryPrefault(arguments, volume: filledMebibytes << 20)

guard valueSize > 0, valueSize % 4096 == 0, UInt64(valueSize) <= zoneSize / 4 else {
    print("CopygcThroughputProbe: size= must be a multiple of 4 (KiB) and at most a quarter of a zone")
    exit(64)
}

let value = Measure.pseudoRandomBytes(count: valueSize)
let values = (filledMebibytes << 20) / valueSize
/// Whether value `index` is overwritten after the fill (spread evenly: `live=50` overwrites every
/// other one).
func isOverwritten(_ index: Int) -> Bool {
    let dead = 100 - livePercent
    return (index + 1) * dead / 100 > index * dead / 100
}
let liveValues = (0..<values).filter { !isOverwritten($0) }

/// Enough zones for the fill, the overwrites, the moved data, the reserve and the journal.
let zoneCount = Int(UInt64(values * valueSize) * 22 / 10 / zoneSize) + 10
let geometry = EmulatedGeometry(
    zoneCount: zoneCount,
    zoneSize: zoneSize,
    conventionalZones: 1,
    logicalBlockSize: 4096,
    maxOpenZones: 14,
    maxActiveZones: 14
)

/// One copygc measurement: bytes moved and seconds.
struct Moved {
    var bytes: Int
    var seconds: Double
    var cpuSeconds = 0.0
    var passes: Int
    var victims: Int
}

/// Fills a fresh store, overwrites the dead share, then times copygc until it has nothing to free.
func copygcRound() throws -> Moved {
    let path = "\(directory)/copygc-probe-\(getpid()).img"
    defer { PlainFile.remove(path) }
    let device = try EmulatedDevice.create(at: path, geometry: geometry, overwrite: true)
    try ZoneStore.format(device)
    let options = OpenOptions(
        logger: quietLogger(),
        copygcOnDemand: false,
        copygcStartBelowFreeBuckets: 4,
        copygcStopAtFreeBuckets: zoneCount * 2
    )
    let store = try ZoneStore.open(device, options: options)
    let keys = (0..<values).map { StoreKey("c\($0)") }
    for key in keys { try store.put(key, value, durability: .buffered) }
    try store.sync()
    for index in 0..<values where isOverwritten(index) {
        try store.put(keys[index], value, hint: .stream(1), durability: .buffered)
    }
    try store.sync()
    var moved = Moved(bytes: 0, seconds: 0, passes: 0, victims: 0)
    prefault.run()
    let cpu = Measure.cpuSeconds()
    if trace { _ = write(2, "copygc-start\n", 13) }
    let start = ContinuousClock.now
    while true {
        let report = try store.collectGarbage()
        guard report.outcome == .evacuated, report.bytesMoved > 0 || report.bucketsFreed > 0 else { break }
        moved.bytes += Int(report.bytesMoved)
        moved.passes += 1
        moved.victims += report.victims.count
    }
    moved.seconds = Measure.seconds(start.duration(to: .now))
    moved.cpuSeconds = Measure.cpuSeconds() - cpu
    if trace { _ = write(2, "copygc-end\n", 11) }
    if verbose {
        let statistics = store.statistics()
        print(
            "  copygc: \(moved.passes) passes, \(moved.victims) victims, \(moved.bytes >> 20) MiB moved in "
                + "\(Format.fixed(moved.seconds, digits: 3)) s, cpu "
                + "\(Format.fixed(Measure.cpuSeconds() - cpu, digits: 3)) s, "
                + "store WA \(Format.fixed(statistics.writeAmplification, digits: 2))"
        )
    }
    try store.close()
    try device.close()
    return moved
}

/// CPU seconds of the last device copy's timed part.
nonisolated(unsafe) var lastDeviceCopyCPUSeconds = 0.0

/// Seconds to copy `bytes` on a fresh emulated device: read the live chunks of the filled zones,
/// write them at the write pointers of the empty zones after them, flush.
func deviceCopyRound(bytes: Int) throws -> Double {
    let path = "\(directory)/copy-probe-\(getpid()).img"
    defer { PlainFile.remove(path) }
    let device = try EmulatedDevice.create(at: path, geometry: geometry, overwrite: true)
    let zoneValues = Int(zoneSize) / valueSize
    // The fill, value by value, zone after zone (the first zone is conventional: skipped).
    let first = UInt64(geometry.conventionalZones) * zoneSize
    try value.withUnsafeBytes { raw in
        for index in 0..<values {
            try device.write(
                raw,
                at: first + UInt64(index / zoneValues) * zoneSize + UInt64(index % zoneValues * valueSize)
            )
        }
    }
    try device.flush()
    let filledZones = (values + zoneValues - 1) / zoneValues
    let destination = first + UInt64(filledZones + 1) * zoneSize
    var buffer = [UInt8](repeating: 0, count: valueSize)
    let chunks = bytes / valueSize
    prefault.run()
    let cpu = Measure.cpuSeconds()
    let seconds = try Measure.seconds {
        try buffer.withUnsafeMutableBytes { raw in
            for chunk in 0..<chunks {
                let index = liveValues[chunk % liveValues.count]
                let source = first + UInt64(index / zoneValues) * zoneSize + UInt64(index % zoneValues * valueSize)
                try device.read(into: raw, at: source)
                try device.write(UnsafeRawBufferPointer(raw), at: destination + UInt64(chunk * valueSize))
            }
        }
        try device.flush()
    }
    lastDeviceCopyCPUSeconds = Measure.cpuSeconds() - cpu
    try device.close()
    return seconds
}

/// Seconds to copy `bytes` between plain files: pread the live chunks of a filled file, pwrite
/// them sequentially to a second file, fsync.
func fileCopyRound(bytes: Int) throws -> Double {
    let sourcePath = "\(directory)/copy-source-\(getpid()).bin"
    let targetPath = "\(directory)/copy-target-\(getpid()).bin"
    defer {
        PlainFile.remove(sourcePath)
        PlainFile.remove(targetPath)
    }
    let source = try PlainFile(creating: sourcePath)
    try value.withUnsafeBytes { raw in
        for index in 0..<values { try source.write(raw, at: index * valueSize) }
    }
    try source.sync()
    let target = try PlainFile(creating: targetPath)
    var buffer = [UInt8](repeating: 0, count: valueSize)
    let chunks = bytes / valueSize
    prefault.run()
    return try Measure.seconds {
        try buffer.withUnsafeMutableBytes { raw in
            for chunk in 0..<chunks {
                try source.read(into: raw, at: liveValues[chunk % liveValues.count] * valueSize)
                try target.write(UnsafeRawBufferPointer(raw), at: chunk * valueSize)
            }
        }
        try target.sync()
    }
}

print(
    "copygc of \(Format.size(valueSize)) values: \(values) values (\(filledMebibytes) MiB) filled, \(livePercent)% "
        + "left live, zones of \(zoneSize >> 20) MiB, \(rounds) rounds, in \(directory), "
        + "\(prefault.description); \(Measure.machine())"
)
do {
    // A warm-up round of each, not counted: the first rounds in a process pay for faulting in
    // the emulator's buffers.
    if !arguments.has("no-warmup") {
        let warm = try copygcRound()
        _ = try deviceCopyRound(bytes: warm.bytes)
        _ = try fileCopyRound(bytes: warm.bytes)
    }
    var ratios: [Double] = []
    var fileRatios: [Double] = []
    var cpuRatios: [Double] = []
    var best = (copygc: 0.0, device: 0.0, file: 0.0)
    var previousBytes = 0
    for round in 0..<rounds {
        var moved = Moved(bytes: 0, seconds: 0, passes: 0, victims: 0)
        var device = 0.0
        var file = 0.0
        if round % 2 == 0 {
            moved = try copygcRound()
            guard moved.bytes > 0 else {
                print("CopygcThroughputProbe: copygc moved nothing")
                exit(1)
            }
            device = try deviceCopyRound(bytes: moved.bytes)
            file = try fileCopyRound(bytes: moved.bytes)
        } else {
            // The volume the previous round's copygc moved (the layout is the same every round).
            file = try fileCopyRound(bytes: previousBytes)
            device = try deviceCopyRound(bytes: previousBytes)
            moved = try copygcRound()
            // Rates, so a round that moved a little more or less still compares.
            device *= Double(moved.bytes) / Double(previousBytes)
            file *= Double(moved.bytes) / Double(previousBytes)
        }
        let copiedBytes = round % 2 == 0 ? moved.bytes : previousBytes
        previousBytes = moved.bytes
        let copygcRate = Double(moved.bytes) / moved.seconds
        let deviceRate = Double(moved.bytes) / device
        let fileRate = Double(moved.bytes) / file
        best = (max(best.copygc, copygcRate), max(best.device, deviceRate), max(best.file, fileRate))
        ratios.append(copygcRate / deviceRate)
        // CPU time per byte: the device copy's over copygc's.
        let deviceCPU = lastDeviceCopyCPUSeconds * Double(moved.bytes) / Double(copiedBytes)
        cpuRatios.append(deviceCPU / moved.cpuSeconds)
        fileRatios.append(copygcRate / fileRate)
        print(
            "round \(round + 1): copygc \(Format.right(Format.rate(bytes: moved.bytes, seconds: moved.seconds), 14)) "
                + "(\(moved.bytes >> 20) MiB, \(moved.victims) victims)   device copy "
                + "\(Format.right(Format.rate(bytes: moved.bytes, seconds: device), 14))   file copy "
                + "\(Format.right(Format.rate(bytes: moved.bytes, seconds: file), 14))   ratio "
                + "\(Format.fixed(copygcRate / deviceRate, digits: 2)) (vs file copy "
                + "\(Format.fixed(copygcRate / fileRate, digits: 2)))"
        )
    }
    let median = Measure.median(ratios)
    func mib(_ rate: Double) -> String { Format.fixed(rate / Double(1 << 20), digits: 1) + "MiB/s" }
    print(
        "copygc / device copy: median \(Format.fixed(median, digits: 2)), best rates "
            + Format.fixed(best.copygc / best.device, digits: 2) + "; copygc / file copy: median "
            + Format.fixed(Measure.median(fileRatios), digits: 2)
    )
    ProbeResult(
        "copygc-\(Format.size(valueSize))-\(zoneSize >> 20)MiB-zones",
        "ratio",
        median,
        target: (.atLeast, target),
        context: [
            ("copygc", mib(best.copygc)),
            ("device-copy", mib(best.device)),
            ("file-copy", mib(best.file)),
            ("vs-file-copy", Format.fixed(Measure.median(fileRatios), digits: 2)),
            ("cpu-ratio", Format.fixed(Measure.median(cpuRatios), digits: 2)),
            ("moved", "\(previousBytes >> 20)MiB"),
        ]
    ).print()
} catch {
    print("CopygcThroughputProbe: \(error)")
    exit(1)
}
