#if canImport(Glibc)
import Glibc
#endif

/// Large tables indexed at random (copygc's backpointer slots, the simulator's logical map) miss
/// the TLB on almost every access with 4 KiB pages: a 64 GiB device has 400 MB of backpointer
/// slots. These helpers create such arrays with Linux transparent huge pages requested
/// (`madvise(MADV_HUGEPAGE)`) before the memory is first touched, so the kernel can back them
/// with 2 MiB pages. Elsewhere, or when the kernel refuses, they are ordinary arrays.
package enum HugePageArray {
    /// Tables smaller than this are left alone (a huge page would be mostly empty).
    static let threshold = 4 << 20

    /// An array of `count` copies of `value`, huge pages requested when it is large.
    ///
    /// - Parameters:
    ///   - value: the element every slot starts with.
    ///   - count: the number of elements.
    /// - Returns: the array.
    package static func make<Element: BitwiseCopyable>(repeating value: Element, count: Int) -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            buffer.initialize(repeating: value)
            initialized = count
        }
    }

    /// Asks for huge pages on the 2 MiB-aligned interior of `buffer` (a hint; errors ignored).
    private static func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard buffer.count >= threshold, let base = buffer.baseAddress else { return }
        let huge = UInt(2 << 20)
        let start = (UInt(bitPattern: base) + huge - 1) & ~(huge - 1)
        let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~(huge - 1)
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, Int(end - start), MADV_HUGEPAGE)
        #endif
    }
}
