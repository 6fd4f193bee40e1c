import Foundation
import Testing
import ZoneSim

/// Workload parsing, trace files and the analytic anchors.
@Suite("Workloads, traces and analytic write amplification")
struct WorkloadTests {
    @Test(
        "workloads parse from their command-line spelling",
        arguments: [
            ("uniform", Workload.uniform), ("hotcold:90/10", .hotCold(writePercent: 90, spacePercent: 10)),
            ("zipf:0.99", .zipf(exponent: 0.99)), ("sequential", .sequential),
            ("trace:a/b.csv", .trace(path: "a/b.csv")),
        ]
    )
    func parses(text: String, expected: Workload) throws {
        #expect(try Workload(parsing: text) == expected)
        #expect(expected.description == text)
    }

    @Test(
        "bad workloads are refused with what is accepted",
        arguments: ["", "random", "hotcold:90", "hotcold:120/10", "zipf:-1", "zipf", "trace:", "uniform:3"]
    )
    func refuses(text: String) {
        let error = #expect(throws: SimulationError.self) { try Workload(parsing: text) }
        #expect(error?.code == .invalidParameter)
        #expect(error?.message.contains("hotcold:W/S") == true)
    }

    static var fixture: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/traces/small.csv").path
    }

    @Test("the example trace in fixtures/ parses")
    func fixtureTrace() throws {
        let trace = try TraceFile.load(path: Self.fixture)
        #expect(trace.operations.count == 16)
        #expect(trace.operations.first == .init(kind: .write, offset: 0, length: 65536))
        #expect(trace.operations.contains { $0.kind == .delete })
        #expect(trace.end == 1_179_648)
    }

    @Test(
        "malformed trace lines are refused with their line number",
        arguments: [
            ("write,0\n", "has 2 fields"), ("move,0,4096\n", "unknown operation"), ("write,x,4096\n", "integer"),
            ("write,0,0\n", "positive"), ("delete,0,4096\n", "no write"),
        ]
    )
    func badTrace(text: String, why: String) {
        let error = #expect(throws: SimulationError.self) {
            try TraceFile.parse("op,offset,length\n" + text, source: "t.csv")
        }
        #expect(error?.code == .invalidTrace)
        #expect(error?.message.contains(why) == true, "\(String(describing: error))")
        if why != "no write" { #expect(error?.message.contains("t.csv:2") == true) }
    }

    @Test("a missing trace file is a clear error")
    func missingTrace() {
        let error = #expect(throws: SimulationError.self) { try TraceFile.load(path: "/nonexistent/trace.csv") }
        #expect(error?.message.contains("/nonexistent/trace.csv") == true)
    }

    @Test(
        "the Lambert-W greedy values of anchors §4.1",
        arguments: [(0.07, 7.82), (0.08, 6.93), (0.10, 5.68), (0.12, 4.85), (0.20, 3.19), (0.28, 2.48), (0.30, 2.36)]
    )
    func lambertW(rho: Double, expected: Double) {
        #expect(abs(AnalyticWriteAmplification.greedy(overProvisioning: rho) - expected) < 0.006)
    }

    @Test("Agarwal's approximation gives 2.17 at ρ = 0.3")
    func agarwal() {
        #expect(abs(AnalyticWriteAmplification.agarwal(overProvisioning: 0.3) - 2.1667) < 0.001)
    }
}
