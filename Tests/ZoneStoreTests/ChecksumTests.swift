import Testing

@testable import ZoneStore

/// The checksum is part of the on-disk format: it must be XXH3-64 with seed 0 whichever
/// implementation computes it (libxxhash's AVX2/AVX-512 dispatcher or its portable code).
@Suite("Extent checksums")
struct ChecksumTests {
    /// Known answers of XXH3_64bits, seed 0, computed with libxxhash's portable (non-dispatch)
    /// entry point over `pattern(count)`. The sizes cover each of XXH3's code paths: empty,
    /// 1–3, 17–128, 129–240 bytes, and the long-input loop (more than 240 bytes, several
    /// stripes and blocks).
    static let knownAnswers: [(count: Int, hash: UInt64)] = [
        (0, 0x2d06_8005_38d3_94c2),
        (3, 0x15f7_093b_173d_005c),
        (64, 0xdd30_702a_b46b_3745),
        (240, 0xccc7_3751_72c4_1f03),
        (241, 0x0b3b_6309_48ce_4a00),
        (4096, 0xa3c1_9f81_74cd_e0bb),
        (65536, 0xcf18_8822_0487_98b0),
        (1_048_576, 0x269e_b834_f6c1_10a9),
    ]

    /// Byte `i` is `(i · 31 + 7) mod 256`.
    static func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    @Test("XXH3-64 known answers, for every input-length class", arguments: knownAnswers.indices)
    func knownAnswer(index: Int) {
        let (count, hash) = Self.knownAnswers[index]
        #expect(Checksum.of(Self.pattern(count)) == hash, "\(count) bytes")
    }

    @Test("a range of an array hashes like the same bytes on their own")
    func ranges() {
        let bytes = Self.pattern(8192)
        #expect(Checksum.of(bytes, 100..<5000) == Checksum.of(Array(bytes[100..<5000])))
        #expect(Checksum.of(bytes, 0..<0) == Self.knownAnswers[0].hash)
    }
}
