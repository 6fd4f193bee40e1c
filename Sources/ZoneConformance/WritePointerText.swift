/// Formats write pointers for people: relative to the zone start when that is meaningful.
enum WritePointerText {
    /// `+8192` for a write pointer inside (or at the end of) a zone starting at `zoneStart`,
    /// otherwise the absolute value (`0xFFFFFFFFFFFFFE00` for the invalid write pointer).
    static func format(_ writePointer: UInt64, zoneStart: UInt64?) -> String {
        if let zoneStart, writePointer >= zoneStart, writePointer - zoneStart < 1 << 40 {
            return "+\(writePointer - zoneStart)"
        }
        return "0x" + String(writePointer, radix: 16, uppercase: true)
    }
}
