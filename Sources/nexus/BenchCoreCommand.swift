import ArgumentParser
import Foundation
import NexusConfig
import NexusCore
import NexusSimulator

struct BenchCoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-core",
        abstract: "Benchmark the core: planning time for 100, 1,000 and 10,000 sessions, and simulator speed.",
        discussion: "Build with -c release for meaningful numbers. Targets: 10,000 sessions planned in under 1 s; >= 3 million simulated model calls per second per core."
    )

    @Option(name: .long, help: "Profile file the synthetic sessions use.")
    var profiles = "data/h100-torchvision-fp16-profiles.csv"

    @Option(name: .long, help: "Session counts to plan.")
    var sessions: [Int] = [100, 1000, 10_000]

    @Option(name: .long, help: "Runs per session count (the median is reported).")
    var runs = 5

    @Option(name: .long, help: "Workload the simulator speed is measured on.")
    var workload = "data/workloads/game.yaml"

    @Option(name: .long, help: "Simulated seconds for the simulator speed run (0 skips it).")
    var simulateSeconds: Double = 20

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be >= 1, got \(runs)") }
        guard sessions.allSatisfy({ $0 >= 1 && $0 <= 1_000_000 }) else { throw ValidationError("--sessions must be in 1...1000000") }
        guard simulateSeconds >= 0 else { throw ValidationError("--simulate-seconds must be >= 0, got \(simulateSeconds)") }
    }

    struct Report: Encodable {
        var planning: [PlanningBenchmark.Measurement]
        var simulator: SimulatorSpeed?
    }

    struct SimulatorSpeed: Encodable {
        var simulated = true
        var workload: String
        var simulatedSeconds: Double
        var calls: Int
        var requests: Int
        var wallSeconds: Double
        var callsPerSecondPerCore: Double
        var requestsPerSecondPerCore: Double
    }

    func run() throws {
        let table = try reportingErrors { try ProfileLoader.load(path: profiles) }
        let curves = ModelCurves(table: table)
        let benchmark = PlanningBenchmark(curves: try table.modelNames.map { try curves.curve(for: $0) })
        var measurements: [PlanningBenchmark.Measurement] = []
        for count in sessions {
            measurements.append(benchmark.measure(sessionCount: count, runs: runs))
            if !json { FileHandle.standardError.write(Data("planned \(count) sessions\n".utf8)) }
        }
        var speed: SimulatorSpeed?
        if simulateSeconds > 0 {
            let loaded = try reportingErrors { try WorkloadLoader.load(path: workload) }
            var config = SimulationConfig()
            config.durationSeconds = simulateSeconds
            let result = try Simulation.run(workload: loaded.workload, curves: loaded.curves, config: config)
            speed = SimulatorSpeed(workload: loaded.workload.name, simulatedSeconds: simulateSeconds, calls: result.calls,
                                   requests: result.total.requests, wallSeconds: result.wallSeconds,
                                   callsPerSecondPerCore: result.callsPerWallSecond,
                                   requestsPerSecondPerCore: Double(result.total.requests) / result.wallSeconds)
        }
        let report = Report(planning: measurements, simulator: speed)
        if json {
            print(try JSONOutput.string(report))
            return
        }
        var out = TextTable(header: ["sessions", "GPUs", "lower bound", "utilization", "plan ms (median)", "re-plan ms (median)", "runs"])
        for m in measurements {
            out.add(["\(m.sessions)", "\(m.gpus)", fixed(m.lowerBoundGPUs, 1), fixed(m.utilization, 3), fixed(m.planMs, 2),
                     fixed(m.replanMs, 2), "\(m.runs)"])
        }
        print("Planner (synthetic sessions from \(profiles))\n" + out.render())
        if let speed {
            print("\n[SIMULATED] simulator speed on \(speed.workload), \(fixed(speed.simulatedSeconds, 0)) simulated s: " +
                  "\(speed.calls) model calls (\(speed.requests) requests) in \(fixed(speed.wallSeconds, 2)) s wall = " +
                  "\(fixed(speed.callsPerSecondPerCore / 1e6, 2)) M calls/s per core (\(fixed(speed.requestsPerSecondPerCore / 1e6, 2)) M requests/s)")
        }
    }
}
