import Foundation
import Testing
import ZonedStorage

@testable import ZoneAllocCLI

@Suite struct FormattingTests {
    private let mebibyte: UInt64 = 1 << 20

    @Test func zoneRowsHideMeaninglessWritePointers() {
        let conventional = Zone(
            index: 0,
            start: 0,
            length: mebibyte,
            capacity: mebibyte,
            writePointer: mebibyte,
            type: .conventional,
            condition: .notWritePointer
        )
        let full = Zone(
            index: 1,
            start: mebibyte,
            length: mebibyte,
            capacity: mebibyte / 2,
            writePointer: 2 * mebibyte,
            type: .sequentialWriteRequired,
            condition: .full
        )
        let offline = Zone(
            index: 2,
            start: 2 * mebibyte,
            length: mebibyte,
            capacity: mebibyte,
            writePointer: Zone.invalidWritePointer,
            type: .sequentialWriteRequired,
            condition: .offline
        )
        let open = Zone(
            index: 3,
            start: 3 * mebibyte,
            length: mebibyte,
            capacity: mebibyte,
            writePointer: 3 * mebibyte + 8192,
            type: .sequentialWriteRequired,
            condition: .implicitOpen
        )
        #expect(ZoneRow(conventional).writePointer == nil)
        #expect(ZoneRow(full).writePointer == 2 * mebibyte)
        #expect(ZoneRow(full).used == mebibyte / 2)
        #expect(ZoneRow(offline).writePointer == nil)
        #expect(ZoneRow(open).writePointer == 3 * mebibyte + 8192)
        #expect(ZoneRow(open).used == 8192)
        #expect(ZoneRow(open).type == "swr")
        #expect(ZoneRow(open).condition == "IMP_OPEN")

        let lines = ReportFormatter.table([conventional, full, offline, open].map(ZoneRow.init))
        #expect(lines.count == 6)
        #expect(lines[0] == "zone    start  length  capacity  write pointer     used  type  condition")
        #expect(lines[1] == "   0        0   1 MiB     1 MiB              -        -  cnv   NOT_WP")
        #expect(lines[2] == "   1  1048576   1 MiB   512 KiB        2097152  512 KiB  swr   FULL")
        #expect(lines[3] == "   2  2097152   1 MiB     1 MiB              -        -  swr   OFFLINE")
        #expect(lines[4] == "   3  3145728   1 MiB     1 MiB        3153920    8 KiB  swr   IMP_OPEN")
        #expect(lines[5] == "4 zones: 1 NOT_WP, 1 IMP_OPEN, 1 FULL, 1 OFFLINE")
    }

    @Test func jsonHasEveryKeyAndRoundTrips() throws {
        let rows = [
            ZoneRow(
                index: 0,
                start: 0,
                length: 4096,
                capacity: 4096,
                writePointer: nil,
                type: "cnv",
                condition: "NOT_WP"
            ),
            ZoneRow(
                index: 1,
                start: 4096,
                length: 4096,
                capacity: 4096,
                writePointer: 4096,
                type: "swr",
                condition: "EMPTY"
            ),
        ]
        let text = try ReportFormatter.json(rows, device: "/tmp/d.img")
        #expect(text.contains("\"writePointer\" : null"))
        #expect(text.contains("\"device\" : \"/tmp/d.img\""))
        let decoded = try JSONDecoder().decode(ReportDocument.self, from: Data(text.utf8))
        #expect(decoded == ReportDocument(device: "/tmp/d.img", zones: rows))
    }

    @Test func emptyReportsSayZeroZones() {
        #expect(ReportFormatter.footer([]) == "0 zones")
    }

    @Test func hexDumpCollapsesRepeatedLines() {
        var dump = HexDump(start: 0x1000, end: 0x1000 + 80)
        var lines = dump.feed([UInt8](repeating: 0x41, count: 40))
        lines += dump.feed([UInt8](repeating: 0x41, count: 8) + [UInt8](repeating: 0, count: 32))
        lines += dump.finish()
        #expect(
            lines == [
                "00001000: 4141 4141 4141 4141 4141 4141 4141 4141  AAAAAAAAAAAAAAAA",
                "*",
                "00001030: 0000 0000 0000 0000 0000 0000 0000 0000  ................",
                "*",
                "00001040: 0000 0000 0000 0000 0000 0000 0000 0000  ................",
            ]
        )
    }

    @Test func hexDumpAlignsAShortLastLine() {
        var dump = HexDump(start: 0, end: 19)
        let lines = dump.feed(Array("0123456789abcdefxyz".utf8)) + dump.finish()
        #expect(lines.count == 2)
        #expect(lines[0] == "00000000: 3031 3233 3435 3637 3839 6162 6364 6566  0123456789abcdef")
        #expect(lines[1].hasPrefix("00000010: 7879 7a  "))
        #expect(lines[1].hasSuffix("  xyz"))
        // The ASCII column starts where it does on a full line.
        #expect(lines[1].count == lines[0].count - 13)
    }

    @Test func hexDumpWidensOffsetsPastFourGiB() {
        var dump = HexDump(start: 0x1_0000_0000, end: 0x1_0000_0010)
        let lines = dump.feed([UInt8](repeating: 0xFF, count: 16)) + dump.finish()
        #expect(lines == ["100000000: ffff ffff ffff ffff ffff ffff ffff ffff  ................"])
    }
}
