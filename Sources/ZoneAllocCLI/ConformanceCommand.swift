import ArgumentParser
import Foundation
import ZoneConformance
import ZonedStorage

/// `zonealloc conformance DEV`: runs the zone-model conformance suite, or a differential run
/// against an emulated reference, on an emulated image or a `/dev` zoned block device.
///
/// Exit status: 0 when every applicable check passed (or no seed diverged), 1 when a check
/// failed, a run diverged or the device failed, 64 for bad usage (including a real device
/// without `--yes-destroy-data`).
struct ConformanceCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Check a zoned device against the Linux zone model (destroys the device's data).",
        discussion: """
            Runs the checks of zone-model-checklist.md (see --list) on DEV and prints one row per \
            check: pass, fail (expected vs observed result, condition, write pointer or errno) or \
            skip (why). Expectations follow DEV's variant: nullblk (the reference), zns (NVMe ZNS) \
            or zbc (SCSI ZBC); --variant auto detects it from an emulated image's profile or the \
            device's vendor string.

            --differential runs the differential check instead: for each seed, the same seeded \
            sequence of --ops random zone operations (opens, closes, finishes, resets of one zone \
            and of all, writes at and away from the write pointer, appends, reads, flushes, many of \
            them refused) goes to DEV and to an emulated reference with DEV's geometry, limits and \
            the variant's profile; the run stops at the first operation after which the two \
            disagree and prints it with both results and both zone states. Give seeds as \
            --seed 1 --seed 2 or --seed 1,2,3 (default: seed 1).

            The run resets every zone of DEV first and last, and writes to the first few \
            sequential zones (--max-zones caps how many) and a conventional zone. A /dev device \
            is refused unless --yes-destroy-data is given.

            Exit status: 0 all applicable checks passed (no divergence), 1 a check failed (a seed \
            diverged) or the device failed, 64 bad usage.
            """
    )

    /// The device or image.
    @Argument(help: "A /dev zoned block device or an emulated image (not needed with --list).")
    var device: String?

    /// List the checks and exit.
    @Flag(help: "List the checks: number, section, title, where the variants differ; then exit.")
    var list = false

    /// The checklist items to run.
    @Option(
        help: ArgumentHelp(
            "Run only these checklist items: numbers and ranges, comma-separated (e.g. 1,5,10-20; a range takes "
                + "the items in it that have a check).",
            valueName: "items"
        )
    )
    var only: String?

    /// Whose expectations apply.
    @Option(
        help: ArgumentHelp(
            "The kind of device: auto (detect), nullblk, zns or zbc. Sets the expected results, and the profile "
                + "of a differential run's reference.",
            valueName: "kind"
        )
    )
    var variant: ConformanceVariantChoice = .auto

    /// Print JSON.
    @Flag(
        help: ArgumentHelp(
            "Print JSON instead of the table: the conformance report, or with --differential an array of one "
                + "report per seed."
        )
    )
    var json = false

    /// Write JUnit XML to this file.
    @Option(help: ArgumentHelp("Also write the results as JUnit XML to this file.", valueName: "file"))
    var junit: String?

    /// Cap on the sequential zones used.
    @Option(
        name: .customLong("max-zones"),
        help: ArgumentHelp(
            "Use at most this many sequential zones (default: enough to reach the device's open and active limits, "
                + "at least 8).",
            valueName: "n"
        )
    )
    var maxZones: Int?

    /// Run the differential check instead of the checklist.
    @Flag(help: "Run the differential check against an emulated reference instead of the checklist suite.")
    var differential = false

    /// The seeds of the differential runs.
    @Option(
        name: .customLong("seed"),
        help: ArgumentHelp(
            "A seed of the differential run; repeat it or give a comma-separated list (--seed 1 --seed 2, "
                + "--seed 1,2,3). Default: 1.",
            valueName: "seed"
        )
    )
    var seeds: [String] = []

    /// Operations per differential run.
    @Option(help: ArgumentHelp("Operations per seed of the differential run (default 2000).", valueName: "n"))
    var ops: Int?

    /// Permission to destroy the data of a real device.
    @Flag(help: "Allow a /dev device: the run resets every zone and overwrites data on it.")
    var yesDestroyData = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options before any device is opened; a failure exits with status 64.
    mutating func validate() throws {
        if !list, device == nil {
            throw ValidationError(
                "missing DEV: name a /dev zoned block device or an emulated image, or pass --list to see the checks"
            )
        }
        if differential, only != nil {
            throw ValidationError(
                "--only selects checklist items, but --differential runs the differential check instead of the "
                    + "checklist; use one or the other"
            )
        }
        if !differential, !seeds.isEmpty || ops != nil {
            throw ValidationError("--seed and --ops set up the differential check; add --differential")
        }
        if let ops, ops < 1 || ops > 10_000_000 {
            throw ValidationError("--ops must be between 1 and 10000000, got \(ops)")
        }
        if let maxZones, maxZones < 2 {
            throw ValidationError("--max-zones must be at least 2, got \(maxZones)")
        }
        _ = try selectedChecks()
        _ = try ConformanceSeeds.parse(seeds)
    }

    /// The checks `--only` selects, or all of them.
    ///
    /// - Throws: `ValidationError` for a selection that cannot be parsed or names no check.
    func selectedChecks() throws(ValidationError) -> [ConformanceCheck] {
        guard let only else { return ConformanceSuite.checks }
        do {
            return try ConformanceSuite.select(only)
        } catch {
            throw ValidationError("--only: \(error.message)")
        }
    }

    /// Runs the suite or the differential check and prints the result.
    func run() throws {
        if list {
            ConformanceText.catalogue(try selectedChecks()).forEach { print($0) }
            return
        }
        guard let path = device else { throw ExitCode.validationFailure }
        let succeeded = try ErrorReporting.run(verbose: global.verbose) { () throws -> Bool in
            if try ZonedDevices.kind(of: path) == .blockDevice, !yesDestroyData {
                throw ValidationError(
                    "\(path) is a block device and the conformance run resets every zone and overwrites data on it; "
                        + "pass --yes-destroy-data to run it anyway"
                )
            }
            let device = try ZonedDevices.open(path)
            return try DeviceSession.using(device) { device in
                differential ? try runDifferential(on: device) : try runSuite(on: device)
            }
        }
        if !succeeded { throw ExitCode.failure }
    }

    /// Runs the checklist suite; returns whether every applicable check passed.
    private func runSuite(on device: any ZonedDevice) throws -> Bool {
        let injector = (device as? EmulatedDevice).map(ZoneConditionInjector.emulated)
        let runner = ConformanceRunner(
            device: device,
            options: .init(variant: variant.variant, injector: injector, maximumWorkingZones: maxZones)
        )
        let verbose = global.verbose
        let report = try runner.run(try selectedChecks()) { result in
            if verbose { Console.printError("conformance: \(result)") }
        }
        if let junit { try write(ConformanceJUnit.document(report), to: junit) }
        if json {
            print(try JSONText.encode(report))
        } else {
            ConformanceText.report(report).forEach { print($0) }
        }
        return report.isSuccess
    }

    /// Runs the differential check for every seed; returns whether no seed diverged.
    private func runDifferential(on device: any ZonedDevice) throws -> Bool {
        var reports: [DifferentialReport] = []
        for seed in try ConformanceSeeds.parse(seeds) {
            let options = DifferentialRun.Options(
                seed: seed,
                operations: ops ?? 2000,
                variant: variant.variant,
                maximumWorkingZones: maxZones
            )
            let report = try DifferentialRun(device: device, options: options).run()
            if global.verbose {
                Console.printError(
                    "differential: seed \(seed): " + (report.divergence.map { "diverged at \($0.index)" } ?? "agreed")
                )
            }
            reports.append(report)
        }
        if let junit { try write(ConformanceJUnit.document(reports), to: junit) }
        if json {
            print(try JSONText.encode(reports))
        } else {
            ConformanceText.differential(reports).forEach { print($0) }
        }
        return reports.allSatisfy(\.isSuccess)
    }

    /// Writes `text` to `path`.
    ///
    /// - Throws: ``CommandFailure`` naming the file.
    private func write(_ text: String, to path: String) throws(CommandFailure) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CommandFailure("cannot write the JUnit report to \(path): \(error.localizedDescription)")
        }
    }
}
