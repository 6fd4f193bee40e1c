import ArgumentParser
import Foundation
import ZoneAlloc
import ZoneStore

/// `zonealloc gc DEV [--victims N]`: runs a copygc pass with a progress display.
struct StoreGCCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Run a copygc pass: evacuate the most fragmented buckets and reset their zones.",
        discussion: """
            Live data of each victim is rewritten through the copygc write point, the index is \
            updated (only where it still points at the old place), the moves are committed, and \
            then the victim's zone is reset.
            """
    )

    /// The device or image.
    @Argument(help: "A device holding a zonealloc store.")
    var device: String

    /// Most buckets to evacuate.
    @Option(help: "Evacuate at most this many buckets.")
    var victims = 16

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options; a failure exits with status 64.
    func validate() throws {
        guard victims > 0 else { throw ValidationError("--victims must be at least 1") }
    }

    /// Runs the pass, printing a progress line after each group of victims it evacuates.
    func run() throws {
        let lines = try StoreSession.with(device, verbose: global.verbose) { store -> [String] in
            let before = store.statistics()
            let report = try store.collectGarbage(maxVictims: victims) { progress in
                let bar = String(repeating: "#", count: progress.victimsDone * 20 / max(progress.victims, 1))
                    .padding(toLength: 20, withPad: ".", startingAt: 0)
                print(
                    "  [\(bar)] \(progress.victimsDone)/\(progress.victims) buckets, "
                        + "\(SizeFormatter.string(progress.bytesMoved)) moved"
                )
            }
            let after = store.statistics()
            var lines: [String] = []
            switch report.outcome {
            case .nothingToFree(let why):
                lines.append("copygc: nothing to free (\(why))")
            case .busy:
                lines.append("copygc: another pass is running")
            case .evacuated:
                lines.append(
                    "copygc: evacuated \(report.victims.count) buckets, freed \(report.bucketsFreed), moved "
                        + "\(SizeFormatter.string(report.bytesMoved)), \(report.racesLost) races lost"
                )
                if let reason = report.stoppedEarly {
                    lines.append("copygc stopped early, the rest waits for the next pass: \(reason)")
                }
            }
            let freeBefore = before.allocator.bucketsByState[.free] ?? 0
            let freeAfter = after.allocator.bucketsByState[.free] ?? 0
            lines.append("free buckets: \(freeBefore) before, \(freeAfter) after")
            return lines
        }
        for line in lines { print(line) }
    }
}
