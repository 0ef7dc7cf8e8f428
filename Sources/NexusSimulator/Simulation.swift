import NexusCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs one policy on one workload in simulated time.
public enum Simulation {
    public static func run(workload: Workload, curves: ModelCurves, config: SimulationConfig) throws -> SimulationResult {
        guard let sweep = queueDelaySweep(config) else { return try runOnce(workload: workload, curves: curves, config: config) }
        var best: SimulationResult?
        for trial in sweep {
            let result = try runOnce(workload: workload, curves: curves, config: trial)
            if best == nil || result.total.withinSLOFraction > best!.total.withinSLOFraction { best = result }
        }
        return best!
    }

    /// `triton-deployed` without a fixed queue delay: one configuration per delay of the sweep.
    static func queueDelaySweep(_ config: SimulationConfig) -> [SimulationConfig]? {
        guard config.policy == .tritonDeployed, config.tritonQueueDelayFraction == nil else { return nil }
        return SimulationConfig.tritonQueueDelaySweep.map { fraction in
            var trial = config
            trial.tritonQueueDelayFraction = fraction
            return trial
        }
    }

    static func runOnce(workload: Workload, curves: ModelCurves, config: SimulationConfig) throws -> SimulationResult {
        let started = monotonicSeconds()
        var engine = SimulationEngine(workload: workload, curves: curves, config: config)
        let stats = try engine.run()
        let wall = monotonicSeconds() - started
        var applications: [ApplicationResult] = []
        var all = LatencyHistogram()
        for (a, name) in stats.applications.enumerated() {
            all.merge(stats.latency[a])
            applications.append(ApplicationResult(
                name: name, requests: stats.requests[a], withinSLO: stats.withinSLO[a], dropped: stats.dropped[a],
                late: stats.late[a], histogram: stats.latency[a], latencySLOMs: Double(engine.appSLONs[a]) / 1e6))
        }
        let total = ApplicationResult(
            name: "total", requests: stats.requests.reduce(0, +), withinSLO: stats.withinSLO.reduce(0, +),
            dropped: stats.dropped.reduce(0, +), late: stats.late.reduce(0, +), histogram: all,
            latencySLOMs: Set(engine.appSLONs).count == 1 ? Double(engine.appSLONs[0]) / 1e6 : nil, keepHistogram: true)
        let seconds = max(stats.simulatedSeconds, 1e-9)
        let gpusMean = stats.gpuSecondsIntegral / seconds
        return SimulationResult(
            policy: config.policy.rawValue, workload: workload.name, seed: config.seed,
            durationSeconds: config.durationSeconds, arrival: engine.arrivalProcess.description,
            totalRatePerSecond: engine.traffic(atNs: 0).totalRatePerSecond,
            gpusMean: gpusMean, gpusMax: stats.maxGPUs, lowerBoundGPUsMean: stats.lowerBoundSecondsIntegral / seconds,
            utilization: stats.gpuSecondsIntegral > 0 ? stats.lowerBoundSecondsIntegral / stats.gpuSecondsIntegral : 1,
            busyFraction: stats.gpuSecondsIntegral > 0 ? stats.gpuBusySeconds / stats.gpuSecondsIntegral : 0,
            epochs: stats.epochs, modelLoads: stats.modelLoads, minAdmittedFraction: stats.minAdmittedFraction,
            tritonQueueDelayFraction: config.policy == .tritonDeployed ? config.tritonQueueDelayFraction : nil,
            preemptions: stats.preemptions,
            calls: stats.calls, meanBatchSize: stats.batches > 0 ? Double(stats.batchedCalls) / Double(stats.batches) : 0,
            applications: applications, total: total, epochLog: stats.epochLog, timeline: stats.timeline, wallSeconds: wall)
    }

    static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
