import NexusCore

/// Times the planner on synthetic clusters built from real profiles: `sessionCount` sessions of random
/// models and SLOs whose rates are drawn so that each needs one GPU on average (so 10,000 sessions land on
/// about 10,000 GPUs, the scale the issue asks for).
public struct PlanningBenchmark: Sendable {
    public var curves: [LatencyCurve]
    public var seed: UInt64 = 1

    public init(curves: [LatencyCurve], seed: UInt64 = 1) {
        precondition(!curves.isEmpty, "PlanningBenchmark needs at least one profile")
        self.curves = curves
        self.seed = seed
    }

    public struct Measurement: Encodable, Sendable {
        public var sessions: Int
        public var gpus: Int
        public var lowerBoundGPUs: Double
        public var utilization: Double
        /// Median of the runs, from scratch.
        public var planMs: Double
        /// Median of the runs, re-planning with the previous plan after every rate moved by up to ±15%.
        public var replanMs: Double
        public var runs: Int
    }

    public func demands(count: Int) -> [SessionDemand] {
        var random = RandomSource(seed: seed, stream: UInt64(count))
        var demands: [SessionDemand] = []
        while demands.count < count {
            let curve = curves[Int(random.next() % UInt64(curves.count))]
            let slo = 2 + random.unit() * 98
            guard let point = curve.saturatedPoint(gpuBudgetMs: slo - 0.5) else { continue }
            let rate = random.unit() * 2 * point.throughputPerSecond
            demands.append(SessionDemand(id: "s\(demands.count)", curve: curve, latencySLOMs: slo, gpuBudgetMs: slo - 0.5,
                                         ratePerSecond: rate))
        }
        return demands
    }

    public func measure(sessionCount: Int, runs: Int, planner: Planner = Planner()) -> Measurement {
        let demands = demands(count: sessionCount)
        var random = RandomSource(seed: seed, stream: 99)
        let moved = demands.map { demand -> SessionDemand in
            var copy = demand
            copy.ratePerSecond *= 0.85 + 0.3 * random.unit()
            return copy
        }
        var planTimes: [Double] = []
        var replanTimes: [Double] = []
        var plan = planner.plan(demands)
        for _ in 0..<runs {
            let start = Simulation.monotonicSeconds()
            plan = planner.plan(demands)
            planTimes.append(Simulation.monotonicSeconds() - start)
            let restart = Simulation.monotonicSeconds()
            _ = planner.plan(moved, previous: plan)
            replanTimes.append(Simulation.monotonicSeconds() - restart)
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] * 1000 }
        return Measurement(sessions: sessionCount, gpus: plan.gpus, lowerBoundGPUs: plan.lowerBoundGPUs,
                           utilization: plan.utilization, planMs: median(planTimes), replanMs: median(replanTimes), runs: runs)
    }
}
