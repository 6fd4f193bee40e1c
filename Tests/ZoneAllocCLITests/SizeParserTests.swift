import Testing

@testable import ZoneAllocCLI

@Suite struct SizeParserTests {
    static let sizes: [(String, UInt64)] = [
        ("4096", 4096),
        ("0", 0),
        ("512B", 512),
        ("0x1000", 4096),
        ("0X20000", 131_072),
        ("4K", 4096), ("4k", 4096), ("4KB", 4096), ("4KiB", 4096), ("4kib", 4096),
        ("64M", 64 << 20), ("64m", 64 << 20), ("64MB", 64 << 20), ("64MiB", 64 << 20), ("64mib", 64 << 20),
        ("1G", 1 << 30), ("1GiB", 1 << 30), ("1gb", 1 << 30),
        ("2T", 2 << 40), ("2TiB", 2 << 40), ("2tb", 2 << 40),
        (" 60M ", 60 << 20),
        ("16 K", 16 << 10),
    ]

    @Test(arguments: sizes)
    func acceptsBinaryUnits(text: String, bytes: UInt64) throws {
        #expect(try SizeParser.parse(text) == bytes)
    }

    @Test(arguments: [
        ("", "empty"),
        ("M", "does not start with a number"),
        ("-4K", "does not start with a number"),
        ("1.5M", "fractions"),
        ("4X", "unknown unit 'X'"),
        ("64Mi", "unknown unit 'Mi'"),
        ("3P", "unknown unit 'P'"),
        ("0xZZ", "hexadecimal"),
        ("99999999999999999999", "64 bits"),
        ("20000000T", "16 EiB"),
    ])
    func rejectsWithAReason(text: String, reason: String) {
        let error = #expect(throws: SizeParser.Failure.self) { try SizeParser.parse(text) }
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.description.contains("\n") == false)
    }

    static let formatted: [(UInt64, String)] = [
        (0, "0 B"),
        (100, "100 B"),
        (4096, "4 KiB"),
        (1536, "1.5 KiB"),
        (60 << 20, "60 MiB"),
        (64 << 20, "64 MiB"),
        ((1 << 30) + (1 << 28), "1.25 GiB"),
        (4 << 40, "4 TiB"),
    ]

    @Test(arguments: formatted)
    func formatsSizesForPeople(bytes: UInt64, text: String) {
        #expect(SizeFormatter.string(bytes) == text)
    }

    static let bytes: [(String, UInt8)] = [("0xA5", 0xA5), ("165", 165), ("0", 0), ("0b1010", 10), ("0xff", 255)]

    @Test(arguments: bytes)
    func parsesPatternBytes(text: String, byte: UInt8) {
        #expect(ByteValue.parse(text) == byte)
    }

    @Test(arguments: ["256", "-1", "0x100", "a5", ""])
    func rejectsNonBytes(text: String) {
        #expect(ByteValue.parse(text) == nil)
    }
}
