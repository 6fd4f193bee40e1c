/// A key of the store: a byte string of 1 to ``maximumLength`` bytes, ordered bytewise
/// (as `memcmp`), so `list(prefix:)` returns keys in a stable order.
public struct StoreKey: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The longest key, in bytes.
    public static let maximumLength = 1024

    /// The key's bytes.
    public var bytes: [UInt8]

    /// Creates a key from bytes (checked for length when it is used).
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Creates a key from the UTF-8 bytes of `string`.
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    /// Creates a key from a string literal's UTF-8 bytes.
    public init(stringLiteral value: String) { self.init(value) }

    /// Whether the key starts with `prefix`.
    public func hasPrefix(_ prefix: StoreKey) -> Bool {
        bytes.count >= prefix.bytes.count && bytes.starts(with: prefix.bytes)
    }

    public static func < (lhs: StoreKey, rhs: StoreKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The key as text when it is printable UTF-8, else as hex (`0x…`).
    public var description: String {
        if let text = String(validating: bytes, as: UTF8.self),
            text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        {
            return text
        }
        return "0x" + bytes.map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    /// The string with `0`s in front up to `width` characters.
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
