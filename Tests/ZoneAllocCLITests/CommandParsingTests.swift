import ArgumentParser
import Testing
import ZonedStorage

@testable import ZoneAllocCLI

/// In-process parsing and validation through `ZoneAllocCommand.parseAsRoot`.
@Suite struct CommandParsingTests {
    /// Parses `arguments` and returns the error it fails with (and its exit code and message).
    private func parseFailure(_ arguments: [String]) -> (code: Int32, message: String)? {
        do {
            _ = try ZoneAllocCommand.parseAsRoot(arguments)
            return nil
        } catch {
            return (ZoneAllocCommand.exitCode(for: error).rawValue, ZoneAllocCommand.message(for: error))
        }
    }

    @Test func createParsesTheAcceptanceGeometry() throws {
        let parsed = try ZoneAllocCommand.parseAsRoot([
            "device", "create", "d.img", "--zones", "64", "--zone-size", "64M", "--zone-capacity", "60M",
            "--conventional", "2", "--max-open", "8", "--max-active", "12",
        ])
        let create = try #require(parsed as? DeviceCreate)
        let geometry = try create.validatedGeometry()
        #expect(geometry.zoneCount == 64)
        #expect(geometry.zoneSize == 64 << 20)
        #expect(geometry.zoneCapacity == 60 << 20)
        #expect(geometry.conventionalZones == 2)
        #expect(geometry.logicalBlockSize == 4096)
        #expect(geometry.maxOpenZones == 8)
        #expect(geometry.maxActiveZones == 12)
        #expect(create.force == false)
    }

    @Test func createSummaryExplainsClampedLimits() throws {
        let parsed = try ZoneAllocCommand.parseAsRoot([
            "device", "create", "d.img", "--zones", "8", "--zone-size", "1M", "--conventional", "2",
            "--max-open", "5", "--max-active", "6",
        ])
        let create = try #require(parsed as? DeviceCreate)
        let summary = DeviceCreate.summary(
            of: try create.validatedGeometry(),
            requested: try create.geometry(),
            path: "d.img"
        )
        #expect(summary.hasPrefix("created d.img: 8 zones of 1 MiB (8 MiB)"))
        #expect(summary.contains("max open 5"))
        #expect(summary.contains("max active no limit (--max-active 6 is not below the 6 sequential zones)"))
    }

    @Test(arguments: [
        (["--zones", "4", "--zone-size", "3M"], "not a power of two"),
        (["--zones", "4", "--zone-size", "4M", "--block-size", "1000"], "--block-size must be 512 or 4096"),
        (["--zones", "0", "--zone-size", "4M"], "--zones must be at least 1"),
        (["--zones", "4", "--zone-size", "4Q"], "unknown unit 'Q'"),
        (["--zones", "4", "--zone-size", "4M", "--zone-capacity", "5M"], "at most the zone size"),
        (["--zones", "4", "--zone-size", "4M", "--zone-capacity", "6K"], "not a multiple of the physical block size"),
        (["--zones", "4", "--zone-size", "4M", "--conventional", "4"], "less than --zones 4"),
        (["--zones", "4", "--zone-size", "4M", "--max-open=-1"], "--max-open must be 0"),
        (["--zones", "16777216", "--zone-size", "1T"], "too large"),
    ])
    func createRejectsBadGeometryWithExitCode64(options: [String], reason: String) throws {
        let failure = try #require(parseFailure(["device", "create", "d.img"] + options))
        #expect(failure.code == 64)
        #expect(failure.message.contains(reason), "\(failure.message)")
        #expect(!failure.message.contains("\n"))
    }

    @Test(arguments: [
        (["device", "report", "d", "--zone", "1", "--zones", "1-2"], "cannot be used together"),
        (["device", "report", "d", "--zones", "5-2"], "comes after"),
        (["device", "report", "d", "--zone=-1"], "start at 0"),
        (["device", "report", "d", "--condition", "EMPTY,bogus"], "'bogus' is not a zone condition"),
        (["device", "open", "d"], "--zone N, --zones A-B or --all"),
        (["device", "reset", "d", "--all", "--zone", "3"], "--all cannot be combined"),
        (["device", "finish", "d", "--zone", "3", "--zones", "3-4"], "cannot be used together"),
        (["device", "write", "d", "--offset", "0", "--zone", "1", "--length", "4K"], "--offset and --zone"),
        (["device", "write", "d", "--length", "4K"], "--offset BYTES or --zone N"),
        (["device", "write", "d", "--offset", "0", "--append", "--length", "4K"], "--append needs --zone"),
        (["device", "write", "d", "--zone", "1"], "give --length"),
        (["device", "write", "d", "--zone", "1", "--length", "1000"], "not a multiple of 512"),
        (["device", "write", "d", "--zone", "1", "--length", "0"], "greater than 0"),
        (["device", "write", "d", "--zone", "1", "--length", "4K", "--pattern", "300"], "is not a byte"),
        (["device", "write", "d", "--zone", "1", "--input", "f", "--pattern", "1"], "--input and --pattern"),
        (["device", "write", "d", "--offset", "12Z", "--length", "4K"], "--offset: '12Z' is not a size"),
        (["device", "read", "d", "--offset", "0", "--length", "0"], "greater than 0"),
        (["device", "read", "d", "--offset", "1.5K", "--length", "4K"], "fractions"),
    ])
    func rejectsBadUsageWithExitCode64(arguments: [String], reason: String) throws {
        let failure = try #require(parseFailure(arguments))
        #expect(failure.code == 64)
        #expect(failure.message.contains(reason), "\(failure.message)")
    }

    @Test func reportAcceptsZoneRangesAndConditionLists() throws {
        let parsed = try ZoneAllocCommand.parseAsRoot([
            "device", "report", "d.img", "--zones", "2..9", "--condition", "EMPTY, oi,exp_open,not-wp",
        ])
        let report = try #require(parsed as? DeviceReport)
        #expect(try report.selection.selectedZones() == 2...9)
        #expect(try report.filters() == [.empty, .implicitOpen, .explicitOpen, .notWritePointer])
        #expect(report.json == false)
    }

    @Test func zoneSelectionIsCheckedAgainstTheDevice() throws {
        let parsed = try ZoneAllocCommand.parseAsRoot(["device", "open", "d.img", "--zones", "60-64"])
        let open = try #require(parsed as? DeviceOpen)
        let info = DeviceInfo(
            vendorID: "test",
            capacity: 64 << 20,
            zoneSize: 1 << 20,
            zoneCount: 64,
            logicalBlockSize: 4096,
            physicalBlockSize: 4096,
            maxOpenZones: .unlimited,
            maxActiveZones: .unlimited,
            model: .hostManaged
        )
        let error = #expect(throws: ValidationError.self) {
            try open.options.selection.resolve(against: info, path: "d.img")
        }
        #expect(error?.message == "zone 64 does not exist: d.img has zones 0-63")
        let inRange = try #require(
            try ZoneAllocCommand.parseAsRoot(["device", "close", "d", "--zone", "63"]) as? DeviceClose
        )
        #expect(try inRange.options.selection.resolve(against: info, path: "d") == 63..<64)
    }

    @Test func writeDefaultsToThePatternByte() throws {
        let parsed = try ZoneAllocCommand.parseAsRoot(["device", "write", "d.img", "--zone", "3", "--length", "8K"])
        let write = try #require(parsed as? DeviceWrite)
        #expect(try write.fillByte() == 0xA5)
        #expect(write.noFlush == false)
        #expect(write.append == false)
        let flagged = try #require(
            try ZoneAllocCommand.parseAsRoot([
                "device", "write", "d", "--zone", "3", "--append", "--no-flush", "--pattern", "0x5a", "--length", "4K",
                "--verbose",
            ]) as? DeviceWrite
        )
        #expect(try flagged.fillByte() == 0x5A)
        #expect(flagged.noFlush && flagged.append && flagged.global.verbose)
    }

    @Test func demoTakesADirectoryAndKeep() throws {
        let demo = try #require(
            try ZoneAllocCommand.parseAsRoot(["demo", "--dir", "/tmp/x", "--keep"]) as? DemoCommand
        )
        #expect(demo.dir == "/tmp/x")
        #expect(demo.keep)
    }
}
