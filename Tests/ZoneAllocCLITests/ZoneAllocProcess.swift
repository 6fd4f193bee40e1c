import Foundation

/// Runs the built `zonealloc` binary for the end-to-end tests.
///
/// The binary is looked up, in order: `$ZONEALLOC_BINARY`; next to the running test executable
/// (`swift test` builds every product into the same directory, whatever the configuration or
/// `--scratch-path`); `.build/debug/zonealloc` under the package root, derived from `#filePath`.
struct ZoneAllocProcess {
    /// What a run produced.
    struct Result {
        /// The exit status.
        var status: Int32
        /// Standard output, raw.
        var output: Data
        /// Standard error as text.
        var error: String

        /// Standard output as text.
        var stdout: String { String(decoding: output, as: UTF8.self) }
        /// Standard output's lines, without the final empty one.
        var lines: [String] {
            var lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            return lines
        }
    }

    /// The places the binary is looked for, in order.
    static func candidates(filePath: String = #filePath) -> [URL] {
        var urls: [URL] = []
        if let path = ProcessInfo.processInfo.environment["ZONEALLOC_BINARY"], !path.isEmpty {
            urls.append(URL(fileURLWithPath: path))
        }
        let testExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        urls.append(testExecutable.deletingLastPathComponent().appendingPathComponent("zonealloc"))
        let packageRoot = URL(fileURLWithPath: filePath)
            .deletingLastPathComponent()  // ZoneAllocCLITests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()
        urls.append(packageRoot.appendingPathComponent(".build/debug/zonealloc"))
        return urls
    }

    /// The binary to run.
    let binary: URL

    /// The binary is missing; the description says where it was looked for.
    struct NotFound: Error, CustomStringConvertible {
        /// The paths that were tried.
        var candidates: [URL]

        var description: String {
            "the zonealloc binary was not found (looked at \(candidates.map(\.path).joined(separator: ", "))); "
                + "run `swift build` first, or set ZONEALLOC_BINARY"
        }
    }

    /// Finds the binary.
    ///
    /// - Throws: ``NotFound``, which fails the test with a message saying how to build it.
    init() throws {
        let candidates = Self.candidates()
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw NotFound(candidates: candidates)
        }
        binary = found
    }

    /// Runs `zonealloc` with `arguments` in `directory`, feeding `input` to its standard input.
    ///
    /// - Parameters:
    ///   - arguments: the command line after `zonealloc`.
    ///   - directory: the working directory.
    ///   - input: standard input; empty by default.
    /// - Returns: the exit status and outputs.
    func run(_ arguments: [String], in directory: URL, input: Data = Data()) throws -> Result {
        // Outputs go to files, not pipes: no deadlock when a command writes a lot.
        let scratch = directory.appendingPathComponent(".run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let paths = ["in", "out", "err"].map { scratch.appendingPathComponent($0) }
        try input.write(to: paths[0])
        _ = FileManager.default.createFile(atPath: paths[1].path, contents: nil)
        _ = FileManager.default.createFile(atPath: paths[2].path, contents: nil)
        let stdin = try FileHandle(forReadingFrom: paths[0])
        let stdout = try FileHandle(forWritingTo: paths[1])
        let stderr = try FileHandle(forWritingTo: paths[2])
        defer {
            try? stdin.close()
            try? stdout.close()
            try? stderr.close()
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: try Data(contentsOf: paths[1]),
            error: String(decoding: try Data(contentsOf: paths[2]), as: UTF8.self)
        )
    }
}
