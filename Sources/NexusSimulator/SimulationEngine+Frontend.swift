import NexusCore

/// The frontend's part: client requests, the application tree with deadlines carrying slack, routing by
/// weighted deficit round robin, and exactly one outcome per request.
extension SimulationEngine {
    mutating func applyTraffic(_ traffic: TrafficSnapshot, nowNs: Int64) {
        for a in workload.applications.indices {
            let changed = appRatePerSecond[a] != traffic.applicationRates[a]
            appRatePerSecond[a] = traffic.applicationRates[a]
            for (s, gamma) in traffic.stageGammas[a].enumerated() { stageGamma[appFirstStage[a] + s] = gamma }
            if changed && nowNs > 0 { scheduleArrival(app: a, nowNs: nowNs) }
        }
    }

    /// Trace-like arrivals: each application's rate factor steps, and its next arrival is drawn at the new rate.
    mutating func stepRates(nowNs: Int64) {
        for app in appRateWalk.indices {
            appRateWalk[app].step(random: &rateWalkRandom)
            scheduleArrival(app: app, nowNs: nowNs)
        }
        if case let .randomWalk(stepSeconds, _) = arrivalProcess { scheduleRateStep(afterNs: nowNs, stepSeconds: stepSeconds) }
    }

    mutating func scheduleRateStep(afterNs nowNs: Int64, stepSeconds: Double) {
        let next = nowNs + Int64((stepSeconds * 1e9).rounded())
        if next < endNs { events.push(next, .rateStep) }
    }

    /// Draws the next request of `app` (a new version cancels any pending one, for phase changes).
    mutating func scheduleArrival(app: Int, nowNs: Int64) {
        appArrivalVersion[app] &+= 1
        let rate = appRatePerSecond[app] * (appRateWalk.isEmpty ? 1 : appRateWalk[app].factor)
        guard rate > 0 else { return }
        let time = nowNs + arrivalProcess.gapNs(ratePerSecond: rate, random: &arrivalRandom[app])
        if time < endNs { events.push(time, .arrival, Int32(app), appArrivalVersion[app]) }
    }

    mutating func clientRequest(app: Int, version: Int32, nowNs: Int64) {
        guard version == appArrivalVersion[app] else { return }
        let request = newRequest(app: app, nowNs: nowNs)
        stats.requests[app] += 1
        stats.timeline[stats.bucket(arrivalNs: nowNs)].requests += 1
        for root in appRoots[app] { spawn(stage: Int(root), request: request, nowNs: nowNs, isRoot: true) }
        if requestPending[Int(request)] == 0 { finishRequest(request, nowNs: nowNs) }
        scheduleArrival(app: app, nowNs: nowNs)
    }

    /// Calls `stage` gamma times for `request` (gamma 1.5: once, and a second time with probability 0.5).
    mutating func spawn(stage: Int, request: Int32, nowNs: Int64, isRoot: Bool) {
        let gamma = stageGamma[stage]
        // A draw only for a fractional gamma, so integer fan-outs use no randomness.
        let count = FanOut.calls(gamma: gamma, unit: gamma != gamma.rounded(.down) ? fanOutRandom.unit() : 0)
        for _ in 0..<count { dispatch(stage: stage, request: request, nowNs: nowNs, isRoot: isRoot) }
    }

    mutating func dispatch(stage: Int, request: Int32, nowNs: Int64, isRoot: Bool) {
        stageCount[stage] += 1
        stats.calls += 1
        let call = newCall(stage: stage, request: request)
        // Deadline = arrival + the budgets of every stage on the path: a stage that finishes early passes its slack on.
        callDeadlineNs[Int(call)] = requestArrivalNs[Int(request)] + stageDeadlineOffsetNs[stage]
        requestPending[Int(request)] += 1
        if isRoot { rootPipe.push(nowNs + rootDelayNs, call) } else { childPipe.push(nowNs + childDelayNs, call) }
    }

    mutating func callReachesBackend(_ call: Int32, nowNs: Int64) {
        callArrivalNs[Int(call)] = nowNs
        route(call, nowNs: nowNs, startExecutors: true)
    }

    /// Routes with the table in force when the call reaches the backends (route updates are
    /// make-before-break); a call re-routed after a plan change keeps its arrival time.
    mutating func route(_ call: Int32, nowNs: Int64, startExecutors: Bool) {
        let session = stageSession[Int(callStage[Int(call)])]
        if case .central = executor, session >= 0 {
            sessionQueue[Int(session)].insert(call, deadlineNs: callDeadlineNs[Int(call)])
            if startExecutors { centralArrival(session: Int(session), nowNs: nowNs) }
            return
        }
        guard session >= 0, let slot = sessionRoutes[Int(session)].next() else {
            stats.unroutable += 1
            dropCall(call, nowNs: nowNs)
            return
        }
        slotQueue[Int(slot)].insert(call, deadlineNs: callDeadlineNs[Int(call)])
        if startExecutors { startExecutor(slot: Int(slot), nowNs: nowNs) }
    }

    mutating func startExecutor(slot: Int, nowNs: Int64) {
        switch executor {
        case .turns:
            let gpu = Int(slotGPU[slot])
            if !gpuBusy[gpu] { startTurn(gpu: gpu, nowNs: nowNs) }
        case .clipper:
            if !slotBusy[slot] { startClipperBatch(slot: slot, nowNs: nowNs) }
        case .triton:
            if !slotBusy[slot] { evaluateBatcher(slot: slot, nowNs: nowNs) }
        case .central:
            break
        }
    }

    /// A call's batch finished: its children run next, carrying the request's deadline slack.
    mutating func completeCall(_ call: Int32, nowNs: Int64) {
        let request = callRequest[Int(call)]
        let stage = Int(callStage[Int(call)])
        if !requestFailed[Int(request)] {
            for child in stageChildren[stage] { spawn(stage: Int(child), request: request, nowNs: nowNs, isRoot: false) }
        }
        releaseCall(call, request: request, nowNs: nowNs)
    }

    /// Early or lazy drop, or no route: the client is answered "dropped" at once.
    mutating func dropCall(_ call: Int32, nowNs: Int64) {
        let request = callRequest[Int(call)]
        if !requestFailed[Int(request)] {
            requestFailed[Int(request)] = true
            stats.dropped[Int(requestApp[Int(request)])] += 1
            stats.timeline[stats.bucket(arrivalNs: requestArrivalNs[Int(request)])].dropped += 1
        }
        stats.droppedCalls += 1
        releaseCall(call, request: request, nowNs: nowNs)
    }

    private mutating func releaseCall(_ call: Int32, request: Int32, nowNs: Int64) {
        freeCalls.append(call)
        requestPending[Int(request)] -= 1
        if requestPending[Int(request)] == 0 { finishRequest(request, nowNs: nowNs) }
    }

    mutating func finishRequest(_ request: Int32, nowNs: Int64) {
        let index = Int(request)
        let app = Int(requestApp[index])
        if !requestFailed[index] {
            let latency = nowNs + postprocessNs - requestArrivalNs[index]
            stats.latency[app].record(latency)
            if latency <= appSLONs[app] {
                stats.withinSLO[app] += 1
            } else {
                stats.late[app] += 1
                stats.timeline[stats.bucket(arrivalNs: requestArrivalNs[index])].late += 1
            }
        }
        freeRequests.append(request)
    }

    mutating func newRequest(app: Int, nowNs: Int64) -> Int32 {
        if let request = freeRequests.popLast() {
            let index = Int(request)
            requestArrivalNs[index] = nowNs
            requestApp[index] = Int32(app)
            requestPending[index] = 0
            requestFailed[index] = false
            return request
        }
        requestArrivalNs.append(nowNs)
        requestApp.append(Int32(app))
        requestPending.append(0)
        requestFailed.append(false)
        return Int32(requestArrivalNs.count - 1)
    }

    mutating func newCall(stage: Int, request: Int32) -> Int32 {
        if let call = freeCalls.popLast() {
            callRequest[Int(call)] = request
            callStage[Int(call)] = Int32(stage)
            return call
        }
        callRequest.append(request)
        callStage.append(Int32(stage))
        callDeadlineNs.append(0)
        callArrivalNs.append(0)
        return Int32(callRequest.count - 1)
    }
}
