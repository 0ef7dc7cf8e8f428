/// Weighted deficit round robin (DESIGN.md §3.6): each backend of a session gets requests in proportion to
/// the throughput the plan gave it there, spread evenly rather than in bursts. Quanta are weights divided
/// by the largest weight, so the heaviest backend gets one request per round and no backend ever gets more
/// than one in a row more than its share.
public struct DeficitRoundRobin<Target: Sendable>: Sendable {
    public private(set) var targets: [Target]
    @usableFromInline var quanta: [Double]
    @usableFromInline var deficits: [Double]
    @usableFromInline var current = 0

    /// Targets with weight <= 0 are never picked, unless every weight is <= 0 (then all weigh the same).
    public init(_ weighted: [(target: Target, weight: Double)]) {
        targets = weighted.map(\.target)
        let heaviest = weighted.map(\.weight).max() ?? 0
        quanta = weighted.map { heaviest > 0 ? Swift.max(0, $0.weight) / heaviest : 1 }
        // Start just before the first target with empty deficits, so the first round is not a burst.
        deficits = [Double](repeating: 0, count: weighted.count)
        current = Swift.max(0, weighted.count - 1)
    }

    public var isEmpty: Bool { targets.isEmpty }

    @inlinable
    public mutating func next() -> Target? {
        guard !targets.isEmpty else { return nil }
        while true {
            if deficits[current] >= 1 - 1e-12 {
                deficits[current] -= 1
                return targets[current]
            }
            current += 1
            if current == targets.count { current = 0 }
            deficits[current] += quanta[current]
        }
    }

    /// The next target for which `isUsable` holds (a retry skips a failed backend); nil if none does.
    public mutating func next(where isUsable: (Target) -> Bool) -> Target? {
        for _ in 0..<(targets.count * 2 + 2) {
            guard let target = next() else { return nil }
            if isUsable(target) { return target }
        }
        return nil
    }
}
