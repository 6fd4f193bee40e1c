import ArgumentParser
import Foundation
import ZoneSim
import ZoneStore

#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer targets for every decoder of on-disk or user input (issue 7). Built only by
/// `tools/fuzz.sh` (`make fuzz`), which sets `ZONEALLOC_FUZZ=1` so that Package.swift declares this
/// target, and links libFuzzer's driver (`libclang_rt.fuzzer_no_main`); every module is built with
/// AddressSanitizer and libFuzzer's coverage instrumentation.
///
/// `FUZZ_TARGET` names the target; the arguments are libFuzzer's. `zonefuzz --write-seeds DIR`
/// writes the seed corpora (fixtures/fuzz/<target>/) taken from a real store instead.
///
/// | target | input | checks |
/// |---|---|---|
/// | superblock | mode byte (bit 0: repair magic and checksum), then a superblock record | decodes or is refused; what decodes round-trips |
/// | journal | mode byte (0 group, 1 group with repaired checksum, 2 record stream), then bytes | decodes or is refused; records round-trip |
/// | recovery | control byte, then journal records | fsck and open on a journal of these records: typed errors only; the store still works |
/// | checkpoint | as recovery, the superblock naming a checkpoint | as recovery |
/// | trace | trace CSV text | parses or is refused; what parses prints back to the same trace |
/// | size | CLI argument text | size, zone range, byte and seed arguments parse or are refused; sizes agree with their digits |
enum FuzzTarget: String, CaseIterable {
    case superblock, journal, recovery, checkpoint, trace, size

    func run(_ bytes: [UInt8]) {
        switch self {
        case .superblock:
            StoreDecoders.superblock(Array(bytes.dropFirst()), repairChecksum: (bytes.first ?? 0) & 1 == 1)
        case .journal:
            let body = Array(bytes.dropFirst())
            switch (bytes.first ?? 0) % 3 {
            case 0: StoreDecoders.journalGroup(body, repairChecksum: false)
            case 1: StoreDecoders.journalGroup(body, repairChecksum: true)
            default: StoreDecoders.journalRecords(body)
            }
        case .recovery:
            _ = StoreDecoders.replay(bytes, checkpoint: false)
        case .checkpoint:
            _ = StoreDecoders.replay(bytes, checkpoint: true)
        case .trace:
            Self.trace(bytes)
        case .size:
            Self.arguments(bytes)
        }
    }

    /// Trace text: what parses must print back (`op,offset,length` lines) to the same trace.
    static func trace(_ bytes: [UInt8]) {
        guard let trace = try? TraceFile.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz") else { return }
        _ = trace.end
        let text = trace.operations.map { "\($0.kind.rawValue),\($0.offset),\($0.length)" }.joined(separator: "\n")
        guard let again = try? TraceFile.parse(text, source: "fuzz-again"), again == trace else {
            preconditionFailure("a parsed trace does not print back to itself")
        }
    }

    /// Command-line argument text through the CLI's parsers.
    static func arguments(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let value = try? SizeParser.parse(text) {
            let digits = text.filter { $0 != " " && $0 != "\t" }
            if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
                precondition(UInt64(digits) == value, "size '\(text)' parsed as \(value)")
            }
        }
        _ = try? SizeArgument(text).bytes(for: "--size")
        if let range = try? ZoneRangeParser.parse(text) {
            precondition(range.lowerBound >= 0, "zone range '\(text)' parsed as \(range)")
        }
        _ = ByteValue.parse(text)
        _ = try? ConformanceSeeds.parse(text.split(separator: "\u{0}").map(String.init))
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The target libFuzzer's callback runs (set once, before the driver starts).
nonisolated(unsafe) var selectedTarget = FuzzTarget.superblock

@main
struct FuzzMain {
    static func main() throws {
        let arguments = CommandLine.arguments
        if arguments.count == 3, arguments[1] == "--write-seeds" {
            try writeSeeds(to: arguments[2])
            return
        }
        let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("set FUZZ_TARGET to one of: \(names)\n".utf8))
            exit(2)
        }
        selectedTarget = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, count in
            let bytes = count == 0 ? [] : [UInt8](UnsafeBufferPointer(start: data, count: count))
            selectedTarget.run(bytes)
            return 0
        }
        exit(status)
    }

    /// Writes the seed corpora: `DIR/<target>/seed-N`.
    static func writeSeeds(to directory: String) throws {
        var corpora = try StoreDecoders.seeds()
        corpora["trace"] = [
            Array("op,offset,length\nwrite,0,8192\nwrite,1048576,4096\ndelete,0,4096\n".utf8),
            Array("# comment\nw,4096,4096\nd,4096,4096\ntrim,0,512\ndiscard,512,512\n".utf8),
            Array("write,18446744073709551615,1\n".utf8),
        ]
        corpora["size"] = [
            "4096", "0x1000", "64K", "64KiB", "256M", "1g", "16 TiB", "1.5M", "2-9", "4..9", "7", "0xA5",
            "0b101", "1,2,3", "18446744073709551615", "16E",
        ].map { Array($0.utf8) }
        for (target, seeds) in corpora {
            let folder = URL(fileURLWithPath: directory).appendingPathComponent(target)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (index, seed) in seeds.enumerated() {
                try Data(seed).write(to: folder.appendingPathComponent("seed-\(index)"))
            }
        }
    }
}
