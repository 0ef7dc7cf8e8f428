/// The working state of one planning run: steps 1-5 of DESIGN.md §3.2 over sessions that are not kept
/// from the previous epoch. Internal; `Planner` is the API and step 6 (stability) lives there.
///
/// Hot paths (best-fit merging of 10,000 residuals) evaluate candidate merges without allocating: a
/// merge is only materialised once it is chosen.
struct SquishyBinPacker {
    struct Session {
        let id: String
        let curve: LatencyCurve
        let gpuBudgetMs: Double
        let point: SaturatedPoint
        /// Rate the backends must carry.
        let ratePerSecond: Double
        let kept: Bool
    }

    struct Member {
        let session: Int
        let ratePerSecond: Double
        var batch: Int
    }

    struct Backend {
        var id: Int?
        var dutyCycleMs: Double
        var members: [Member]
        var busyMs: Double
        var memoryMB: Double
        /// `sum r_j / T_j`: a merged backend can never fit more than 1 of it (a necessary condition).
        var lowerBoundShare: Double
        let saturated: Bool
        var hasKeptMember: Bool
        var removed = false

        var occupancy: Double { busyMs / dutyCycleMs }
    }

    /// A residual waiting to be merged (step 3 output).
    struct Residual {
        let session: Int
        let ratePerSecond: Double
        let batch: Int
        let dutyCycleMs: Double
        var occupancy: Double
    }

    static let epsilon = 1e-9

    var sessions: [Session] = []
    var backends: [Backend] = []
    let gpuMemoryMB: Double

    init(gpuMemoryMB: Double) { self.gpuMemoryMB = gpuMemoryMB }

    // MARK: step 1

    /// `B_i` and `T_i` under the GPU budget, lowered if the batch would not fit the device's memory.
    static func operatingPoint(curve: LatencyCurve, gpuBudgetMs: Double, gpuMemoryMB: Double) -> SaturatedPoint? {
        guard let point = curve.saturatedPoint(gpuBudgetMs: gpuBudgetMs) else { return nil }
        if curve.memoryMB[point.batch] <= gpuMemoryMB { return point }
        // The best safe batch that fits in memory (memory need not grow monotonically in a measured profile).
        var best = 0
        for b in 1...point.largestSafeBatch where curve.memoryMB[b] <= gpuMemoryMB {
            if best == 0 || curve.throughputPerSecond(batch: b) >= curve.throughputPerSecond(batch: best) { best = b }
        }
        guard best > 0 else { return nil }
        return SaturatedPoint(batch: best, latencyMs: curve.latencyMs[best], largestSafeBatch: point.largestSafeBatch)
    }

    // MARK: steps 2 and 3

    /// Step 3 for one residual rate: the largest `b <= B_i` with `b*1000/r' + l(b) <= L'`, and
    /// `d = min(L' - l(b), 1000*b/r')`; nil when even that needs more than a whole backend (then the
    /// residual gets a backend of its own at `B_i`, whose capacity `T_i` exceeds it, and which fits in memory).
    func residualPoint(session index: Int, ratePerSecond rate: Double) -> (batch: Int, dutyCycleMs: Double)? {
        let session = sessions[index]
        let curve = session.curve
        var batch = 1
        var b = session.point.batch
        while b >= 1 {
            if Double(b) * 1000 / rate + curve.latencyMs[b] <= session.gpuBudgetMs + Self.epsilon { batch = b; break }
            b -= 1
        }
        let duty = min(session.gpuBudgetMs - curve.latencyMs[batch], 1000 * Double(batch) / rate)
        // Carry the rate with the smallest batch that does it within this duty cycle.
        let needed = Self.batch(for: rate, dutyCycleMs: duty)
        guard needed <= session.point.batch, curve.latencyMs[needed] <= duty + Self.epsilon,
              curve.memoryMB[needed] <= gpuMemoryMB + Self.epsilon else { return nil }
        return (needed, duty)
    }

    /// `ceil(r * d / 1000)`, at least 1, tolerant of floating-point noise just above an integer.
    @inline(__always)
    static func batch(for rate: Double, dutyCycleMs: Double) -> Int {
        max(1, Int((rate * dutyCycleMs / 1000 - 1e-9).rounded(.up)))
    }

    mutating func addSaturatedBackend(session index: Int, ratePerSecond: Double, id: Int? = nil) {
        let session = sessions[index]
        let batch = session.point.batch
        backends.append(Backend(
            id: id, dutyCycleMs: session.point.latencyMs,
            members: [Member(session: index, ratePerSecond: ratePerSecond, batch: batch)],
            busyMs: session.point.latencyMs, memoryMB: session.curve.memoryMB[batch],
            lowerBoundShare: ratePerSecond / session.point.throughputPerSecond,
            saturated: true, hasKeptMember: session.kept))
    }

    mutating func addResidualBackend(_ residual: Residual) {
        let session = sessions[residual.session]
        backends.append(Backend(
            id: nil, dutyCycleMs: residual.dutyCycleMs,
            members: [Member(session: residual.session, ratePerSecond: residual.ratePerSecond, batch: residual.batch)],
            busyMs: session.curve.latencyMs[residual.batch], memoryMB: session.curve.memoryMB[residual.batch],
            lowerBoundShare: residual.ratePerSecond / session.point.throughputPerSecond,
            saturated: false, hasKeptMember: session.kept))
    }

    // MARK: step 4

    /// Occupancy of `backend` with `residual` merged in, or nil when the merge breaks a rule of step 4:
    /// `d = min(d_j)`, `b_j = ceil(r_j*d/1000) <= B_j`, `sum l_j(b_j) <= d`, `d + l_j(b_j) <= L'_j`, `sum m_j <= M`.
    func mergedOccupancy(_ backend: Backend, adding residual: Residual) -> Double? {
        let duty = min(backend.dutyCycleMs, residual.dutyCycleMs)
        var busy = 0.0
        var memory = 0.0
        if duty == backend.dutyCycleMs {
            busy = backend.busyMs
            memory = backend.memoryMB
        } else {
            for member in backend.members {
                guard let (latency, memoryMB) = cost(of: member.session, rate: member.ratePerSecond, dutyCycleMs: duty) else { return nil }
                busy += latency
                memory += memoryMB
            }
        }
        guard let (latency, memoryMB) = cost(of: residual.session, rate: residual.ratePerSecond, dutyCycleMs: duty) else { return nil }
        busy += latency
        memory += memoryMB
        guard busy <= duty + Self.epsilon, memory <= gpuMemoryMB + Self.epsilon else { return nil }
        return busy / duty
    }

    @inline(__always)
    private func cost(of index: Int, rate: Double, dutyCycleMs: Double) -> (latencyMs: Double, memoryMB: Double)? {
        let session = sessions[index]
        let batch = Self.batch(for: rate, dutyCycleMs: dutyCycleMs)
        guard batch <= session.point.batch else { return nil }
        let latency = session.curve.latencyMs[batch]
        guard dutyCycleMs + latency <= session.gpuBudgetMs + Self.epsilon else { return nil }
        return (latency, session.curve.memoryMB[batch])
    }

    /// Materialises a merge that `mergedOccupancy` accepted.
    mutating func merge(_ residual: Residual, into index: Int) {
        var backend = backends[index]
        let duty = min(backend.dutyCycleMs, residual.dutyCycleMs)
        backend.members.append(Member(session: residual.session, ratePerSecond: residual.ratePerSecond, batch: 0))
        backend.dutyCycleMs = duty
        backend.busyMs = 0
        backend.memoryMB = 0
        for i in backend.members.indices {
            let session = sessions[backend.members[i].session]
            let batch = Self.batch(for: backend.members[i].ratePerSecond, dutyCycleMs: duty)
            backend.members[i].batch = batch
            backend.busyMs += session.curve.latencyMs[batch]
            backend.memoryMB += session.curve.memoryMB[batch]
        }
        backend.lowerBoundShare += residual.ratePerSecond / sessions[residual.session].point.throughputPerSecond
        backend.hasKeptMember = backend.hasKeptMember || sessions[residual.session].kept
        backends[index] = backend
    }

    /// Best fit: the open backend where the merge leaves the highest occupancy (ties: the older backend),
    /// skipping `excluded`; `preferred` (where the session ran last epoch) wins whenever it fits.
    func bestFit(for residual: Residual, preferred: Int? = nil, excluded: Int? = nil) -> Int? {
        if let preferred, preferred != excluded, !backends[preferred].removed, !backends[preferred].saturated,
           mergedOccupancy(backends[preferred], adding: residual) != nil {
            return preferred
        }
        let share = residual.ratePerSecond / sessions[residual.session].point.throughputPerSecond
        var best: Int?
        var bestOccupancy = -1.0
        for index in backends.indices where index != excluded {
            let backend = backends[index]
            if backend.saturated || backend.removed || backend.lowerBoundShare + share > 1 + Self.epsilon { continue }
            guard let occupancy = mergedOccupancy(backend, adding: residual) else { continue }
            if occupancy > bestOccupancy + 1e-12 {
                best = index
                bestOccupancy = occupancy
            }
        }
        return best
    }
}
