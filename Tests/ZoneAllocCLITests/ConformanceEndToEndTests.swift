import Foundation
import Testing

@testable import ZoneAllocCLI

/// Runs the built `zonealloc conformance` on emulated images of every profile.
@Suite struct ConformanceEndToEndTests {
    private let zonealloc: ZoneAllocProcess
    private let directory: TemporaryDirectory

    init() throws {
        zonealloc = try ZoneAllocProcess()
        directory = try TemporaryDirectory()
    }

    /// Runs `zonealloc`; the image names in `arguments` are relative to the test's directory.
    private func run(_ arguments: String...) throws -> ZoneAllocProcess.Result {
        try zonealloc.run(arguments, in: directory.url)
    }

    /// Creates `name` with `profile`: 16 zones of 1 MiB shaped by the profile's rules.
    private func create(_ name: String, profile: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var arguments = ["device", "create", name, "--zones", "16", "--zone-size", "1M", "--max-open", "4"]
        switch profile {
        case "zns": arguments += ["--zone-capacity", "768K", "--max-active", "6"]
        case "zbc": arguments += ["--conventional", "2"]
        default: arguments += ["--conventional", "2", "--max-active", "6"]
        }
        let result = try zonealloc.run(arguments + ["--profile", profile], in: directory.url)
        try #require(result.status == 0, "create failed: \(result.error)", sourceLocation: sourceLocation)
    }

    /// The JSON object of `data`.
    private func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test(arguments: ["nullblk", "zns", "zbc"])
    func theSuitePassesOnEveryProfileAndLeavesZonesReset(profile: String) throws {
        defer { directory.remove() }
        try create("d.img", profile: profile)
        let result = try run("conformance", "d.img", "--junit", "r.xml")
        #expect(result.status == 0, "\(result.stdout)\n\(result.error)")
        #expect(
            result.lines.first?.contains(
                "variant \(profile) (detected: an emulated device with the \(profile) profile)"
            ) == true
        )
        #expect(result.lines.contains { $0.hasPrefix("   1  Full report, fresh device") && $0.hasSuffix("pass") })
        #expect(result.lines.last?.contains(" passed, 0 failed, ") == true, "\(result.lines.last ?? "")")
        #expect(result.stdout.contains("skip    ") || profile != "zbc", "skipped checks show their reason")
        let junit = try String(contentsOfFile: directory.path("r.xml"), encoding: .utf8)
        #expect(junit.hasPrefix("<?xml"))
        #expect(junit.contains("failures=\"0\""))
        #expect(junit.contains("<testcase classname=\"ZoneConformance.B\" name=\"12 "))

        let info = try object(try run("device", "info", "d.img", "--json").output)
        #expect(info["profile"] as? String == profile)
        let report = try object(try run("device", "report", "d.img", "--json").output)
        let zones = try #require(report["zones"] as? [[String: Any]])
        #expect(zones.allSatisfy { ["EMPTY", "NOT_WP"].contains($0["condition"] as? String ?? "") }, "\(zones)")
    }

    @Test func aFailingCheckShowsExpectedAndObservedAndExitsWith1() throws {
        defer { directory.remove() }
        try create("n.img", profile: "nullblk")
        let result = try run("conformance", "n.img", "--variant", "zns", "--only", "37,12")
        #expect(result.status == 1)
        let line = try #require(result.lines.first { $0.hasPrefix("  37 ") })
        #expect(line.contains("fail"))
        #expect(
            line.contains(
                "expected CLOSE unwritten EXP_OPEN zone 2: zone 2 CLOSED, wp +0; observed zone 2 EMPTY, wp +0"
            )
        )
        let summary = result.lines.last ?? ""
        #expect(summary.hasPrefix("1 passed, 1 failed, 0 skipped (2 run) in ") && summary.hasSuffix("; failed: 37"))
    }

    @Test func jsonIsTheConformanceReport() throws {
        defer { directory.remove() }
        try create("s.img", profile: "zbc")
        let result = try run("conformance", "s.img", "--only", "35,39-40", "--json")
        #expect(result.status == 0, "\(result.error)")
        let report = try object(result.output)
        #expect(report["variant"] as? String == "zbc")
        let summary = try #require(report["summary"] as? [String: Int])
        #expect(summary == ["passed": 3, "failed": 0, "skipped": 0])
        let results = try #require(report["results"] as? [[String: Any]])
        #expect(results.compactMap { $0["number"] as? Int } == [35, 39, 40])
    }

    @Test func theDifferentialRunAgreesForEverySeed() throws {
        defer { directory.remove() }
        try create("z.img", profile: "zns")
        let result = try run("conformance", "z.img", "--differential", "--seed", "1", "--seed", "2,3", "--ops", "400")
        #expect(result.status == 0, "\(result.stdout)\n\(result.error)")
        #expect(
            result.lines.first?.hasPrefix(
                "differential run on z.img: zonealloc emulated NVMe ZNS; reference: emulated zns profile"
            ) == true
        )
        for seed in 1...3 { #expect(result.stdout.contains("seed \(seed): no divergence in 400 operations")) }
        #expect(result.lines.last == "3 seeds, no divergence")

        let json = try run("conformance", "z.img", "--differential", "--seed", "7", "--ops", "200", "--json")
        #expect(json.status == 0)
        let reports = try #require(try JSONSerialization.jsonObject(with: json.output) as? [[String: Any]])
        #expect(reports.count == 1)
        #expect(reports[0]["seed"] as? Int == 7 && reports[0]["executedOperations"] as? Int == 200)
        #expect(reports[0]["divergence"] == nil || reports[0]["divergence"] is NSNull)
    }

    @Test func aDivergenceIsReportedWithBothSidesAndExitsWith1() throws {
        defer { directory.remove() }
        // A null_blk image checked against a ZBC reference: they differ in errnos and zone rules.
        let created = try run(
            "device",
            "create",
            "m.img",
            "--zones",
            "16",
            "--zone-size",
            "1M",
            "--conventional",
            "2",
            "--max-open",
            "4"
        )
        try #require(created.status == 0)
        let result = try run(
            "conformance",
            "m.img",
            "--differential",
            "--variant",
            "zbc",
            "--ops",
            "2000",
            "--junit",
            "d.xml"
        )
        #expect(result.status == 1)
        let diverged = try #require(result.lines.first { $0.hasPrefix("seed 1: DIVERGED at operation ") })
        #expect(diverged.hasSuffix(")"))
        #expect(result.stdout.contains("    device:    "))
        #expect(result.stdout.contains("    reference: "))
        #expect(result.lines.last == "1 seeds, diverged with seed 1")
        let junit = try String(contentsOfFile: directory.path("d.xml"), encoding: .utf8)
        #expect(junit.contains("failures=\"1\"") && junit.contains("type=\"divergence\""))
    }

    @Test func listShowsTheChecksWithoutADevice() throws {
        defer { directory.remove() }
        let result = try run("conformance", "--list")
        #expect(result.status == 0)
        #expect(result.lines.first == "ITEM  SECTION  TITLE")
        #expect(result.stdout.contains("  37  D        CLOSE an open zone whose wp == S → EMPTY"))
        #expect(result.stdout.contains("      zns: QEMU ZNS leaves it CLOSED"))
        #expect(result.lines.last?.hasSuffix("I. libzbd / wrapper-specific behaviour") == true)
    }

    @Test func usageErrorsExitWith64AndOneLine() throws {
        defer { directory.remove() }
        let missing = try run("conformance")
        #expect(missing.status == 64)
        #expect(missing.error.contains("missing DEV"))
        let nothing = try run("conformance", "nothing.img")
        #expect(nothing.status == 1, "a path that does not exist is a device error")
        #expect(nothing.error.contains("zonealloc: error:"))
    }

    /// A block device of the test machine (not zoned): the refusal comes before the device is
    /// opened, so nothing is written to it.
    static let blockDevice: String? = ["/dev/loop0", "/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/zram0"].first {
        var info = stat()
        return stat($0, &info) == 0 && (info.st_mode & S_IFMT) == S_IFBLK
    }

    @Test(.enabled(if: blockDevice != nil, "no block device to try the refusal on"))
    func aRealDeviceIsRefusedWithoutYesDestroyData() throws {
        defer { directory.remove() }
        let path = try #require(Self.blockDevice)
        let result = try run("conformance", path)
        #expect(result.status == 64)
        #expect(
            result.error == "zonealloc: error: \(path) is a block device and the conformance run resets every zone and "
                + "overwrites data on it; pass --yes-destroy-data to run it anyway\n"
        )
        let differential = try run("conformance", path, "--differential")
        #expect(differential.status == 64)
    }
}
