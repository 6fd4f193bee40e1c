import Foundation

/// Encodes `zonealloc`'s JSON outputs: pretty-printed, sorted keys, no escaped slashes.
enum JSONText {
    /// The JSON text of `value`.
    ///
    /// - Parameter value: the document to encode.
    /// - Returns: the JSON, without a trailing newline.
    /// - Throws: `EncodingError` if `value` cannot be encoded.
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
