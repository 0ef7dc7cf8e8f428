extension Plan {
    /// Every constraint of DESIGN.md §3.2, in one place (like swift-collections' `Heap._checkInvariants`):
    /// the planner's tests, the property tests and the simulator all call it. Empty when the plan is sound.
    public func invariantViolations(toleranceMs: Double = 1e-9) -> [String] {
        var violations: [String] = []
        var sessionsByID: [String: PlannedSession] = [:]
        for session in sessions {
            if sessionsByID[session.id] != nil { violations.append("session \(session.id) listed twice") }
            sessionsByID[session.id] = session
        }
        for session in infeasible where sessionsByID[session.id] != nil {
            violations.append("session \(session.id) is both planned and infeasible")
        }
        var allocatedRate: [String: Double] = [:]
        var seenBackends = Set<Int>()
        for backend in backends {
            let name = "backend \(backend.id)"
            if !seenBackends.insert(backend.id).inserted { violations.append("\(name): id used twice") }
            if backend.allocations.isEmpty { violations.append("\(name): no sessions") }
            guard backend.dutyCycleMs > 0 else {
                violations.append("\(name): dutyCycleMs \(backend.dutyCycleMs) must be > 0")
                continue
            }
            let busyMs = backend.allocations.reduce(0) { $0 + $1.latencyMs }
            if busyMs > backend.dutyCycleMs + toleranceMs {
                violations.append("\(name): sum of batch latencies \(busyMs) ms exceeds duty cycle \(backend.dutyCycleMs) ms")
            }
            if backend.memoryMB > gpuMemoryMB + 1e-6 {
                violations.append("\(name): memory \(backend.memoryMB) MB exceeds the device's \(gpuMemoryMB) MB")
            }
            if backend.isSaturated && backend.allocations.count != 1 {
                violations.append("\(name): saturated but runs \(backend.allocations.count) sessions")
            }
            for allocation in backend.allocations {
                let where_ = "\(name), session \(allocation.sessionID)"
                guard let session = sessionsByID[allocation.sessionID] else {
                    violations.append("\(where_): session not in the plan")
                    continue
                }
                allocatedRate[session.id, default: 0] += allocation.ratePerSecond
                if allocation.batch < 1 || allocation.batch > session.saturated.batch {
                    violations.append("\(where_): batch \(allocation.batch) outside 1...\(session.saturated.batch) (B_i)")
                    continue
                }
                let latency = session.curve.latencyMs[allocation.batch]
                if abs(latency - allocation.latencyMs) > toleranceMs {
                    violations.append("\(where_): latencyMs \(allocation.latencyMs) is not the profile's \(latency)")
                }
                if backend.dutyCycleMs + latency > session.gpuBudgetMs + toleranceMs {
                    violations.append("\(where_): duty cycle \(backend.dutyCycleMs) + batch latency \(latency) ms exceeds budget \(session.gpuBudgetMs) ms")
                }
                let capacity = 1000 * Double(allocation.batch) / backend.dutyCycleMs
                if capacity < allocation.ratePerSecond * (1 - 1e-9) {
                    violations.append("\(where_): carries \(allocation.ratePerSecond)/s but batch \(allocation.batch) per \(backend.dutyCycleMs) ms is only \(capacity)/s")
                }
                if backend.isSaturated {
                    if allocation.batch != session.saturated.batch || abs(backend.dutyCycleMs - session.saturated.latencyMs) > toleranceMs {
                        violations.append("\(where_): saturated backend must run B_i=\(session.saturated.batch) every l(B_i)=\(session.saturated.latencyMs) ms")
                    }
                }
            }
        }
        for session in sessions {
            let allocated = allocatedRate[session.id, default: 0]
            if abs(allocated - session.ratePerSecond) > 1e-6 * max(1, session.ratePerSecond) {
                violations.append("session \(session.id): planned \(session.ratePerSecond)/s but backends carry \(allocated)/s")
            }
            if 2 * session.saturated.latencyMs > session.gpuBudgetMs + toleranceMs {
                violations.append("session \(session.id): B_i=\(session.saturated.batch) is not safe: 2*\(session.saturated.latencyMs) > \(session.gpuBudgetMs)")
            }
        }
        if lowerBoundGPUs > Double(backends.count) + 1e-9 {
            violations.append("lowerBoundGPUs \(lowerBoundGPUs) exceeds gpus \(backends.count)")
        }
        return violations
    }

    /// Debug builds stop at the first unsound plan; release builds skip the check.
    public func checkInvariants() {
        assert(invariantViolations().isEmpty, "plan violates DESIGN.md §3.2: \(invariantViolations())")
    }
}
