import Testing

@testable import ZoneAllocCLI

@Suite struct ZoneRangeParserTests {
    @Test(arguments: [("2-9", 2...9), ("2..9", 2...9), ("5", 5...5), ("0-0", 0...0), ("7..7", 7...7)])
    func parsesInclusiveRanges(text: String, range: ClosedRange<Int>) throws {
        #expect(try ZoneRangeParser.parse(text) == range)
    }

    @Test(arguments: ["9-2", "a-b", "-3", "1-", "..4", "1..2..3", "x", ""])
    func rejectsMalformedRanges(text: String) {
        #expect(throws: ZoneRangeParser.Failure.self) { try ZoneRangeParser.parse(text) }
    }
}
