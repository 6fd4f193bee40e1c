/// Parses a single byte value as `--pattern` takes it: `0xA5`, `165`, or `0b10100101`.
enum ByteValue {
    /// The byte `text` names, or `nil` when it is not a number from 0 to 255.
    ///
    /// - Parameter text: a decimal number, or a hexadecimal one with the `0x` prefix, or a
    ///   binary one with `0b`.
    static func parse(_ text: String) -> UInt8? {
        let lowered = text.lowercased()
        if lowered.hasPrefix("0x") { return UInt8(lowered.dropFirst(2), radix: 16) }
        if lowered.hasPrefix("0b") { return UInt8(lowered.dropFirst(2), radix: 2) }
        return UInt8(lowered, radix: 10)
    }
}
