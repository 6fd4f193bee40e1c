import CMallocInfo

#if canImport(Glibc)
import Glibc
#endif

/// Timing, CPU time, heap counters and small statistics for the probes.
public enum Measure {
    /// Seconds of wall time `body` takes (ContinuousClock).
    public static func seconds<E: Error>(_ body: () throws(E) -> Void) throws(E) -> Double {
        let start = ContinuousClock.now
        try body()
        return seconds(start.duration(to: .now))
    }

    /// `duration` in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// User plus system CPU seconds of this process so far (`getrusage`).
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Bytes in use on the heap (glibc `mallinfo2`: arena chunks plus mmapped blocks), after
    /// returning free memory at the top of the heap. Call ``useOneArena()`` first so that
    /// allocations made on other threads are counted.
    public static func heapInUse() -> Int {
        cmallocinfo_trim()
        return cmallocinfo_heap_in_use()
    }

    /// Makes every thread allocate from glibc's main arena (see ``heapInUse()``).
    public static func useOneArena() {
        _ = cmallocinfo_use_one_arena()
    }

    /// The median of `values` (the upper one of an even count).
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    /// `count` pseudo-random bytes (SplitMix64 from `seed`): incompressible, the same every run.
    public static func pseudoRandomBytes(count: Int, seed: UInt64 = 0x1234_5678_9ABC_DEF0) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var state = seed
        var index = 0
        while index < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            for byte in 0..<min(8, count - index) {
                bytes[index + byte] = UInt8(truncatingIfNeeded: z >> (8 * UInt64(byte)))
            }
            index += 8
        }
        return bytes
    }

    /// Touches `bytes` of fresh anonymous memory, one write per 4 KiB page, and gives it back:
    /// call it right before a timed section so that the page cache that section fills is made
    /// of guest pages the hypervisor backs.
    ///
    /// In a virtual machine whose balloon device reports free pages to the host (virtio-balloon
    /// free page reporting, see ``freePageReporting()``), memory the guest frees is handed back
    /// to the host a few seconds later, and the guest's next touch of each such page costs a
    /// host page fault. Those faults land at random on one side or the other of a comparison:
    /// measured on the development VM, the same `pread`/`pwrite` copy loop ran at 330–1000 MiB/s
    /// without this and at 1400–1870 MiB/s right after touching 6 GiB. On a machine without
    /// free page reporting it only costs the time to touch the memory.
    public static func prefaultGuestMemory(bytes: Int) {
        guard bytes > 0 else { return }
        let page = 4096
        guard let memory = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            memory != MAP_FAILED
        else { return }
        let base = memory.assumingMemoryBound(to: UInt8.self)
        var offset = 0
        while offset < bytes {
            base[offset] = 1
            offset += page
        }
        munmap(memory, bytes)
    }

    /// `MemAvailable` of /proc/meminfo in bytes, or nil where there is none.
    public static func availableMemory() -> Int? {
        guard let text = try? readText("/proc/meminfo"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
            let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kibibytes << 10
    }

    /// Whether a virtio balloon device with free page reporting (feature bit 5) is present: the
    /// guest hands free memory back to the host (see ``prefaultGuestMemory(bytes:)``).
    public static func freePageReporting() -> Bool {
        let root = "/sys/bus/virtio/devices"
        guard let directory = opendir(root) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."),
                let device = try? readText("\(root)/\(name)/device"),
                device.hasPrefix("0x0005"),
                let features = try? readText("\(root)/\(name)/features")
            else { continue }
            let bits = Array(features.utf8)
            if bits.count > 5, bits[5] == UInt8(ascii: "1") { return true }
        }
        return false
    }

    /// One line describing the machine: cores, CPU model, load average.
    public static func machine() -> String {
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        var model = "unknown CPU"
        if let text = try? readText("/proc/cpuinfo"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        {
            model = line[line.index(after: colon)...].trimmingPrefix(" ").description
        }
        let load = (try? readText("/proc/loadavg"))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        return "\(cores) cores, \(model), load \(load)"
    }

    /// The contents of a small text file (for /proc).
    static func readText(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else { throw PlainFile.Failure(operation: "open", path: path, errno: errno) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
