/// Which application each request of a multi-application bench goes to (`nexus bench --workload`): request
/// `id` goes to application `a` with probability `share[a] / sum(shares)`, independently of every other
/// request, so a Poisson stream of the total rate splits into independent Poisson streams of each share,
/// as the simulator's clients send them. Stateless (a hash of the id and the seed), so the sender, the
/// serializer and the statistics agree without sharing anything.
public struct ApplicationMix: Sendable, Equatable {
    public let names: [String]
    /// Cumulative normalised shares; the last is 1.
    let cumulative: [Double]
    let seed: UInt64

    public init(names: [String], shares: [Double], seed: UInt64 = 1) {
        precondition(!names.isEmpty && names.count == shares.count, "one share per application, at least one application")
        precondition(shares.allSatisfy { $0 >= 0 && $0.isFinite } && shares.contains { $0 > 0 },
                     "shares must be finite, >= 0, and not all 0: \(shares)")
        let total = shares.reduce(0, +)
        var running = 0.0
        cumulative = shares.map { running += $0 / total; return running }
        self.names = names
        self.seed = seed
    }

    /// One application, every request.
    public static func single(_ name: String) -> ApplicationMix { ApplicationMix(names: [name], shares: [1]) }

    public var count: Int { names.count }

    /// The normalised share of application `index`.
    public func share(_ index: Int) -> Double { cumulative[index] - (index == 0 ? 0 : cumulative[index - 1]) }

    public func application(for id: UInt64) -> Int {
        guard cumulative.count > 1 else { return 0 }
        let unit = Double(Self.mix(id &+ seed &* 0x9E37_79B9_7F4A_7C15) >> 11) / Double(1 << 53)
        return cumulative.firstIndex { unit < $0 } ?? cumulative.count - 1
    }

    /// splitmix64's finaliser: consecutive ids give independent-looking draws.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
