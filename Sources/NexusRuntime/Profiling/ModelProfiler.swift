import NexusCore

/// Measures a model's batch latency and peak memory through the runtime path a backend uses (`nexus
/// profile`): each batch size is run `warmupRuns` times untimed, then `timedRuns` times, each run copying its
/// first output to the host as a backend does. A prefix-family member is measured as its prefix followed by
/// its head: the cost of running it unshared.
public struct ModelProfiler: Sendable {
    public var warmupRuns: Int
    public var timedRuns: Int

    public init(warmupRuns: Int = 3, timedRuns: Int = 30) {
        precondition(warmupRuns >= 0, "warmupRuns must be >= 0, got \(warmupRuns)")
        precondition(timedRuns >= 1, "timedRuns must be >= 1, got \(timedRuns)")
        self.warmupRuns = warmupRuns
        self.timedRuns = timedRuns
    }

    public struct Measurement: Equatable, Sendable {
        public var batch: Int
        public var medianMs: Double
        public var p99Ms: Double
        /// The runtime's peak (the CUDA allocator's, or on CPU the process's peak resident set), in MB.
        public var peakMB: Double
    }

    public func measure(_ spec: ModelSpec, prefix: ModelSpec?, runtime: any ModelRuntime, batches: [Int],
                        clock: any NanosecondClock = MonotonicClock()) throws -> [Measurement] {
        precondition(!batches.isEmpty && batches.allSatisfy { $0 >= 1 }, "batches must be >= 1: \(batches)")
        let first = try prefix.map { try runtime.load($0, inputShape: $0.input.shape) }
        let main = try runtime.load(spec, inputShape: prefix?.outputs[0].shape ?? spec.input.shape)
        try first?.prepare(batches: batches)
        try main.prepare(batches: batches)
        let input = Self.input(count: batches.max()! * spec.input.elementCount)
        return try batches.map { batch in
            runtime.resetPeakMemory()
            var samplesMs: [Double] = []
            for iteration in 0..<(warmupRuns + timedRuns) {
                let started = clock.nowNs()
                try input.withUnsafeBufferPointer { buffer in
                    let slice = UnsafeBufferPointer(rebasing: buffer[0..<(batch * spec.input.elementCount)])
                    let outputs = try first.map { try main.run(on: try $0.run(slice, batch: batch), rows: 0..<batch) }
                        ?? main.run(slice, batch: batch)
                    _ = try outputs.floats(at: 0)
                }
                if iteration >= warmupRuns { samplesMs.append(Double(clock.nowNs() - started) / 1e6) }
            }
            samplesMs.sort()
            let p99Index = min(samplesMs.count - 1, Int((Double(samplesMs.count) * 0.99).rounded(.up)) - 1)
            return Measurement(batch: batch, medianMs: samplesMs[samplesMs.count / 2], p99Ms: samplesMs[p99Index],
                               peakMB: Double(runtime.memoryBytes(peak: true) ?? 0) / 1_048_576)
        }
    }

    /// Deterministic pseudo-random inputs (the values do not matter, only that they are not all 0).
    public static func input(count: Int) -> [Float] {
        var state: UInt32 = 12345
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24) - 0.5
        }
    }
}
