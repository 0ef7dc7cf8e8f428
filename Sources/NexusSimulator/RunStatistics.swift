import NexusCore

/// Counters of one simulation run, kept by the engine and turned into a `SimulationResult` at the end.
struct RunStatistics {
    let applications: [String]
    var requests: [Int]
    var withinSLO: [Int]
    var dropped: [Int]
    var late: [Int]
    var latency: [LatencyHistogram]
    var calls = 0
    var droppedCalls = 0
    var unroutable = 0
    var batches = 0
    var batchedCalls = 0
    /// Batches stopped for a larger one (`shepherd-like`); their GPU time is lost.
    var preemptions = 0

    // Plans in force over time.
    var epochs = 0
    var modelLoads = 0
    var maxGPUs = 0
    var minAdmittedFraction = 1.0
    var gpuSecondsIntegral = 0.0
    var lowerBoundSecondsIntegral = 0.0
    var currentGPUs = 0
    var currentLowerBound = 0.0
    var currentSinceNs: Int64 = 0
    var gpuBusySeconds = 0.0
    var simulatedSeconds = 0.0

    init(applications: [String]) {
        self.applications = applications
        let zeros = [Int](repeating: 0, count: applications.count)
        requests = zeros
        withinSLO = zeros
        dropped = zeros
        late = zeros
        latency = [LatencyHistogram](repeating: LatencyHistogram(), count: applications.count)
    }

    var epochLog: [EpochRecord] = []
    /// Outcomes by the 10 s window in which the request arrived.
    var timeline: [TimelineBucket] = []
    static let bucketNs: Int64 = 10_000_000_000

    mutating func bucket(arrivalNs: Int64) -> Int {
        let index = Int(arrivalNs / Self.bucketNs)
        while timeline.count <= index {
            timeline.append(TimelineBucket(startSeconds: Double(timeline.count) * Double(Self.bucketNs) / 1e9, gpus: currentGPUs))
        }
        return index
    }

    /// `gpus`: the GPUs the cluster runs under this plan (the plan's own count, unless the policy uses them all).
    mutating func recordPlan(_ plan: Plan, previous: Plan?, nowNs: Int64, reason: String, gpus: Int) {
        integrate(untilNs: nowNs)
        epochs += 1
        epochLog.append(EpochRecord(atSeconds: Double(nowNs) / 1e9, reason: reason, gpus: gpus, sessions: plan.sessions.count,
                                    lowerBoundGPUs: plan.demandLowerBoundGPUs, admittedFraction: plan.admittedFraction,
                                    infeasibleSessions: plan.infeasible.count))
        currentGPUs = gpus
        if let last = timeline.indices.last, Int64(timeline[last].startSeconds * 1e9) + Self.bucketNs > nowNs {
            timeline[last].gpus = max(timeline[last].gpus, gpus)
        }
        currentLowerBound = plan.demandLowerBoundGPUs
        maxGPUs = max(maxGPUs, gpus)
        minAdmittedFraction = min(minAdmittedFraction, plan.admittedFraction)
        // Each (backend, session) pair that was not there before is a model load on that GPU.
        if let previous {
            var before = Set<String>()
            for backend in previous.backends { for allocation in backend.allocations { before.insert("\(backend.id)|\(allocation.sessionID)") } }
            for backend in plan.backends {
                for allocation in backend.allocations where !before.contains("\(backend.id)|\(allocation.sessionID)") { modelLoads += 1 }
            }
        }
    }

    private mutating func integrate(untilNs: Int64) {
        let seconds = Double(untilNs - currentSinceNs) / 1e9
        gpuSecondsIntegral += seconds * Double(currentGPUs)
        lowerBoundSecondsIntegral += seconds * currentLowerBound
        currentSinceNs = untilNs
    }

    mutating func finish(endNs: Int64, gpuBusyNs: Int64) {
        integrate(untilNs: endNs)
        simulatedSeconds = Double(endNs) / 1e9
        gpuBusySeconds = Double(gpuBusyNs) / 1e9
    }
}

/// One plan the scheduler made during a run.
public struct EpochRecord: Encodable, Sendable {
    public var atSeconds: Double
    /// `start`, `epoch` (30 s elapsed) or `rate` (a session's rate left the band).
    public var reason: String
    public var gpus: Int
    public var sessions: Int
    /// Lower bound of the measured demand.
    public var lowerBoundGPUs: Double
    public var admittedFraction: Double
    public var infeasibleSessions: Int
}

/// Requests that arrived in one 10 s window, and what became of them.
public struct TimelineBucket: Encodable, Sendable {
    public var startSeconds: Double
    public var requests = 0
    public var dropped = 0
    public var late = 0
    /// The most GPUs a plan used during the window.
    public var gpus: Int
}
