import NexusCore

/// Builders that make test inputs read like the problem they state ("a model whose batch of b takes
/// 2 + b ms"), shared by every test target.
public enum TestCurves {
    /// A model with `latencyMs(b) = fixedMs + perItemMs * b` for b in 1...maxBatch (exact under linear
    /// interpolation) and constant memory.
    public static func affine(_ name: String = "model", fixedMs: Double, perItemMs: Double, maxBatch: Int = 16,
                              memoryMB: Double = 100) -> LatencyCurve {
        let points = [1, maxBatch].map { b in
            ProfilePoint(batch: b, planningLatencyMs: fixedMs + perItemMs * Double(b), memoryMB: memoryMB)
        }
        return LatencyCurve(profile: try! ModelProfile(model: name, points: points))
    }

    /// A session demand with no network overhead (`gpuBudgetMs == latencySLOMs`) unless given.
    public static func demand(_ id: String, curve: LatencyCurve, budgetMs: Double, ratePerSecond: Double,
                              overheadMs: Double = 0) -> SessionDemand {
        SessionDemand(id: id, curve: curve, latencySLOMs: budgetMs, gpuBudgetMs: budgetMs - overheadMs,
                      ratePerSecond: ratePerSecond, members: ["app/\(id)"])
    }
}

/// SplitMix64: a tiny seeded generator so property tests are reproducible.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
