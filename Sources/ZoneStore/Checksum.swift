import CXXHash

/// The checksum of every extent and every metadata record: XXH3, 64 bits, seed 0
/// (xxHash ≥ 0.8.0, whose XXH3 output is stable and part of the on-disk format).
///
/// Why xxHash: it is one of bcachefs's own checksum types (`xxhash`, next to crc32c and crc64),
/// XXH3 runs at memory speed (tens of GB/s; the shim in `CXXHash` uses libxxhash's AVX2/AVX-512
/// dispatcher when the library has it, about 4× its SSE2 code on data in cache), 64 bits make
/// an undetected random corruption vanishingly unlikely (2⁻⁶⁴, against 2⁻³² for a CRC-32C), and Debian ships it as `libxxhash-dev`, maintained
/// upstream by its author (Yann Collet) and used by zstd, RocksDB and btrfs-progs.
enum Checksum {
    /// XXH3-64 of `bytes`.
    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = bytes.baseAddress else { return cxxhash_xxh3_64(nil, 0) }
        return cxxhash_xxh3_64(base, bytes.count)
    }

    /// XXH3-64 of `bytes[range]`.
    static func of(_ bytes: [UInt8], _ range: Range<Int>) -> UInt64 {
        bytes.withUnsafeBytes { raw in of(UnsafeRawBufferPointer(rebasing: raw[range])) }
    }

    /// XXH3-64 of `bytes`.
    static func of(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { of($0) }
    }
}
