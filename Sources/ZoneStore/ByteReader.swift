/// Little-endian decoding that never traps: reading past the end sets ``failed`` and returns 0.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    private(set) var failed = false

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { max(0, end - position) }

    mutating func u8() -> UInt8 { integer() }

    mutating func u16() -> UInt16 { integer() }

    mutating func u32() -> UInt32 { integer() }

    mutating func u64() -> UInt64 { integer() }

    mutating func integer<T: FixedWidthInteger>() -> T {
        let size = MemoryLayout<T>.size
        guard !failed, position + size <= end else {
            failed = true
            return 0
        }
        var value: T = 0
        for index in 0..<size { value |= T(bytes[position + index]) << (8 * index) }
        position += size
        return value
    }

    mutating func raw(_ count: Int) -> [UInt8] {
        guard !failed, count >= 0, position + count <= end else {
            failed = true
            return []
        }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func skip(_ count: Int) {
        guard !failed, count >= 0, position + count <= end else {
            failed = true
            return
        }
        position += count
    }
}
