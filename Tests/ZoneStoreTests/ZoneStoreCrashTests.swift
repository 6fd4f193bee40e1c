import Foundation
import Testing
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

/// Crash tests: a child process (`zonealloc store-crash-worker`) runs a seeded
/// put/overwrite/delete workload with copygc on a file-backed emulated device and reports every
/// operation; the test kills it with SIGKILL at a random moment, reopens the store and checks
/// that it holds exactly the state after some prefix of the operations that includes every
/// acknowledged one, with every value verified. The next worker continues on the same image.
@Suite(.serialized) struct ZoneStoreCrashTests {
    /// Kill points in the default run; `ZONESTORE_LONG=1` runs 300, `ZONESTORE_KILL_POINTS=N` runs N
    /// (the ThreadSanitizer run of tools/sanitize.sh takes 20: each point starts an instrumented
    /// worker process).
    static let killPoints =
        Int(ProcessInfo.processInfo.environment["ZONESTORE_KILL_POINTS"] ?? "")
        ?? (ProcessInfo.processInfo.environment["ZONESTORE_LONG"] == nil ? 60 : 300)

    /// The built `zonealloc` binary: `$ZONEALLOC_BINARY`, or next to the test executable.
    static func binary() throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["ZONEALLOC_BINARY"], !path.isEmpty {
            candidates.append(URL(fileURLWithPath: path))
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("zonealloc"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CrashTestFailure(
                "the zonealloc binary was not found at \(candidates.map(\.path)); run `swift build` first or set "
                    + "ZONEALLOC_BINARY"
            )
        }
        return found
    }

    struct CrashTestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// What a worker reported before it was killed.
    struct Report {
        var started = -1
        var durable = -1
        var failure: String?
        var ready = false
    }

    static func parse(_ text: String) -> Report {
        var report = Report()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            switch parts.first {
            case "ready": report.ready = true
            case "b": report.started = max(report.started, Int(parts[1]) ?? -1)
            case "a": report.durable = max(report.durable, Int(parts[1]) ?? -1)
            case "e": report.failure = String(line)
            default: break
            }
        }
        return report
    }

    /// The logical state after applying the workload's operations `0..<count` to `state`.
    static func states(from state: [StoreKey: [UInt8]], seed: UInt64, upTo count: Int) -> [[StoreKey: [UInt8]]] {
        var workload = StoreWorkload(seed: seed, keys: 48, maximumLength: 16 << 10)
        var current = state
        var result = [current]
        for _ in 0..<count {
            switch workload.next() {
            case .put(let key, let valueSeed, let length, _):
                current[key] = StoreWorkload.value(seed: valueSeed, length: length)
            case .delete(let key, _):
                current[key] = nil
            case .sync, .collect:
                break
            }
            result.append(current)
        }
        return result
    }

    @Test func everyAcknowledgedOperationSurvivesSIGKILL() throws {
        let binary = try Self.binary()
        let directory = try TemporaryDirectory(label: "zonestore-crash")
        defer { directory.remove() }
        let image = directory.file("crash.img")
        let device = try EmulatedDevice.create(at: image, geometry: StoreFixtures.small)
        try ZoneStore.format(device)
        try device.close()
        var model: [StoreKey: [UInt8]] = [:]
        var rng = SeededRandom(seed: 0xC0FFEE)
        var killedMidOperation = 0
        var acknowledged = 0
        for point in 0..<Self.killPoints {
            let seed = UInt64(point) &* 104_729 &+ 3
            let output = directory.file("worker-\(point).out")
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            let process = Process()
            process.executableURL = binary
            process.arguments = ["store-crash-worker", image, "--seed", "\(seed)"]
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            // Wait until the store is open, then let it work for a random while.
            let deadline = Date().addingTimeInterval(30)
            while !Self.parse((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").ready, process.isRunning,
                Date() < deadline
            {
                usleep(2_000)
            }
            usleep(UInt32(rng.int(in: 5...250)) * 1_000)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try handle.close()
            let text = try String(contentsOfFile: output, encoding: .utf8)
            let report = Self.parse(text)
            #expect(report.failure == nil, "kill point \(point): the worker failed: \(report.failure ?? "")")
            #expect(report.ready, "kill point \(point): the worker never opened the store: \(text.prefix(500))")
            guard report.ready, report.failure == nil else { return }
            if report.started > report.durable { killedMidOperation += 1 }
            acknowledged += report.durable + 1

            let reopenedDevice = try EmulatedDevice.open(at: image)
            let store = try ZoneStore.open(reopenedDevice, options: StoreFixtures.options(copygcOnDemand: false))
            var found: [StoreKey: [UInt8]] = [:]
            for key in store.list() { found[key] = try store.get(key) }
            let candidates = Self.states(from: model, seed: seed, upTo: report.started + 1)
            let allowed = candidates[(report.durable + 1)...]
            let message =
                "kill point \(point) (seed \(seed)): the recovered \(found.count) keys match no state from the last "
                + "acknowledged operation \(report.durable) to the last started \(report.started); recovery: "
                + "\(store.recovery)"
            #expect(allowed.contains(found), "\(message)")
            let problems = try StoreFixtures.invariantProblems(store)
            #expect(problems == [], "kill point \(point)")
            try store.close()
            try reopenedDevice.close()
            guard allowed.contains(found) else { return }
            model = found
        }
        print(
            "crash test: \(Self.killPoints) SIGKILLs, \(killedMidOperation) in the middle of an operation, "
                + "\(acknowledged) operations acknowledged as durable, 0 lost"
        )
        // The kills must land while operations run, not only between them.
        #expect(killedMidOperation > Self.killPoints / 4)
        #expect(acknowledged > Self.killPoints)
    }
}
