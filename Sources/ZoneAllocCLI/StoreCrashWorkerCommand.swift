import ArgumentParser
import Foundation
import ZoneStore
import ZonedStorage

/// `zonealloc store-crash-worker IMAGE --seed N` (hidden): runs a seeded put/overwrite/delete
/// workload with copygc on a store until it is killed, reporting every operation on standard
/// output, for the crash tests (ZoneStoreCrashTests), which kill it with SIGKILL at random
/// moments and check that every acknowledged operation survived.
///
/// Protocol, one line per event, written unbuffered: `ready` once the store is open;
/// `b N` before operation N of the workload starts; `a N` when operation N is acknowledged as
/// durable (a durable put or delete, or a sync: every operation up to N is then durable);
/// `d N` when a buffered operation N returned; `e N MESSAGE` when operation N failed (the worker
/// then exits with status 1).
struct StoreCrashWorkerCommand: ParsableCommand {
    /// The command's name; hidden from help.
    static let configuration = CommandConfiguration(
        commandName: "store-crash-worker",
        abstract: "Run a store workload until killed (for crash tests).",
        shouldDisplay: false
    )

    /// The emulated image holding a formatted store.
    @Argument(help: "An emulated image holding a formatted store.")
    var image: String

    /// The workload's seed.
    @Option(help: "The workload seed.")
    var seed: UInt64

    /// Distinct keys.
    @Option(help: "Distinct keys.")
    var keys = 48

    /// Largest value.
    @Option(help: "Largest value in bytes.")
    var maximumLength = 16 << 10

    /// Stop after this many operations (0: run until killed).
    @Option(help: "Stop after this many operations (0: until killed).")
    var operations = 0

    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Runs the workload.
    func run() throws {
        let device = try EmulatedDevice.open(at: image)
        var options = StoreSession.options()
        options.checkpointInterval = 96 << 10
        let store = try ZoneStore.open(device, options: options)
        emit("ready")
        var workload = StoreWorkload(seed: seed, keys: keys, maximumLength: maximumLength)
        var index = 0
        while operations == 0 || index < operations {
            let operation = workload.next()
            emit("b \(index)")
            do {
                switch operation {
                case .put(let key, let valueSeed, let length, let durability):
                    try store.put(key, StoreWorkload.value(seed: valueSeed, length: length), durability: durability)
                    emit("\(durability == .durable ? "a" : "d") \(index)")
                case .delete(let key, let durability):
                    try store.delete(key, durability: durability)
                    emit("\(durability == .durable ? "a" : "d") \(index)")
                case .sync:
                    try store.sync()
                    emit("a \(index)")
                case .collect:
                    try store.collectGarbage()
                    emit("d \(index)")
                }
            } catch {
                emit("e \(index) \(error)")
                throw ExitCode.failure
            }
            index += 1
        }
        try store.close()
        try device.close()
    }
}
