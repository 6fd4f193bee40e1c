import Foundation
import SystemPackage
import Testing

@testable import ZoneAllocCLI

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `zonealloc` binary on emulated images in a temporary directory.
@Suite struct EndToEndTests {
    private let zonealloc: ZoneAllocProcess
    private let directory: TemporaryDirectory

    init() throws {
        zonealloc = try ZoneAllocProcess()
        directory = try TemporaryDirectory()
    }

    /// Runs `zonealloc`; the image names in `arguments` are relative to the test's directory.
    private func run(_ arguments: String..., input: Data = Data()) throws -> ZoneAllocProcess.Result {
        try zonealloc.run(arguments, in: directory.url, input: input)
    }

    /// Runs `zonealloc` and requires it to succeed.
    @discardableResult
    private func succeed(
        _ arguments: String...,
        input: Data = Data(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ZoneAllocProcess.Result {
        let result = try zonealloc.run(arguments, in: directory.url, input: input)
        try #require(
            result.status == 0,
            "zonealloc \(arguments.joined(separator: " ")) exited with \(result.status): \(result.error)",
            sourceLocation: sourceLocation
        )
        return result
    }

    private func reportJSON(_ arguments: String...) throws -> ReportDocument {
        let result = try zonealloc.run(["device", "report"] + arguments + ["--json"], in: directory.url)
        try #require(result.status == 0, "report failed: \(result.error)")
        return try JSONDecoder().decode(ReportDocument.self, from: result.output)
    }

    /// The issue's example device: 64 zones of 64 MiB, 60 MiB capacity, 2 conventional.
    @discardableResult
    private func createAcceptanceDevice() throws -> ZoneAllocProcess.Result {
        try succeed(
            "device",
            "create",
            "d.img",
            "--zones",
            "64",
            "--zone-size",
            "64M",
            "--zone-capacity",
            "60M",
            "--conventional",
            "2",
            "--max-open",
            "8",
            "--max-active",
            "12"
        )
    }

    /// A small device: 8 zones of 1 MiB (the first conventional), 4096-byte blocks.
    private func createSmallDevice() throws {
        try succeed("device", "create", "s.img", "--zones", "8", "--zone-size", "1M", "--conventional", "1")
    }

    @Test func createThenReportListsTheAcceptanceZones() throws {
        defer { directory.remove() }
        let created = try createAcceptanceDevice()
        #expect(created.lines.count == 1)
        #expect(created.stdout.contains("64 zones of 64 MiB"))
        #expect(created.stdout.contains("max open 8, max active 12"))

        let report = try succeed("device", "report", "d.img")
        let lines = report.lines
        #expect(lines.count == 1 + 64 + 1)
        let zones = lines.dropFirst().dropLast().map { $0.split(separator: " ").map(String.init) }
        let conventional = zones.filter { $0.suffix(2) == ["cnv", "NOT_WP"] }
        let empty = zones.filter { $0.suffix(2) == ["swr", "EMPTY"] }
        #expect(conventional.count == 2)
        #expect(empty.count == 62)
        #expect(empty.allSatisfy { $0[4...5] == ["60", "MiB"] }, "capacity column of the sequential zones")
        #expect(lines.last == "64 zones: 2 NOT_WP, 62 EMPTY")

        let document = try reportJSON("d.img")
        #expect(document.device == "d.img")
        #expect(document.zones.count == 64)
        #expect(document.zones.filter { $0.condition == "NOT_WP" && $0.type == "cnv" }.count == 2)
        let sequential = document.zones.filter { $0.condition == "EMPTY" && $0.type == "swr" }
        #expect(sequential.count == 62)
        #expect(sequential.allSatisfy { $0.capacity == 60 << 20 && $0.writePointer == $0.start })
        #expect(document.zones.map(\.index) == Array(0..<64))
        // The same data as the table: formatting the JSON rows gives the printed table.
        #expect(ReportFormatter.table(document.zones) == lines)
    }

    @Test func infoDescribesTheDevice() throws {
        defer { directory.remove() }
        try createAcceptanceDevice()
        let info = try succeed("device", "info", "d.img")
        #expect(info.stdout.contains("zones:               64"))
        #expect(info.stdout.contains("conventional zones:  2"))
        #expect(info.stdout.contains("max open zones:      8"))
        #expect(info.stdout.contains("max active zones:    12"))
        #expect(info.stdout.contains("logical block size:  4096 bytes"))
        let json = try succeed("device", "info", "d.img", "--json")
        let document = try JSONDecoder().decode(DeviceInfoDocument.self, from: json.output)
        #expect(document.zoneCount == 64 && document.conventionalZones == 2 && document.sequentialZones == 62)
        #expect(document.zoneCapacity == 60 << 20)
        #expect(document.maxOpenZones == 8 && document.maxActiveZones == 12)
    }

    @Test func aWriteAwayFromTheWritePointerIsRefusedAndChangesNothing() throws {
        defer { directory.remove() }
        try createSmallDevice()
        let zoneStart: UInt64 = 2 << 20
        let wrote = try succeed("device", "write", "s.img", "--zone", "2", "--length", "8K")
        #expect(wrote.stdout == "wrote 8192 bytes at \(zoneStart) (zone 2, write pointer now \(zoneStart + 8192))\n")

        // After the process exited cleanly the zone is as it was left: implicitly open (a clean
        // close of an emulated image keeps zone conditions; only a crash turns open zones closed).
        let before = try reportJSON("s.img", "--zone", "2")
        #expect(before.zones.map(\.condition) == ["IMP_OPEN"])
        #expect(before.zones.first?.writePointer == zoneStart + 8192)

        for offset in [zoneStart, zoneStart + 16384] {
            let refused = try run("device", "write", "s.img", "--offset", "\(offset)", "--length", "4K")
            #expect(refused.status == 1)
            #expect(refused.stdout.isEmpty)
            #expect(refused.error.hasPrefix("zonealloc: error: EIO"))
            #expect(refused.error.contains("zone 2 "), "names the zone: \(refused.error)")
            #expect(refused.error.contains("write pointer \(zoneStart + 8192)"), "names the write pointer")
            #expect(refused.error.contains("offset \(offset)"), "names the offset")
            #expect(try reportJSON("s.img", "--zone", "2") == before)
        }

        let verbose = try run("device", "write", "s.img", "--offset", "\(zoneStart)", "--length", "4K", "--verbose")
        #expect(verbose.status == 1)
        #expect(verbose.error.contains("thrown at"))
    }

    @Test func theNinthExplicitOpenFailsWithETOOMANYREFS() throws {
        defer { directory.remove() }
        try createAcceptanceDevice()
        for zone in 2..<10 {
            let opened = try succeed("device", "open", "d.img", "--zone", "\(zone)")
            #expect(opened.stdout == "opened zone \(zone): now EXP_OPEN\n")
        }
        let ninth = try run("device", "open", "d.img", "--zone", "10")
        #expect(ninth.status == 1)
        #expect(ninth.error.hasPrefix("zonealloc: error: ETOOMANYREFS"), "\(ninth.error)")
        #expect(ninth.error.contains("zone 10"))
        let open = try reportJSON("d.img", "--condition", "EXP_OPEN")
        #expect(open.zones.map(\.index) == Array(2..<10))

        let closed = try succeed("device", "close", "d.img", "--zones", "2-9")
        #expect(closed.stdout == "closed zones 2-9: now 8 EMPTY\n")
        try succeed("device", "open", "d.img", "--zone", "10")
    }

    @Test func zoneManagementCommandsChangeConditions() throws {
        defer { directory.remove() }
        try createSmallDevice()
        try succeed("device", "write", "s.img", "--zone", "3", "--length", "4K")
        #expect(try succeed("device", "finish", "s.img", "--zone", "3").stdout == "finished zone 3: now FULL\n")
        #expect(
            try succeed("device", "open", "s.img", "--zones", "4..5").stdout == "opened zones 4-5: now 2 EXP_OPEN\n"
        )
        let reset = try succeed("device", "reset", "s.img", "--all")
        #expect(reset.stdout == "reset all zones (RESET ALL): now 1 NOT_WP, 7 EMPTY\n")

        let refused = try run("device", "close", "s.img", "--zone", "0")
        #expect(refused.status == 1)
        #expect(refused.error.contains("conventional"))
        let missing = try run("device", "reset", "s.img", "--zone", "8")
        #expect(missing.status == 64)
        #expect(missing.error == "zonealloc: error: zone 8 does not exist: s.img has zones 0-7\n")
    }

    @Test func dataWrittenFromAFileReadsBack() throws {
        defer { directory.remove() }
        try createSmallDevice()
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<12288).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try data.write(to: directory.url.appendingPathComponent("in.bin"))
        let zoneStart = 3 << 20

        let wrote = try succeed("device", "write", "s.img", "--zone", "3", "--input", "in.bin")
        #expect(wrote.stdout == "wrote 12288 bytes at \(zoneStart) (zone 3, write pointer now \(zoneStart + 12288))\n")
        let fromStdin = try succeed("device", "write", "s.img", "--zone", "3", "--input", "-", input: data)
        #expect(fromStdin.stdout.hasPrefix("wrote 12288 bytes at \(zoneStart + 12288) "))

        try succeed("device", "read", "s.img", "--offset", "\(zoneStart)", "--length", "12K", "--output", "out.bin")
        #expect(try Data(contentsOf: directory.url.appendingPathComponent("out.bin")) == data)
        let raw = try succeed("device", "read", "s.img", "--offset", "3M", "--length", "24K", "--output", "-")
        #expect(raw.output == data + data)

        let dump = try succeed("device", "read", "s.img", "--offset", "\(zoneStart + 24576)", "--length", "4K")
        #expect(
            dump.lines == [
                "00306000: ffff ffff ffff ffff ffff ffff ffff ffff  ................",
                "*",
                "00306ff0: ffff ffff ffff ffff ffff ffff ffff ffff  ................",
            ]
        )

        try data.prefix(1000).write(to: directory.url.appendingPathComponent("odd.bin"))
        let odd = try run("device", "write", "s.img", "--zone", "3", "--input", "odd.bin")
        #expect(odd.status == 1)
        #expect(odd.error.contains("not a multiple of the logical block size 4096"))
    }

    @Test func zoneAppendPrintsWhereTheDataLanded() throws {
        defer { directory.remove() }
        try createSmallDevice()
        let zoneStart = 5 << 20
        let first = try succeed(
            "device",
            "write",
            "s.img",
            "--zone",
            "5",
            "--append",
            "--length",
            "8K",
            "--pattern",
            "0x41"
        )
        #expect(first.stdout == "appended 8192 bytes at \(zoneStart) (zone 5, write pointer now \(zoneStart + 8192))\n")
        let second = try succeed("device", "write", "s.img", "--zone", "5", "--append", "--length", "4K", "--no-flush")
        #expect(second.stdout.hasPrefix("appended 4096 bytes at \(zoneStart + 8192) "))
        let raw = try succeed("device", "read", "s.img", "--offset", "5M", "--length", "12K", "--output", "-")
        #expect(raw.output == Data(repeating: 0x41, count: 8192) + Data(repeating: 0xA5, count: 4096))
    }

    @Test func infoOnDevNullSaysItIsNotAZonedBlockDevice() throws {
        defer { directory.remove() }
        let result = try run("device", "info", "/dev/null")
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.error.hasPrefix("zonealloc: error: "))
        #expect(result.error.contains("not a zoned block device"))
        let missing = try run("device", "report", "nothing-here.img")
        #expect(missing.status == 1)
        #expect(missing.error.contains("ENOENT"))
    }

    @Test(arguments: [
        (["--zone-size", "3M"], "--zone-size 3M (3145728 bytes) is not a power of two"),
        (["--zone-size", "4M", "--block-size", "1000"], "--block-size must be 512 or 4096, got 1000"),
        (["--zone-size", "4M", "--zones", "0"], "--zones must be at least 1, got 0"),
        (["--zone-size", "4Q"], "--zone-size: '4Q' is not a size: unknown unit 'Q'"),
    ])
    func invalidCreateArgumentsExitWith64(options: [String], reason: String) throws {
        defer { directory.remove() }
        var arguments = ["device", "create", "bad.img"] + options
        if !options.contains("--zones") { arguments += ["--zones", "4"] }
        let result = try zonealloc.run(arguments, in: directory.url)
        #expect(result.status == 64)
        let first = try #require(result.error.split(separator: "\n").first)
        #expect(first.hasPrefix("Error: \(reason)"), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("bad.img")))
    }

    @Test func createRefusesToReplaceAnImageWithoutForce() throws {
        defer { directory.remove() }
        try createSmallDevice()
        let again = try run("device", "create", "s.img", "--zones", "4", "--zone-size", "1M")
        #expect(again.status == 1)
        #expect(again.error.hasPrefix("zonealloc: error: EEXIST"))
        #expect(again.error.contains("--force"))
        try succeed("device", "create", "s.img", "--zones", "4", "--zone-size", "1M", "--force")
    }

    @Test func createForceLeavesAnImageInUseAlone() throws {
        defer { directory.remove() }
        try createSmallDevice()
        // Hold the lock an emulated device holds while a process drives it.
        let holder = try FileDescriptor.open(FilePath(directory.path("s.img")), .readOnly)
        defer { try? holder.close() }
        #expect(flock(holder.rawValue, LOCK_EX | LOCK_NB) == 0)
        let replaced = try run("device", "create", "s.img", "--zones", "4", "--zone-size", "2M", "--force")
        #expect(replaced.status == 1)
        #expect(replaced.error.hasPrefix("zonealloc: error: s.img is in use by another process"))
        _ = flock(holder.rawValue, LOCK_UN)
        let info = try succeed("device", "info", "s.img", "--json")
        #expect(try JSONDecoder().decode(DeviceInfoDocument.self, from: info.output).zoneSize == 1 << 20)
    }

    @Test func demoRunsCopygcVerifiesEveryValueAndPrintsTheReport() throws {
        defer { directory.remove() }
        let result = try succeed("demo", "--dir", directory.path("demo"), "--keep")
        let lines = result.lines
        #expect(lines.contains { $0.contains("formatted it as a store") })
        #expect(lines.contains { $0.contains("copygc ran") && $0.contains("moving") })
        #expect(lines.contains { $0.contains("Copygc since open:") && $0.contains("buckets freed") })
        #expect(lines.contains { $0.contains("verified every value") && $0.contains("all match") })
        #expect(lines.contains { $0.contains("reopened the store") && $0.contains("verified all") })
        #expect(lines.contains { $0.hasPrefix("40 zones: 2 NOT_WP") })
        let image = directory.path("demo/zonealloc-demo.img")
        #expect(lines.last == "kept \(image); try: zonealloc stat \(image)")
        // The kept image is a normal emulated device holding the store.
        let report = try reportJSON(image, "--condition", "NOT_WP")
        #expect(report.zones.map(\.index) == [0, 1])
        let stat = try succeed("stat", image)
        #expect(stat.lines.first?.contains("keys") == true)
    }
}
