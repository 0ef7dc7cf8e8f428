import Foundation
import NexusCore
import NexusRuntime
import Testing

/// Each answered request carries how its batch ran (Triton's compute_* statistics); a refused one carries none.
@Suite struct BatchTimingTests {
    @Test func answeredRequestsCarryTheirBatchsSizeAndPhases() async throws {
        let executor = try SimulatedExecutorTests.executor()
        defer { executor.shutdown() }
        try executor.apply(ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "slow@10ms", models: ["slow"], maxBatch: 8)]))
        let timing = await withCheckedContinuation { continuation in
            executor.submit(SimulatedExecutorTests.request("slow@10ms", model: "slow"), timed: { outcome, timing in
                continuation.resume(returning: (try? outcome.get()) != nil ? timing : nil)
            })
        }
        let ran = try #require(timing)
        #expect(ran.batchSize == 1)
        // The simulated `slow` model takes 5.1 ms for a batch of 1.
        #expect(ran.computeInferNs >= 5_000_000)
        #expect(ran.computeInputNs >= 0 && ran.computeOutputNs >= 0)
    }

    @Test func refusedRequestsCarryNoTiming() async throws {
        let executor = try SimulatedExecutorTests.executor()
        defer { executor.shutdown() }
        let timing = await withCheckedContinuation { continuation in
            executor.submit(SimulatedExecutorTests.request("unknown", model: "slow"), timed: { _, timing in
                continuation.resume(returning: timing)
            })
        }
        #expect(timing == nil)
    }
}
