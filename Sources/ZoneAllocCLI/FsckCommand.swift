import ArgumentParser
import ZoneStore

/// `zonealloc fsck DEV [--repair]`: checks a store against the architecture's invariants.
struct FsckCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check a store: superblock, journal, buckets against write pointers, generations, checksums.",
        discussion: """
            Reads every value and checks its checksum. Without --repair nothing is written. With \
            --repair, interrupted resets and finishes are completed, the unacknowledged journal \
            tail is dropped, damaged superblock copies are rewritten and the journal is compacted; \
            acknowledged data is never dropped. Exit status: 0 when no problem remains, 1 otherwise.
            """
    )

    /// The device or image.
    @Argument(help: "A device holding a zonealloc store.")
    var device: String

    /// Repair.
    @Flag(help: "Fix what can be fixed without losing acknowledged data, then check again.")
    var repair = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Runs the check.
    func run() throws {
        let report = try StoreSession.run(verbose: global.verbose) {
            try DeviceSession.with(device, verbose: global.verbose) { device in
                try ZoneStore.check(device, repair: repair, options: StoreSession.options(verbose: global.verbose))
            }
        }
        for finding in report.findings { print(finding.description) }
        let problems = report.findings.filter { $0.severity == .problem }.count
        print(
            "\(device): \(report.keys) keys, \(report.extents) extents, \(SizeFormatter.string(report.bytesVerified)) "
                + "verified, \(report.zones) zones: "
                + (problems == 0 ? "clean" : "\(problems) problem\(problems == 1 ? "" : "s")")
        )
        if problems > 0 { throw ExitCode.failure }
    }
}
