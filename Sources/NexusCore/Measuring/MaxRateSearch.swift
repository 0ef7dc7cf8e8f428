/// The paper's metric, found by search: the highest request rate whose run passes (>= 99% of requests
/// within their SLO). A state machine with no clock and no runs of its own, so `nexus simulate
/// --find-max-rate` (simulated runs) and `nexus bench --find-max-rate` (real runs against a server) drive the
/// same search: ask `nextRatePerSecond`, run there, `record` whether it passed, until it is nil.
///
/// From `startRatePerSecond` it doubles while runs pass (halves while they fail, down to `minRatePerSecond`),
/// then bisects the bracket until it is within `relativePrecision` of its low end. When pass and fail are
/// monotone in the rate, the answer is the highest passing rate tried and lies within the precision below
/// the true threshold.
public struct MaxRateSearch: Sendable {
    public struct Step: Sendable, Equatable, Encodable {
        public var ratePerSecond: Double
        public var passed: Bool
    }

    public let minRatePerSecond: Double
    public let maxRatePerSecond: Double
    public let relativePrecision: Double
    public private(set) var steps: [Step] = []
    /// The rate to run next; nil once the search is over.
    public private(set) var nextRatePerSecond: Double?
    /// The highest passing rate so far, and the lowest failing one above it.
    public private(set) var highestPassingPerSecond: Double?
    public private(set) var lowestFailingPerSecond: Double?

    public init(startRatePerSecond: Double, minRatePerSecond: Double = 1, maxRatePerSecond: Double = 1e9,
                relativePrecision: Double = 0.01) {
        precondition(minRatePerSecond > 0 && maxRatePerSecond >= minRatePerSecond,
                     "rates must satisfy 0 < min (\(minRatePerSecond)) <= max (\(maxRatePerSecond))")
        precondition(startRatePerSecond > 0, "startRatePerSecond must be > 0, got \(startRatePerSecond)")
        precondition(relativePrecision > 0, "relativePrecision must be > 0, got \(relativePrecision)")
        self.minRatePerSecond = minRatePerSecond
        self.maxRatePerSecond = maxRatePerSecond
        self.relativePrecision = relativePrecision
        nextRatePerSecond = min(max(startRatePerSecond, minRatePerSecond), maxRatePerSecond)
    }

    /// The highest passing rate hit the search's ceiling: the true answer may be higher.
    public var hitCeiling: Bool { lowestFailingPerSecond == nil && highestPassingPerSecond == maxRatePerSecond }

    /// The outcome of the run at `nextRatePerSecond`.
    public mutating func record(passed: Bool) {
        guard let rate = nextRatePerSecond else { preconditionFailure("record(passed:) after the search ended") }
        steps.append(Step(ratePerSecond: rate, passed: passed))
        if passed {
            highestPassingPerSecond = max(highestPassingPerSecond ?? rate, rate)
        } else {
            lowestFailingPerSecond = min(lowestFailingPerSecond ?? rate, rate)
        }
        nextRatePerSecond = next(after: rate, passed: passed)
    }

    private func next(after rate: Double, passed: Bool) -> Double? {
        switch (highestPassingPerSecond, lowestFailingPerSecond) {
        case (nil, _):
            return rate <= minRatePerSecond ? nil : max(rate / 2, minRatePerSecond)
        case (_, nil):
            return rate >= maxRatePerSecond ? nil : min(rate * 2, maxRatePerSecond)
        case let (low?, high?):
            return (high - low) / low <= relativePrecision ? nil : (low + high) / 2
        }
    }

    /// Runs the whole search with `passes` deciding each run.
    public mutating func run(_ passes: (Double) throws -> Bool) rethrows {
        while let rate = nextRatePerSecond { record(passed: try passes(rate)) }
    }

    public mutating func run(_ passes: (Double) async throws -> Bool) async rethrows {
        while let rate = nextRatePerSecond { record(passed: try await passes(rate)) }
    }
}
