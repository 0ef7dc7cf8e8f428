import ArgumentParser
import Foundation
import NexusConfig
import NexusCore
import NexusSimulator

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a workload on simulated GPUs (profile-driven) under Nexus, its ablations and the baselines.",
        discussion: """
        Every figure this command prints is SIMULATED: batch times are drawn between the profile's median and \
        p99, not measured on hardware. Policies: \(SimulationPolicy.allCases.map(\.rawValue).joined(separator: ", ")) \
        (or 'all'). The baselines are described in DESIGN.md §5 and README.md.
        """
    )

    @OptionGroup var workloadOptions: WorkloadOptions

    @Option(name: .long, help: "Policy to run; repeat for several, or 'all'.")
    var policy: [String] = ["nexus"]

    @Option(name: .long, help: "Simulated seconds of client traffic (default: the workload's durationSeconds, else 60).")
    var duration: Double?

    @Option(name: .long, help: "Random seed; the same seed gives the same results.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Arrivals: poisson, uniform, bursty (Gamma gaps, see --cv) or trace (Poisson whose rates follow a random walk, see --trace-step-seconds). Default: the workload's.")
    var arrival: ArrivalChoice?

    @Option(name: .long, help: "Coefficient of variation of bursty arrivals (1 = Poisson).")
    var cv: Double = 2

    @Option(name: .long, help: "Trace-like arrivals: seconds between steps of each application's rate walk.")
    var traceStepSeconds: Double = 5

    @Option(name: .long, help: "Trace-like arrivals: stationary standard deviation of the log rate factor (0.3: rates mostly within -26%...+35%).")
    var traceSpread: Double = 0.3

    @Option(name: .long, help: "Hold this phase (name or index) for the whole run.")
    var phase: String?

    @Option(name: .long, help: "Start the workload's timeline at this second.")
    var startSeconds: Double = 0

    @Option(name: .long, help: "Cluster size (default: the workload's gpus; 0: as many as the plan asks for).")
    var gpus: Int?

    @Option(name: .long, help: "Seconds between planning epochs.")
    var epochSeconds: Double = Double(EpochTrigger().epochNs) / 1e9

    @Option(name: .long, help: "Never plan again sooner than this many seconds after the last plan (except for a rise, see --rise-epoch-seconds).")
    var minEpochSeconds: Double = Double(EpochTrigger().minimumIntervalNs) / 1e9

    @Option(name: .long, help: "A rate rising above the band may trigger a plan this many seconds after the last one.")
    var riseEpochSeconds: Double = Double(EpochTrigger().riseIntervalNs) / 1e9

    @Option(name: .long, help: "Every policy plans capacity for (1 + headroom) x the measured rate.")
    var headroom: Double = PlanningSettings().rateHeadroom

    @Option(name: .long, help: "Keep last epoch's latency split unless the new one needs this fraction fewer GPUs.")
    var splitHysteresis: Double = PlanningSettings().splitHysteresis

    @Flag(name: .long, help: "Follow rate rises only through the 10 s EWMA (no jump on a significant rise).")
    var noFastRise = false

    @Flag(name: .long, help: "Check every Nexus plan against every constraint of DESIGN.md §3.2 (slower).")
    var checkPlans = false

    @Flag(name: .long, help: "Find each policy's highest total rate with >= --target of requests within SLO on the cluster.")
    var findMaxRate = false

    @Flag(name: .customLong("find-min-gpus"), help: "Find each policy's fewest GPUs with >= --target of requests within SLO at the workload's rate (or --rate).")
    var findMinGPUs = false

    @Option(name: .customLong("max-gpus"), help: "Largest cluster --find-min-gpus tries.")
    var maxGPUs: Int = 1024

    @Option(name: .long, help: "triton-deployed: max_queue_delay as a fraction of each model's budget (default: the best of a sweep over \(SimulationConfig.tritonQueueDelaySweep.map { "\($0)" }.joined(separator: ", "))).")
    var tritonQueueDelay: Double?

    @Option(name: .long, help: "Fraction of requests within SLO that --find-max-rate and --find-min-gpus require.")
    var target: Double = 0.99

    @Option(name: .long, help: "Relative precision of --find-max-rate.")
    var precision: Double = 0.01

    @Flag(name: .long, help: "Print JSON instead of tables.")
    var json = false

    enum ArrivalChoice: String, ExpressibleByArgument, CaseIterable { case poisson, uniform, bursty, trace }

    func validate() throws {
        if let duration, !(duration > 0 && duration <= 1_000_000) { throw ValidationError("--duration must be in (0, 1000000] seconds, got \(duration)") }
        guard cv > 0, cv <= 100 else { throw ValidationError("--cv must be in (0, 100], got \(cv)") }
        guard traceStepSeconds > 0, traceStepSeconds <= 3600 else { throw ValidationError("--trace-step-seconds must be in (0, 3600], got \(traceStepSeconds)") }
        guard traceSpread >= 0, traceSpread <= 2 else { throw ValidationError("--trace-spread must be in 0...2, got \(traceSpread)") }
        guard !(findMaxRate && findMinGPUs) else { throw ValidationError("--find-max-rate and --find-min-gpus ask different questions: give one") }
        guard maxGPUs >= 1, maxGPUs <= 100_000 else { throw ValidationError("--max-gpus must be in 1...100000, got \(maxGPUs)") }
        if let tritonQueueDelay, !(tritonQueueDelay >= 0 && tritonQueueDelay <= 1) {
            throw ValidationError("--triton-queue-delay must be in 0...1 (a fraction of the model's budget), got \(tritonQueueDelay)")
        }
        guard startSeconds >= 0 else { throw ValidationError("--start-seconds must be >= 0, got \(startSeconds)") }
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be >= 0, got \(gpus)") }
        guard epochSeconds > 0 else { throw ValidationError("--epoch-seconds must be > 0, got \(epochSeconds)") }
        guard minEpochSeconds >= 0, minEpochSeconds <= epochSeconds else {
            throw ValidationError("--min-epoch-seconds must be in 0...--epoch-seconds (\(epochSeconds)), got \(minEpochSeconds)")
        }
        guard riseEpochSeconds >= 0, riseEpochSeconds <= minEpochSeconds else {
            throw ValidationError("--rise-epoch-seconds must be in 0...--min-epoch-seconds (\(minEpochSeconds)), got \(riseEpochSeconds)")
        }
        guard headroom >= 0, headroom <= 10 else { throw ValidationError("--headroom must be in 0...10, got \(headroom)") }
        guard splitHysteresis >= 0, splitHysteresis <= 1 else { throw ValidationError("--split-hysteresis must be in 0...1, got \(splitHysteresis)") }
        guard target > 0, target <= 1 else { throw ValidationError("--target must be in (0, 1], got \(target)") }
        guard precision > 0, precision < 1 else { throw ValidationError("--precision must be in (0, 1), got \(precision)") }
        _ = try policies()
    }

    func policies() throws -> [SimulationPolicy] {
        if policy.contains("all") { return SimulationPolicy.allCases }
        return try policy.map { name in
            guard let policy = SimulationPolicy(rawValue: name) else {
                throw ValidationError("--policy: unknown policy '\(name)' (known: \(SimulationPolicy.allCases.map(\.rawValue).joined(separator: ", ")), all)")
            }
            return policy
        }
    }

    func run() throws {
        let loaded = try reportingErrors { try workloadOptions.load() }
        let workload = loaded.workload
        var config = SimulationConfig()
        config.durationSeconds = duration ?? workload.durationSeconds ?? 60
        config.seed = seed
        switch arrival {
        case .poisson: config.arrival = .poisson
        case .uniform: config.arrival = .uniform
        case .bursty: config.arrival = .bursty(coefficientOfVariation: cv)
        case .trace: config.arrival = .randomWalk(stepSeconds: traceStepSeconds, spread: traceSpread)
        case nil: config.arrival = nil
        }
        config.totalRatePerSecond = workloadOptions.rate
        if let phase { config.pinnedPhase = try reportingErrors { try workloadOptions.phaseIndex(phase, in: loaded) } }
        config.startSeconds = startSeconds
        let clusterSize = gpus ?? workload.gpus ?? 0
        config.gpus = clusterSize > 0 ? clusterSize : nil
        config.scheduler.trigger = EpochTrigger(epochNs: Int64(epochSeconds * 1e9), minimumIntervalNs: Int64(minEpochSeconds * 1e9),
                                                riseIntervalNs: Int64(riseEpochSeconds * 1e9))
        config.scheduler.fastRise = !noFastRise
        config.planning.rateHeadroom = headroom
        config.planning.splitHysteresis = splitHysteresis
        config.planning.sloScale = workloadOptions.sloScale
        config.gpuMemoryMB = workloadOptions.memoryMB(for: loaded)
        config.checkPlans = checkPlans
        config.tritonQueueDelayFraction = tritonQueueDelay
        let arrivalName = (config.arrival ?? (workload.arrival == .uniform ? .uniform : .poisson)).description

        if findMinGPUs {
            var outcomes: [Simulation.MinGPUsOutcome] = []
            for policy in try policies() {
                config.policy = policy
                outcomes.append(try reportingErrors {
                    try Simulation.findMinGPUs(workload: workload, curves: loaded.curves, config: config, maxGPUs: maxGPUs,
                                               targetFraction: target)
                })
                if !json { FileHandle.standardError.write(Data("\(policy.rawValue): done\n".utf8)) }
            }
            let report = MinGPUsReport(workload: workload.name, arrival: arrivalName, targetFraction: target, outcomes: outcomes)
            print(json ? try JSONOutput.string(report) : SimulationTables.render(report))
            return
        }

        if findMaxRate {
            guard config.gpus != nil else {
                throw ValidationError("--find-max-rate needs a fixed cluster: give --gpus or a workload with 'gpus'")
            }
            var outcomes: [Simulation.MaxRateOutcome] = []
            for policy in try policies() {
                config.policy = policy
                let search = MaxRateSearch(startRatePerSecond: workloadOptions.rate ?? workload.totalRatePerSecond,
                                           relativePrecision: precision)
                outcomes.append(try reportingErrors {
                    try Simulation.findMaxRate(workload: workload, curves: loaded.curves, config: config, search: search,
                                               targetFraction: target)
                })
                if !json { FileHandle.standardError.write(Data("\(policy.rawValue): done\n".utf8)) }
            }
            let bound = try reportingErrors {
                try CapacityBound.ratePerSecond(workload: workload, curves: loaded.curves, gpus: config.gpus!,
                                                phaseIndex: config.pinnedPhase ?? workload.phaseIndex(atSeconds: config.startSeconds),
                                                sloScale: config.planning.sloScale)
            }
            let report = MaxRateReport(workload: workload.name, gpus: config.gpus!, arrival: arrivalName, targetFraction: target,
                                       capacityBoundPerSecond: bound, outcomes: outcomes)
            print(json ? try JSONOutput.string(report) : SimulationTables.render(report))
        } else {
            var results: [SimulationResult] = []
            for policy in try policies() {
                config.policy = policy
                results.append(try reportingErrors { try Simulation.run(workload: workload, curves: loaded.curves, config: config) })
            }
            print(json ? try JSONOutput.string(SimulationReport(results: results)) : SimulationTables.render(results))
        }
    }
}
