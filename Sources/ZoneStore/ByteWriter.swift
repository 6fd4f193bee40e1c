/// Little-endian encoding into a growing byte array (every on-disk integer is little-endian).
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) { integer(value) }

    mutating func u32(_ value: UInt32) { integer(value) }

    mutating func u64(_ value: UInt64) { integer(value) }

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        var little = value.littleEndian
        withUnsafeBytes(of: &little) { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    mutating func zeros(_ count: Int) {
        if count > 0 { bytes.append(contentsOf: repeatElement(0, count: count)) }
    }

    /// Pads with zeros to a multiple of `alignment`.
    mutating func pad(to alignment: Int) {
        let rest = bytes.count % alignment
        if rest != 0 { zeros(alignment - rest) }
    }

    /// Overwrites 8 bytes at `offset` with `value`.
    mutating func patch(u64 value: UInt64, at offset: Int) {
        var little = value.littleEndian
        withUnsafeBytes(of: &little) { raw in
            for index in 0..<8 { bytes[offset + index] = raw[index] }
        }
    }

    /// Overwrites 4 bytes at `offset` with `value`.
    mutating func patch(u32 value: UInt32, at offset: Int) {
        var little = value.littleEndian
        withUnsafeBytes(of: &little) { raw in
            for index in 0..<4 { bytes[offset + index] = raw[index] }
        }
    }
}
