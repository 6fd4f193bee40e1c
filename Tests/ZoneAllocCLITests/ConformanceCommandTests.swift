import ArgumentParser
import Testing
import ZoneConformance
import ZonedStorage

@testable import ZoneAllocCLI

/// In-process parsing and validation of `zonealloc conformance` and `device create --profile`.
@Suite struct ConformanceCommandTests {
    /// Parses `arguments` and returns the error it fails with (and its exit code and message).
    private func parseFailure(_ arguments: [String]) -> (code: Int32, message: String)? {
        do {
            _ = try ZoneAllocCommand.parseAsRoot(arguments)
            return nil
        } catch {
            return (ZoneAllocCommand.exitCode(for: error).rawValue, ZoneAllocCommand.message(for: error))
        }
    }

    @Test func conformanceParsesEveryOption() throws {
        let parsed = try ZoneAllocCommand.parseAsRoot([
            "conformance", "d.img", "--only", "1,5,10-20", "--variant", "nvme", "--json", "--junit", "r.xml",
            "--max-zones", "12",
        ])
        let command = try #require(parsed as? ConformanceCommand)
        #expect(command.device == "d.img")
        #expect(try command.selectedChecks().map(\.number) == [1, 5] + Array(11...20))
        #expect(command.variant == .zns)
        #expect(command.json && command.junit == "r.xml" && command.maxZones == 12)
        #expect(!command.differential && !command.yesDestroyData)
    }

    @Test func differentialTakesRepeatedAndCommaSeparatedSeeds() throws {
        let parsed = try ZoneAllocCommand.parseAsRoot([
            "conformance", "/dev/nullb0", "--differential", "--seed", "1", "--seed", "2,3", "--seed", "2", "--ops",
            "500", "--yes-destroy-data",
        ])
        let command = try #require(parsed as? ConformanceCommand)
        #expect(command.differential && command.ops == 500 && command.yesDestroyData)
        #expect(try ConformanceSeeds.parse(command.seeds) == [1, 2, 3])
        #expect(try ConformanceSeeds.parse([]) == [1], "seed 1 by default")
    }

    @Test func listNeedsNoDevice() throws {
        let command = try #require(try ZoneAllocCommand.parseAsRoot(["conformance", "--list"]) as? ConformanceCommand)
        #expect(command.list && command.device == nil)
    }

    @Test(arguments: [
        (["conformance"], "missing DEV"),
        (["conformance", "d", "--only", "1,99"], "no conformance check for checklist item 99"),
        (["conformance", "d", "--only", "x"], "'x' in 'x' is neither"),
        (["conformance", "d", "--differential", "--only", "12"], "use one or the other"),
        (["conformance", "d", "--seed", "1"], "add --differential"),
        (["conformance", "d", "--ops", "100"], "add --differential"),
        (["conformance", "d", "--differential", "--ops", "0"], "--ops must be between 1"),
        (["conformance", "d", "--differential", "--seed", "1,x"], "'x' is not a seed"),
        (["conformance", "d", "--variant", "floppy"], "floppy"),
        (["conformance", "d", "--max-zones", "1"], "--max-zones must be at least 2"),
        (["device", "create", "d", "--zones", "8", "--zone-size", "1M", "--profile", "tape"], "tape"),
        (
            ["device", "create", "d", "--zones", "8", "--zone-size", "1M", "--conventional", "1", "--profile", "zns"],
            "no conventional zones"
        ),
        (
            [
                "device", "create", "d", "--zones", "8", "--zone-size", "1M", "--zone-capacity", "512K", "--profile",
                "zbc",
            ],
            "zone capacity equal to the zone size"
        ),
        (
            ["device", "create", "d", "--zones", "8", "--zone-size", "1M", "--max-active", "3", "--profile", "smr"],
            "no active-zone limit"
        ),
    ])
    func rejectsBadUsageWithExitCode64(arguments: [String], reason: String) throws {
        let failure = try #require(parseFailure(arguments), "\(arguments) parsed")
        #expect(failure.code == 64)
        #expect(failure.message.contains(reason), "\(failure.message)")
    }

    @Test func createTakesAProfile() throws {
        let parsed = try ZoneAllocCommand.parseAsRoot([
            "device", "create", "z.img", "--zones", "8", "--zone-size", "1M", "--zone-capacity", "768K",
            "--max-open", "2", "--max-active", "3", "--profile", "nvme",
        ])
        let create = try #require(parsed as? DeviceCreate)
        #expect(create.profile.profile == .zns)
        let summary = DeviceCreate.summary(
            of: try create.validatedGeometry(),
            requested: try create.geometry(),
            path: "z.img",
            profile: create.profile.profile
        )
        #expect(summary.hasSuffix(", zns profile (NVMe ZNS (QEMU))"))
        let plain = try #require(
            try ZoneAllocCommand.parseAsRoot(["device", "create", "n.img", "--zones", "8", "--zone-size", "1M"])
                as? DeviceCreate
        )
        #expect(plain.profile == .nullblk)
    }

    @Test func junitEscapesAndCountsOutcomes() {
        #expect(ConformanceJUnit.escape("a<b & \"c\" 'd'>\u{1}") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(ConformanceText.zoneList([2, 3, 4, 9, 1]) == "2-4, 9, 1")
        #expect(ConformanceText.seconds(0.416) == "0.42 s")
        #expect(ConformanceText.seconds(12.05) == "12.05 s")
    }
}
