import Foundation
import Testing

@testable import ZoneAllocCLI

/// The store commands end to end: `format`, `put`, `get`, `rm`, `ls`, `stat`, `gc` on an
/// emulated image, run as the built binary.
@Suite struct StoreCommandTests {
    private let zonealloc: ZoneAllocProcess
    private let directory: TemporaryDirectory

    init() throws {
        zonealloc = try ZoneAllocProcess()
        directory = try TemporaryDirectory()
    }

    private func run(_ arguments: String..., input: Data = Data()) throws -> ZoneAllocProcess.Result {
        try zonealloc.run(arguments, in: directory.url, input: input)
    }

    @discardableResult
    private func succeed(
        _ arguments: String...,
        input: Data = Data(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ZoneAllocProcess.Result {
        let result = try zonealloc.run(arguments, in: directory.url, input: input)
        try #require(
            result.status == 0,
            "zonealloc \(arguments.joined(separator: " ")) exited with \(result.status): \(result.error)",
            sourceLocation: sourceLocation
        )
        return result
    }

    private func createDevice(_ name: String = "s.img") throws {
        try succeed(
            "device",
            "create",
            name,
            "--zones",
            "24",
            "--zone-size",
            "1M",
            "--zone-capacity",
            "768K",
            "--conventional",
            "1",
            "--max-open",
            "6",
            "--max-active",
            "8"
        )
    }

    @Test func formatPutGetListRemoveRoundTrip() throws {
        defer { directory.remove() }
        try createDevice()
        let formatted = try succeed("format", "s.img", "--reserve", "10%")
        #expect(formatted.lines.first?.hasPrefix("formatted s.img") == true)
        let value = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try succeed("put", "s.img", "dir/a", input: value)
        try value.write(to: directory.url.appendingPathComponent("in.bin"))
        try succeed("put", "s.img", "dir/b", "in.bin")
        try succeed("put", "s.img", "other", input: Data("x".utf8))
        #expect(try succeed("get", "s.img", "dir/a").output == value)
        try succeed("get", "s.img", "dir/b", "out.bin")
        #expect(try Data(contentsOf: directory.url.appendingPathComponent("out.bin")) == value)
        #expect(try succeed("ls", "s.img").lines == ["dir/a", "dir/b", "other"])
        #expect(try succeed("ls", "s.img", "dir/").lines == ["dir/a", "dir/b"])
        let long = try succeed("ls", "s.img", "--long").lines
        #expect(long.first?.contains("SIZE") == true)
        #expect(long.contains { $0.contains("100000") && $0.contains("dirty") && $0.hasSuffix("dir/a") })
        try succeed("rm", "s.img", "dir/a")
        let missing = try run("get", "s.img", "dir/a")
        #expect(missing.status == 1)
        #expect(missing.error.hasPrefix("zonealloc: error: no value is stored under dir/a"))
        #expect(try run("rm", "s.img", "dir/a").status == 1)
        #expect(try succeed("ls", "s.img").lines == ["dir/b", "other"])
    }

    @Test func formatRefusesAStoreOrDataUnlessForced() throws {
        defer { directory.remove() }
        try createDevice()
        try succeed("format", "s.img")
        let again = try run("format", "s.img")
        #expect(again.status == 1)
        #expect(again.error.contains("already holds a zonealloc store"))
        try succeed("format", "s.img", "--force")
        try createDevice("d.img")
        try succeed("device", "write", "d.img", "--zone", "3", "--length", "4K")
        let used = try run("format", "d.img")
        #expect(used.status == 1)
        #expect(used.error.contains("holds data: zone 3"))
        #expect(try run("format", "s.img", "--reserve", "50%").status == 64)
        let notAStore = try run("ls", "d.img")
        #expect(notAStore.status == 1)
        #expect(notAStore.error.contains("holds no zonealloc store"))
    }

    @Test func statShowsUsageAsTextAndJSONAndGCRuns() throws {
        defer { directory.remove() }
        try createDevice()
        try succeed("format", "s.img")
        for index in 0..<6 {
            try succeed("put", "s.img", "k\(index)", input: Data(repeating: UInt8(index), count: 300_000))
        }
        for index in 0..<6 where index % 2 == 0 { try succeed("rm", "s.img", "k\(index)") }
        let text = try succeed("stat", "s.img").lines
        #expect(text.first == "Store on s.img: 3 keys (0 evicted)")
        #expect(text.contains { $0.hasPrefix("Buckets by state:") })
        #expect(text.contains { $0.hasPrefix("Copygc since open:") })
        let json = try succeed("stat", "s.img", "--json")
        let document = try JSONDecoder().decode(StoreUsageDocument.self, from: json.output)
        #expect(document.keys == 3)
        #expect(document.dirtyValueBytes == 900_000)
        #expect(document.fragmentationHistogram.count == 10)
        // Totals since format survive the commands' opens and closes.
        let raw = try JSONSerialization.jsonObject(with: json.output) as? [String: Any]
        let lifetime = raw?["lifetime"] as? [String: Any]
        #expect(lifetime?["userBytesWritten"] as? Int == 6 * 300_000)
        #expect(text.contains { $0.hasPrefix("Since format: ") })
        let gc = try succeed("gc", "s.img").lines
        #expect(gc.contains { $0.hasPrefix("copygc:") })
        #expect(gc.last?.hasPrefix("free buckets:") == true)
        for index in 0..<6 where index % 2 == 1 {
            #expect(try succeed("get", "s.img", "k\(index)").output == Data(repeating: UInt8(index), count: 300_000))
        }
    }
}
