/// The allocator every baseline gets (DESIGN.md §5, as the paper gave its baselines): session `i` gets a
/// GPU share `r_i / T_i` (its rate over its single-GPU peak at the largest batch safe for its budget),
/// whole GPUs for the integer part, and the fractional parts packed first-fit decreasing onto GPUs
/// (capacity 1, memory `M`). It ignores that models sharing a GPU take turns and so cannot all keep their
/// batch size: that is the flaw squishy bin packing fixes.
///
/// On a fixed cluster of `G` GPUs the shares are proportional to `r_i / T_i` and scaled to fill the
/// cluster, as the paper ran its baselines: at low load every model gets a generous slice instead of all
/// of them crowding onto one GPU.
public struct BatchObliviousAllocator: Sendable {
    public var gpuMemoryMB: Double
    /// The same capacity margin Nexus plans with, so a comparison differs only in the allocation.
    public var rateHeadroom: Double

    public init(gpuMemoryMB: Double = PlannerConfig().gpuMemoryMB, rateHeadroom: Double = 0) {
        precondition(rateHeadroom >= 0, "rateHeadroom must be >= 0, got \(rateHeadroom)")
        self.gpuMemoryMB = gpuMemoryMB
        self.rateHeadroom = rateHeadroom
    }

    public func plan(_ demands: [SessionDemand], maxBackends: Int? = nil) -> Plan {
        guard let maxBackends else { return plan(demands, admittedFraction: 1) }
        let shares = plan(demands, admittedFraction: 1).lowerBoundGPUs
        let fill = shares > 0 ? Double(maxBackends) / shares : 1
        let filled = plan(demands, admittedFraction: fill)
        if filled.gpus <= maxBackends { return filled }
        return largestAdmittedPlan(maxBackends: maxBackends, upperBound: fill) { plan(demands, admittedFraction: $0) }
    }

    /// `admittedFraction` scales every share (above 1 when filling a cluster larger than the demand).
    /// Allocations carry batch `B_i` (the batch each baseline aims for) and the rate of their share;
    /// `dutyCycleMs` is the sum of the batch latencies, the cycle of models taking turns at `B_i`.
    /// The constraints of DESIGN.md §3.2 do not hold for these plans, by design.
    func plan(_ demands: [SessionDemand], admittedFraction: Double) -> Plan {
        var sessions: [PlannedSession] = []
        var infeasible: [InfeasibleSession] = []
        var pieces: [(session: Int, share: Double)] = []
        var backends: [PlannedBackend] = []
        let planner = Planner(config: PlannerConfig(gpuMemoryMB: gpuMemoryMB))
        for demand in demands.sorted(by: { $0.id < $1.id }) {
            guard let point = SquishyBinPacker.operatingPoint(curve: demand.curve, gpuBudgetMs: demand.gpuBudgetMs,
                                                              gpuMemoryMB: gpuMemoryMB) else {
                infeasible.append(InfeasibleSession(
                    id: demand.id, model: demand.model, latencySLOMs: demand.latencySLOMs, gpuBudgetMs: demand.gpuBudgetMs,
                    ratePerSecond: demand.ratePerSecond, reason: planner.infeasibilityReason(demand), members: demand.members))
                continue
            }
            let rate = demand.ratePerSecond * (1 + rateHeadroom) * admittedFraction
            sessions.append(PlannedSession(
                id: demand.id, curve: demand.curve, latencySLOMs: demand.latencySLOMs, gpuBudgetMs: demand.gpuBudgetMs,
                demandRatePerSecond: demand.ratePerSecond, ratePerSecond: rate, saturated: point,
                prefixGroup: demand.prefixGroup, members: demand.members))
            guard rate > 0 else { continue }
            let split = SaturatedSplit(ratePerSecond: rate, peakPerSecond: point.throughputPerSecond)
            for carried in split.wholeBackendRates {
                backends.append(backend(id: backends.count, allocations: [allocation(sessions.last!, rate: carried)], whole: true))
            }
            if split.residualPerSecond > 0 {
                pieces.append((sessions.count - 1, split.residualPerSecond / point.throughputPerSecond))
            }
        }
        // First-fit decreasing of the fractional shares.
        pieces.sort { ($0.share, sessions[$1.session].id) > ($1.share, sessions[$0.session].id) }
        var bins: [(share: Double, memoryMB: Double, allocations: [Allocation])] = []
        for piece in pieces {
            let session = sessions[piece.session]
            let allocation = allocation(session, rate: piece.share * session.saturated.throughputPerSecond)
            if let bin = bins.firstIndex(where: { $0.share + piece.share <= 1 + 1e-9 && $0.memoryMB + allocation.memoryMB <= gpuMemoryMB }) {
                bins[bin].share += piece.share
                bins[bin].memoryMB += allocation.memoryMB
                bins[bin].allocations.append(allocation)
            } else {
                bins.append((piece.share, allocation.memoryMB, [allocation]))
            }
        }
        for bin in bins { backends.append(backend(id: backends.count, allocations: bin.allocations, whole: false)) }
        return Plan(sessions: sessions, backends: backends, infeasible: infeasible, gpuMemoryMB: gpuMemoryMB,
                    admittedFraction: admittedFraction)
    }

    private func allocation(_ session: PlannedSession, rate: Double) -> Allocation {
        let batch = session.saturated.batch
        return Allocation(sessionID: session.id, batch: batch, ratePerSecond: rate,
                          latencyMs: session.curve.latencyMs[batch], memoryMB: session.curve.memoryMB[batch])
    }

    private func backend(id: Int, allocations: [Allocation], whole: Bool) -> PlannedBackend {
        PlannedBackend(id: id, dutyCycleMs: allocations.reduce(0) { $0 + $1.latencyMs }, allocations: allocations,
                       isSaturated: whole)
    }
}
