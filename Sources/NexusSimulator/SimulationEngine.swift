import NexusCore

/// The discrete-event simulator, in virtual time: a simulated frontend, simulated GPUs, and the scheduler
/// `nexus serve` runs (NexusCore's `SchedulerState`, fed the same events: nodes register and beat, the
/// frontend reports counts per stage, the simulator applies the assignments it returns). Deadlines come from
/// `StageDeadlines` and turn-taking GPUs ask `TurnPolicy`, as the frontend and the backend executor do. Every
/// output it produces is labelled simulated. Single-threaded and allocation-free on its hot path; state is
/// kept as flat arrays indexed by small integers (stages, sessions, slots, GPUs, calls, requests).
struct SimulationEngine {
    let workload: Workload
    let config: SimulationConfig
    let endNs: Int64
    /// A call reaches its backend this long after its request arrives (roots) or after its parent's batch
    /// ends (children): network plus preprocessing, and for children the parent's postprocessing.
    let rootDelayNs: Int64
    let childDelayNs: Int64
    /// Postprocessing of the last call before the client has its answer.
    let postprocessNs: Int64
    let arrivalProcess: ArrivalProcess
    let executor: SimulationPolicy.Executor

    /// The control plane, and the simulated nodes registered with it.
    var scheduler: SchedulerState
    var frontendNode: UInt64 = 0
    var gpuNode: [UInt64] = []
    var gpuOfNode: [UInt64: Int] = [:]
    /// The plan the GPUs run now (the scheduler's, once applied).
    var plan: Plan?

    var events = EventQueue()
    /// Calls on their way to a backend: one FIFO per delay keeps each in time order.
    var rootPipe = NetworkPipe()
    var childPipe = NetworkPipe()
    var arrivalRandom: [RandomSource]
    var fanOutRandom: RandomSource
    var serviceRandom: RandomSource

    // Applications and their stages, flattened: stage `g` is stage `stageIndex[g]` of application `stageApp[g]`.
    var appSLONs: [Int64] = []
    var appRatePerSecond: [Double] = []
    var appArrivalVersion: [Int32] = []
    /// Trace-like arrivals: each application's rate walk, and the walks' random stream.
    var appRateWalk: [RateWalk] = []
    var rateWalkRandom: RandomSource
    var appRoots: [[Int32]] = []
    var appFirstStage: [Int] = []
    var stageApp: [Int32] = []
    var stageChildren: [[Int32]] = []
    var stageGamma: [Double] = []
    var stageSession: [Int32] = []
    var stageDeadlineOffsetNs: [Int64] = []
    /// Calls per stage since the last beacon: what the frontend reports.
    var stageCount: [Int] = []

    // The sessions of the plan in force.
    var sessionIDs: [String] = []
    var sessionCurves: [LatencyCurve] = []
    var sessionRoutes: [DeficitRoundRobin<Int32>] = []

    // Slots: one (GPU, session) pair of the plan, with its queue.
    var slotGPU: [Int32] = []
    var slotSession: [Int32] = []
    var slotMaxBatch: [Int] = []
    var slotGrowCap: [Int] = []
    /// The planned latency of each batch size (index), from the slot's table entry.
    var slotLatencyNs: [[Int64]] = []
    var slotQueue: [DeadlineQueue<Int32>] = []
    var slotAIMD: [AIMDBatchSize?] = []
    var slotBatcher: [DynamicBatchPolicy?] = []
    var slotBusy: [Bool] = []
    var slotTimerVersion: [Int32] = []
    /// Timer versions are unique across re-plans, so a timer of a slot that no longer exists never fires.
    var timerSerial: Int32 = 0

    // Central dispatch (`SimulationEngine+Central`): one queue per session, placement groups per GPU.
    var sessionQueue: [DeadlineQueue<Int32>] = []
    var sessionLatencyNs: [[Int64]] = []
    var sessionMaxBatch: [Int] = []
    var sessionGPUs: [[Int32]] = []
    var sessionTimerVersion: [Int32] = []
    var gpuHolds: [[Int32]] = []
    var gpuRunningSession: [Int32] = []
    var gpuRunningStartNs: [Int64] = []
    var gpuIdleSinceNs: [Int64] = []
    /// What a GPU can hold, for the placement groups of central dispatch and `triton-deployed`.
    let gpuMemoryMB: Double

    // GPUs.
    var gpuSlots: [[Int32]] = []
    var gpuTurns: [RoundRobinTurns] = []
    var gpuBusy: [Bool] = []
    var gpuToken: [Int32] = []
    var gpuRunning: [[Int32]] = []
    var gpuBusyNs: [Int64] = []
    var gpuJobs: [[SharedJob]] = []
    var gpuLastUpdateNs: [Int64] = []
    var gpuVersion: [Int32] = []

    // Calls (one model invocation) and requests (one client request), recycled through free lists.
    var callRequest: [Int32] = []
    var callStage: [Int32] = []
    var callDeadlineNs: [Int64] = []
    var callArrivalNs: [Int64] = []
    var freeCalls: [Int32] = []
    var requestArrivalNs: [Int64] = []
    var requestApp: [Int32] = []
    var requestPending: [Int32] = []
    var requestFailed: [Bool] = []
    var freeRequests: [Int32] = []
    var scratch: [Int32] = []

    var stats: RunStatistics

    init(workload: Workload, curves: ModelCurves, config: SimulationConfig) {
        self.workload = workload
        self.config = config
        endNs = Int64((config.durationSeconds * 1e9).rounded())
        let networkNs = Int64(((workload.networkMs ?? 0) * 1e6).rounded())
        let preprocessNs = Int64(((workload.preprocessMs ?? 0) * 1e6).rounded())
        postprocessNs = Int64(((workload.postprocessMs ?? 0) * 1e6).rounded())
        rootDelayNs = networkNs + preprocessNs
        childDelayNs = postprocessNs + networkNs + preprocessNs
        arrivalProcess = config.arrival ?? (workload.arrival == .uniform ? .uniform : .poisson)
        executor = config.policy.executor
        var settings = config.planning
        settings.gpuMemoryMB = config.gpuMemoryMB ?? workload.gpuMemoryMB ?? settings.gpuMemoryMB
        gpuMemoryMB = settings.gpuMemoryMB
        var schedulerConfig = config.scheduler
        schedulerConfig.backendLimit = config.gpus == nil ? .unbounded : .liveBackends
        scheduler = SchedulerState(
            applications: workload.applications.map { ServedApplication(spec: $0, childInputs: $0.stages.map { _ in .same }) },
            planner: config.policy.planning(settings, curves: curves, overheadMs: workload.overheadMs),
            config: schedulerConfig)
        arrivalRandom = workload.applications.indices.map { RandomSource(seed: config.seed, stream: UInt64($0) + 1) }
        fanOutRandom = RandomSource(seed: config.seed, stream: 1_000_001)
        serviceRandom = RandomSource(seed: config.seed, stream: 1_000_002)
        rateWalkRandom = RandomSource(seed: config.seed, stream: 1_000_003)
        stats = RunStatistics(applications: workload.applications.map(\.name))

        for (a, app) in workload.applications.enumerated() {
            appSLONs.append(Int64((app.latencySLOMs * config.planning.sloScale * 1e6).rounded()))
            appFirstStage.append(stageApp.count)
            let parents = app.parentIndices
            let roots = parents.indices.filter { parents[$0] == nil }.map { Int32(stageApp.count + $0) }
            appRoots.append(roots)
            for s in app.stages.indices {
                stageApp.append(Int32(a))
                stageChildren.append(parents.indices.filter { parents[$0] == s }.map { Int32(appFirstStage[a] + $0) })
            }
        }
        let stageTotal = stageApp.count
        stageGamma = [Double](repeating: 1, count: stageTotal)
        stageSession = [Int32](repeating: -1, count: stageTotal)
        stageCount = [Int](repeating: 0, count: stageTotal)
        stageDeadlineOffsetNs = [Int64](repeating: 0, count: stageTotal)
        appRatePerSecond = [Double](repeating: 0, count: workload.applications.count)
        appArrivalVersion = [Int32](repeating: 0, count: workload.applications.count)
        if case let .randomWalk(_, spread) = arrivalProcess {
            appRateWalk = workload.applications.map { _ in RateWalk(spread: spread) }
        }
    }

    /// The phase in force at simulated time `timeNs`.
    func phaseIndex(atNs timeNs: Int64) -> Int? {
        if let pinned = config.pinnedPhase { return pinned }
        return workload.phaseIndex(atSeconds: config.startSeconds + Double(timeNs) / 1e9)
    }

    func traffic(atNs timeNs: Int64) -> TrafficSnapshot {
        workload.traffic(phaseIndex: phaseIndex(atNs: timeNs), totalRatePerSecond: config.totalRatePerSecond)
    }

    mutating func run() throws -> RunStatistics {
        // The scheduler starts from the declared rates (the first plan is sized for them, as in the servers),
        // with the simulated frontend and GPUs registered.
        let initial = traffic(atNs: 0)
        applyTraffic(initial, nowNs: 0)
        scheduler = SchedulerState(applications: scheduler.applications, planner: scheduler.planner,
                                   config: scheduler.config, declaredStageRates: initial.stageRates)
        frontendNode = scheduler.register(kind: .frontend, address: "simulated-frontend", device: "cpu",
                                          runtime: "simulated", nowNs: 0)
        registerGPUs(config.gpus ?? 0, nowNs: 0)
        _ = try scheduler.replan(nowNs: 0, cause: .start)
        try applyAssignment(nowNs: 0)
        for a in workload.applications.indices { scheduleArrival(app: a, nowNs: 0) }
        for (index, phase) in (workload.phases ?? []).enumerated() where config.pinnedPhase == nil {
            let atNs = Int64(((phase.atSeconds - config.startSeconds) * 1e9).rounded())
            if atNs > 0 && atNs < endNs { events.push(atNs, .phase, Int32(index)) }
        }
        if config.scheduler.beaconNs < endNs { events.push(config.scheduler.beaconNs, .beacon) }
        scheduleReport(afterNs: 0)
        if case let .randomWalk(stepSeconds, _) = arrivalProcess { scheduleRateStep(afterNs: 0, stepSeconds: stepSeconds) }

        while true {
            let rootTime = rootPipe.nextTimeNs ?? .max
            let childTime = childPipe.nextTimeNs ?? .max
            let eventTime = events.nextTimeNs ?? .max
            if rootTime == .max && childTime == .max && eventTime == .max { break }
            if rootTime <= eventTime || childTime <= eventTime {
                if rootTime <= childTime {
                    callReachesBackend(rootPipe.pop(), nowNs: rootTime)
                } else {
                    callReachesBackend(childPipe.pop(), nowNs: childTime)
                }
                continue
            }
            let event = events.pop()!
            let now = event.timeNs
            switch event.kind {
            case .arrival: clientRequest(app: Int(event.a), version: event.b, nowNs: now)
            case .batchDone: turnBatchDone(gpu: Int(event.a), token: event.b, nowNs: now)
            case .sharedGPUTick: sharedGPUTick(gpu: Int(event.a), version: event.b, nowNs: now)
            case .batcherTimer: batcherTimer(slot: Int(event.a), version: event.b, nowNs: now)
            case .sessionTimer: sessionTimer(session: Int(event.a), version: event.b, nowNs: now)
            case .centralBatchDone: centralBatchDone(gpu: Int(event.a), token: event.b, nowNs: now)
            case .beacon: try beacon(nowNs: now)
            case .report: try report(nowNs: now)
            case .phase: applyTraffic(traffic(atNs: now), nowNs: now)
            case .rateStep: stepRates(nowNs: now)
            }
        }
        stats.finish(endNs: endNs, gpuBusyNs: gpuBusyNs.reduce(0, +))
        return stats
    }
}

/// A batch running on a processor-sharing GPU.
struct SharedJob {
    var slot: Int32
    /// Solo execution time still to do, in ns.
    var remainingNs: Double
    var calls: [Int32]
    var startNs: Int64
}

/// Calls on their way from a frontend to a backend. Every call in one pipe takes the same time, so calls
/// leave in the order they entered: a FIFO replaces a heap.
struct NetworkPipe {
    private var times: [Int64] = []
    private var calls: [Int32] = []
    private var head = 0

    var nextTimeNs: Int64? { head < times.count ? times[head] : nil }

    mutating func push(_ timeNs: Int64, _ call: Int32) {
        times.append(timeNs)
        calls.append(call)
    }

    mutating func pop() -> Int32 {
        let call = calls[head]
        head += 1
        if head == times.count {
            times.removeAll(keepingCapacity: true)
            calls.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096, head * 2 >= times.count {
            times.removeFirst(head)
            calls.removeFirst(head)
            head = 0
        }
        return call
    }
}
