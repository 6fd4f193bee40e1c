#if canImport(Glibc)
import Glibc
#endif

/// How much guest memory a probe touches before each timed section
/// (``Measure/prefaultGuestMemory(bytes:)``), from the `prefault=MiB` option.
///
/// By default it is twice the volume a timed section writes plus 256 MiB, at most half of the
/// memory available, when the machine hands free memory back to its host
/// (``Measure/freePageReporting()``), and nothing otherwise; `prefault=0` turns it off,
/// `prefault=N` touches N MiB.
public struct GuestMemoryPrefault: Sendable {
    /// Bytes touched before each timed section.
    public let bytes: Int
    /// Whether free page reporting was found.
    public let reporting: Bool

    /// - Parameters:
    ///   - arguments: the probe's command line (`prefault=MiB`).
    ///   - volume: bytes one timed section writes.
    public init(_ arguments: ProbeArguments, volume: Int) {
        reporting = Measure.freePageReporting()
        let available = Measure.availableMemory() ?? Int.max
        let automatic = reporting ? min(2 * volume + (256 << 20), available / 2) : 0
        if let text = arguments.options["prefault"] {
            guard let mebibytes = Int(text), mebibytes >= 0 else {
                print("prefault=\(text): give the MiB of memory to touch before each timed section (0 for none)")
                exit(64)
            }
            bytes = mebibytes << 20
        } else {
            bytes = automatic
        }
    }

    /// Touches and frees ``bytes`` of memory.
    public func run() {
        Measure.prefaultGuestMemory(bytes: bytes)
    }

    /// For a probe's header line.
    public var description: String {
        let source = reporting ? "free page reporting on" : "no free page reporting found"
        return bytes == 0
            ? "guest memory not pre-faulted (\(source))"
            : "\(bytes >> 20) MiB of guest memory pre-faulted before each timed section (\(source))"
    }
}
