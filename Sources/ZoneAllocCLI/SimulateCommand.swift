import ArgumentParser
import Foundation
import ZoneGC
import ZoneSim

/// `zonealloc simulate`: a write-amplification study of the real allocator and copygc on a
/// metadata-only emulated device.
struct SimulateCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Measure copygc's write amplification on a simulated zoned device.",
        discussion: """
            Runs ZoneAlloc's bucket allocator and ZoneGC's copygc (no model of either) on a \
            metadata-only emulated device: the logical space is filled once, then --warmup times \
            its size is written, then --measure times its size is measured. Write amplification \
            is (user + copygc block writes) / user block writes over the measured part.

            Workloads: uniform (random overwrite), hotcold:W/S (W % of writes to S % of the \
            space, e.g. hotcold:90/10), zipf:θ (e.g. zipf:0.99), sequential, trace:FILE (CSV \
            lines op,offset,length with op write or delete, byte offsets; see fixtures/traces).

            Over-provisioning ρ = (T − U) / U, with T the capacity of all buckets and U the \
            logical size: the logical space is sized from ρ and fills the usable capacity, so the \
            copygc reserve follows from ρ. Give --copygc-reserve instead to size U from it.

            Policies: greedy (bcachefs), cost-benefit (Sprite LFS), lifetime (SepBIT-style \
            lifetime classes with cost-benefit victims), lifetime-greedy.
            """
    )

    /// The workload.
    @Option(help: ArgumentHelp("uniform, hotcold:W/S, zipf:θ, sequential or trace:FILE.", valueName: "workload"))
    var workload = "uniform"

    /// Number of zones.
    @Option(help: "Number of zones (all sequential; each is a bucket).")
    var zones = 4096

    /// Zone size.
    @Option(help: ArgumentHelp("Zone size, a power of two.", valueName: "size"))
    var zoneSize = SizeArgument("16M")

    /// Zone capacity.
    @Option(help: ArgumentHelp("Usable bytes per zone (default: the zone size).", valueName: "size"))
    var zoneCapacity: SizeArgument?

    /// Block size.
    @Option(
        help: ArgumentHelp(
            "Block size: 512, 4K, or a larger power of two up to 64M (a placement unit of 4 KiB device blocks, "
                + "so large devices fit in memory). Every simulated write is one block.",
            valueName: "size"
        )
    )
    var blockSize = SizeArgument("4096")

    /// Device zone limits.
    @Option(help: "Max open zones of the device (0: no limit), as a ZNS drive reports it.")
    var maxOpen = 0

    /// Device active-zone limit.
    @Option(help: "Max active zones of the device (0: no limit); the allocator's zone budget follows the limits.")
    var maxActive = 0

    /// ρ.
    @Option(name: [.customLong("over-provisioning"), .customLong("rho")], help: "Over-provisioning ρ = (T − U) / U.")
    var overProvisioning = 0.12

    /// The copygc reserve, instead of ρ.
    @Option(help: "Copygc reserve as a fraction of T (0.05–0.21); sizes the logical space instead of ρ.")
    var copygcReserve: Double?

    /// The policy.
    @Option(help: "greedy, cost-benefit, lifetime or lifetime-greedy.")
    var policy = "greedy"

    /// User write points.
    @Option(help: "User write points (block b goes to stream b mod N); lifetime policies use their own classes.")
    var writePoints = 1

    /// The seed.
    @Option(help: "Seed of the workload's random numbers.")
    var seed: UInt64 = 1

    /// Warm-up volume.
    @Option(help: "Warm-up volume after the fill, in multiples of the logical size.")
    var warmup = 4.0

    /// Measured volume.
    @Option(help: "Measured volume, in multiples of the logical size.")
    var measure = 4.0

    /// Batch size.
    @Option(help: "Blocks per device write (one reservation); does not change placement.")
    var batch = 64

    /// Copygc thresholds.
    @Option(help: "Copygc starts below this many free buckets (default: user write points + 1).")
    var startBelow: Int?

    /// Copygc stop threshold.
    @Option(help: "Copygc stops at this many free buckets (default: start + 2).")
    var stopAt: Int?

    /// CSV series output.
    @Option(help: ArgumentHelp("Write the series (one row per sample) to this CSV file.", valueName: "file"))
    var csv: String?

    /// Sample interval.
    @Option(help: "CSV sample interval, in multiples of the logical size.")
    var sampleEvery = 0.25

    /// JSON output.
    @Flag(help: "Print the result as JSON.")
    var json = false

    /// No progress display.
    @Flag(help: "Do not show progress on the terminal.")
    var quiet = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options; a failure exits with status 64.
    mutating func validate() throws {
        _ = try simulationConfiguration()
    }

    /// The simulation's configuration from the options.
    ///
    /// - Throws: `ValidationError` naming the option whose value is wrong.
    func simulationConfiguration() throws(ValidationError) -> SimulationConfiguration {
        let workload: Workload
        do {
            workload = try Workload(parsing: self.workload)
        } catch {
            throw ValidationError("--workload: \(error.message)")
        }
        guard let policy = CopygcPolicy(named: policy) else {
            throw ValidationError(
                "--policy \(self.policy) is unknown; use " + CopygcPolicy.named.map(\.name).joined(separator: ", ")
            )
        }
        guard zones >= 8 else { throw ValidationError("--zones must be at least 8, got \(zones)") }
        let size = try zoneSize.bytes(for: "--zone-size")
        guard size > 0, size & (size - 1) == 0 else {
            throw ValidationError("--zone-size \(zoneSize.text) is not a power of two")
        }
        let capacity = try zoneCapacity?.bytes(for: "--zone-capacity")
        let block = try blockSize.bytes(for: "--block-size")
        guard block >= 512, block <= UInt64(SimulationConfiguration.maxBlockSize), block & (block - 1) == 0 else {
            throw ValidationError(
                "--block-size \(blockSize.text) must be a power of two from 512 to \(SimulationConfiguration.maxBlockSize >> 20)M"
            )
        }
        guard maxOpen >= 0, maxActive >= 0 else {
            throw ValidationError("--max-open and --max-active must be ≥ 0 (0: no limit)")
        }
        guard overProvisioning > 0 else { throw ValidationError("--over-provisioning must be > 0") }
        guard warmup >= 0, measure > 0, sampleEvery > 0, batch >= 1 else {
            throw ValidationError("--warmup must be ≥ 0; --measure, --sample-every and --batch > 0")
        }
        return SimulationConfiguration(
            zones: zones,
            zoneSize: size,
            zoneCapacity: capacity,
            blockSize: Int(block),
            overProvisioning: overProvisioning,
            copygcReserve: copygcReserve,
            workload: workload,
            policy: policy,
            writePoints: writePoints,
            seed: seed,
            warmup: warmup,
            measured: measure,
            batchBlocks: batch,
            sampleInterval: sampleEvery,
            startBelowFreeBuckets: startBelow,
            stopAtFreeBuckets: stopAt,
            maxOpenZones: maxOpen,
            maxActiveZones: maxActive
        )
    }

    /// Runs the simulation, shows progress, prints the result and writes the CSV.
    func run() throws {
        try ErrorReporting.run(verbose: global.verbose) {
            let configuration = try simulationConfiguration()
            let result: SimulationResult
            do throws(SimulationError) {
                let simulator = try Simulator(configuration: configuration)
                let display = SimulateProgressDisplay(enabled: !quiet && isatty(2) != 0)
                result = try simulator.run { display.show($0) }
                display.finish()
            } catch {
                if error.code == .invalidParameter || error.code == .invalidTrace {
                    throw ValidationError(error.description)
                }
                throw CommandFailure(error.description)
            }
            if let csv {
                let text = ([SimulationSample.csvHeader] + result.samples.map(\.csvLine)).joined(separator: "\n") + "\n"
                do {
                    try text.write(toFile: csv, atomically: true, encoding: .utf8)
                } catch {
                    throw CommandFailure("cannot write the CSV series to \(csv): \(error.localizedDescription)")
                }
            }
            let report = SimulateReport(result)
            print(json ? try JSONText.encode(report) : report.text())
        }
    }
}
