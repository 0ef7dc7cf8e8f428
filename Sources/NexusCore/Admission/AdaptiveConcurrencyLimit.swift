/// How many requests of one application a frontend lets in at once, learnt from how they end (issue 11's
/// overload goal): additive increase, multiplicative decrease on the share of admitted requests that missed
/// their SLO. A fixed limit from the plan (Little's law on the planned rate) cannot be right for a tree (a
/// request admitted at the root can still fail at a child after its parent's GPU time was spent), for a plan
/// whose capacity model is off, or for several frontends sharing the backends; the answers are the ground
/// truth. Pure: driven by outcomes, no clock, so tests and the frontend run the same code.
///
/// Outcomes are judged in windows of `windowSize` completions. A window with more than `targetMissRatio`
/// misses cuts the limit by that ratio (at most by half); a window with no more misses than that, in which
/// requests in flight reached the limit (it was what held them back), raises it by `increaseFraction`.
/// After a cut only requests admitted since count: those admitted before it were let in under the old limit
/// and still miss for a latency's time, and judging them would cut again and again (measured: from 1,024 to
/// 70 within 10 s on traffic at 10x, then a minute to climb back).
/// The limit never exceeds the ceiling the caller passes (the plan's Little's-law figure with its floor) and
/// never falls below `minimum`; it starts at the ceiling, so only evidence of missed SLOs ever lowers it.
public struct AdaptiveConcurrencyLimit: Sendable, Equatable {
    public static let targetMissRatio = 0.01
    public static let increaseFraction = 0.05
    public static let minimum = 8.0

    /// The limit now; `nil` until the first `admit` sets it to the ceiling.
    public private(set) var limit: Double?
    public private(set) var inFlight = 0
    private var completed = 0
    private var missed = 0
    private var reachedLimit = false
    /// The ceiling of the last `admit`.
    private var ceiling = Double.infinity
    /// Counts the cuts; a request is judged only if admitted since the last one.
    private var generation = 0

    /// What `admit` gives a request and `complete` takes back.
    public struct Ticket: Sendable, Equatable {
        let generation: Int
    }

    public init() {}

    /// Completions per judgement: enough to see a 1% miss ratio, few enough to react within a second or two.
    public var windowSize: Int { max(50, min(200, Int((limit ?? 0) / 8))) }

    /// Lets one more request in when fewer than the limit (capped at `ceiling`) are in flight; nil when not.
    public mutating func admit(ceiling: Int) -> Ticket? {
        let cap = Double(max(1, ceiling))
        self.ceiling = cap
        let current = min(limit ?? cap, cap)
        limit = current
        guard Double(inFlight) < current.rounded(.down) else {
            reachedLimit = true
            return nil
        }
        inFlight += 1
        if Double(inFlight) >= current.rounded(.down) { reachedLimit = true }
        return Ticket(generation: generation)
    }

    /// One admitted request ended: `missedSLO` when it failed for lack of capacity (no time left, no backend,
    /// a full queue) or answered after its deadline; `nil` for an outcome that says nothing about capacity
    /// (the client's own error).
    public mutating func complete(_ ticket: Ticket, missedSLO: Bool?) {
        inFlight = max(0, inFlight - 1)
        guard let missedSLO, ticket.generation == generation else { return }
        completed += 1
        if missedSLO { missed += 1 }
        guard completed >= windowSize, let current = limit else { return }
        let ratio = Double(missed) / Double(completed)
        if ratio > Self.targetMissRatio {
            limit = max(Self.minimum, current * max(0.5, 1 - ratio))
            generation += 1
        } else if reachedLimit {
            limit = min(ceiling, current * (1 + Self.increaseFraction))
        }
        completed = 0
        missed = 0
        reachedLimit = false
    }
}
