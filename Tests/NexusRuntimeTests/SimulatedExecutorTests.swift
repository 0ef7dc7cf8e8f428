import Foundation
import NexusCore
import NexusRuntime
import Testing

/// The executor on the SIMULATED runtime: scheduling behaviour without libtorch.
@Suite struct SimulatedExecutorTests {
    static func spec(_ name: String, prefix: String? = nil, maxBatch: Int = 64, outputs: [Int] = [4]) -> ModelSpec {
        ModelSpec(name: name, directory: "/models/\(name)", filePath: "/models/\(name)/model.pt", prefix: prefix,
                  input: TensorSpec(name: "input", dtype: .fp32, shape: [2]), maxBatch: maxBatch,
                  outputs: [TensorSpec(name: "out", dtype: .fp32, shape: outputs)])
    }

    /// `fast`: 0.2 + 0.01 b ms; `slow`: 5 + 0.1 b ms; a prefix family `base` with heads `h1`, `h2`.
    static func executor(capacity: Int = 4096, workers: Int = 1, growsIntoSlack: Bool = false) throws -> BackendExecutor {
        func profile(_ name: String, fixedMs: Double, perItemMs: Double) throws -> ModelProfile {
            try ModelProfile(model: name, points: [1, 64].map { ProfilePoint(batch: $0, planningLatencyMs: fixedMs + perItemMs * Double($0)) })
        }
        let runtime = SimulatedRuntime(profiles: ["fast": try profile("fast", fixedMs: 0.2, perItemMs: 0.01),
                                                  "slow": try profile("slow", fixedMs: 5, perItemMs: 0.1),
                                                  "base": try profile("base", fixedMs: 0.2, perItemMs: 0.01)],
                                       label: "test profiles")
        let models = [spec("fast"), spec("slow"), spec("base", outputs: [3]), spec("h1", prefix: "base", outputs: [5]),
                      spec("h2", prefix: "base", outputs: [6])]
        return BackendExecutor(runtime: runtime, models: Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0) }),
                               options: .init(workerThreads: workers, queueCapacity: capacity, growsIntoSlack: growsIntoSlack))
    }

    static func request(_ session: String, model: String, deadlineNs: Int64 = .max, priority: UInt32 = 0) -> InferenceRequest {
        InferenceRequest(sessionID: session, model: model, input: .tensor(dtype: .fp32, shape: [2], bytes: Fixtures.fp32Bytes([1, 2])),
                         deadlineNs: deadlineNs, priority: priority)
    }

    /// Triton's `priority`: requests of level 1 queued behind a backlog of default-level ones are batched
    /// before it (batches of 2 of the slow model, 5 ms each).
    @Test func aHigherPriorityLevelIsBatchedBeforeTheBacklog() throws {
        let executor = try Self.executor(workers: 0)
        defer { executor.shutdown() }
        try executor.apply(ModelTable(dutyCycleMs: 100, sessions: [.init(sessionID: "slow@200ms", models: ["slow"], maxBatch: 2)]))
        let order = OrderRecorder()
        for index in 0..<30 {
            executor.submit(Self.request("slow@200ms", model: "slow"), completion: { _ in order.append("low\(index)") })
        }
        for index in 0..<4 {
            executor.submit(Self.request("slow@200ms", model: "slow", priority: 1), completion: { _ in order.append("high\(index)") })
        }
        #expect(order.wait(count: 34))
        let finished = order.names
        let lastHigh = try #require(finished.lastIndex { $0.hasPrefix("high") })
        // At most the batch running when they arrived, and the one after, go before the four high ones.
        #expect(lastHigh <= 7, "\(finished)")
        #expect(finished.filter { $0.hasPrefix("low") } == (0..<30).map { "low\($0)" }, "the default level keeps deadline (arrival) order")
    }

    /// 0 workers: decoding on the submitting thread (the CPU-device setting).
    @Test(arguments: [0, 1, 3])
    func answersEveryRequestWithItsModelsOutputs(workers: Int) async throws {
        let executor = try Self.executor(workers: workers)
        defer { executor.shutdown() }
        try executor.apply(ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "fast@10ms", models: ["fast"], maxBatch: 8),
                                                                   .init(sessionID: "group@20ms", models: ["h1", "h2"], maxBatch: 16)]))
        let collector = OutcomeCollector()
        for index in 0..<300 {
            let request = index % 3 == 0 ? Self.request("fast@10ms", model: "fast")
                : Self.request("group@20ms", model: index % 3 == 1 ? "h1" : "h2")
            executor.submit(request, completion: collector.completion(for: index))
        }
        #expect(collector.waitAll())
        #expect(collector.duplicates == 0)
        for (index, outcome) in collector.outcomes {
            let outputs = try outcome.get()
            #expect(outputs.map(\.shape) == [index % 3 == 0 ? [4] : index % 3 == 1 ? [5] : [6]])
        }
        let statistics = executor.snapshot()
        #expect(statistics.completed == 300)
        #expect(statistics.meanBatch > 1, "a backlog is batched")
    }

    /// nexus-next: a backlog beyond the planned batch of 2 runs in a few large batches when the duty cycle
    /// (100 ms) leaves slack; Nexus's executor takes it 2 at a time.
    @Test(arguments: [false, true])
    func aBacklogGrowsIntoTheSlackOnlyUnderNexusNext(grows: Bool) throws {
        let executor = try Self.executor(workers: 0, growsIntoSlack: grows)
        defer { executor.shutdown() }
        let slow = (1...64).map { 5 + 0.1 * Double($0) }
        try executor.apply(ModelTable(dutyCycleMs: 100, sessions: [.init(sessionID: "slow@200ms", models: ["slow"], maxBatch: 2, latencyMs: slow)]))
        let collector = OutcomeCollector()
        for index in 0..<40 { executor.submit(Self.request("slow@200ms", model: "slow"), completion: collector.completion(for: index)) }
        #expect(collector.waitAll())
        #expect(collector.count { (try? $0.get()) != nil } == 40)
        let batches = executor.snapshot().batches
        if grows { #expect(batches <= 5, "\(batches) batches") } else { #expect(batches >= 20, "\(batches) batches") }
    }

    @Test func earlyDropAnswersAtOnceWithoutRunningLateRequests() throws {
        let executor = try Self.executor()
        defer { executor.shutdown() }
        // The plan says a batch takes 50 ms; deadlines 5 ms away cannot be met.
        try executor.apply(ModelTable(dutyCycleMs: 100, sessions: [.init(sessionID: "slow@100ms", models: ["slow"], maxBatch: 4, latencyMs: [50])]))
        let collector = OutcomeCollector()
        let soon = MonotonicClock().nowNs() + 5_000_000
        for index in 0..<20 { executor.submit(Self.request("slow@100ms", model: "slow", deadlineNs: soon), completion: collector.completion(for: index)) }
        #expect(collector.waitAll())
        #expect(collector.count { $0.isDropped } == 20)
        #expect(executor.snapshot().batches == 0, "no late request ran")
    }

    @Test func tableChangesUnderLoadLoseNoRequest() throws {
        let executor = try Self.executor()
        defer { executor.shutdown() }
        let tables = [
            ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "a", models: ["fast"], maxBatch: 4), .init(sessionID: "b", models: ["slow"], maxBatch: 8)]),
            ModelTable(dutyCycleMs: 20, sessions: [.init(sessionID: "a", models: ["fast"], maxBatch: 16), .init(sessionID: "b", models: ["slow"], maxBatch: 2)]),
            ModelTable(dutyCycleMs: 20, sessions: [.init(sessionID: "a", models: ["fast"], maxBatch: 1)]),
        ]
        try executor.apply(tables[0])
        let collector = OutcomeCollector()
        var submitted = 0
        for round in 0..<30 {
            for _ in 0..<40 {
                executor.submit(Self.request(submitted % 2 == 0 ? "a" : "b", model: submitted % 2 == 0 ? "fast" : "slow"),
                                completion: collector.completion(for: submitted))
                submitted += 1
            }
            try executor.apply(tables[round % 3])
        }
        #expect(collector.waitAll())
        #expect(collector.duplicates == 0)
        #expect(collector.outcomes.count == submitted)
        // Accepted requests all ran; the only refusals are for `b` while it was out of the table.
        let refused = collector.outcomes.values.compactMap(\.error)
        #expect(refused.allSatisfy { if case .notFound = $0 { return true } else { return false } })
        #expect(collector.count { $0.isSuccess } + refused.count == submitted)
        #expect(executor.snapshot().completed == collector.count { $0.isSuccess })
    }

    @Test func refusesWhatItCannotTakeWithTheReason() async throws {
        let executor = try Self.executor(capacity: 2)
        defer { executor.shutdown() }
        try executor.apply(ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "fast", models: ["fast"], maxBatch: 4)]))
        let unknown = await executor.infer(Self.request("nope", model: "fast"))
        #expect(unknown.error?.description.contains("session 'nope' is not served by this backend (it serves: fast)") == true)
        let wrongModel = await executor.infer(Self.request("fast", model: "slow"))
        #expect(wrongModel.error?.description.contains("model 'slow' is not in session 'fast'") == true)
        var badShape = Self.request("fast", model: "fast")
        badShape.input = .tensor(dtype: .fp32, shape: [3], bytes: Fixtures.fp32Bytes([1, 2, 3]))
        let shapeError = await executor.infer(badShape)
        #expect(shapeError.error == .invalidArgument("input 'input' shape [3] does not match model 'fast': expected [2] of FP32"))
        badShape.input = .tensor(dtype: .fp32, shape: [2], bytes: [1, 2, 3])
        let byteError = await executor.infer(badShape)
        #expect(byteError.error == .invalidArgument("input 'input' has 3 bytes; shape [2] of FP32 needs 8"))
        badShape.input = .tensor(dtype: .fp16, shape: [2], bytes: [0, 60, 0, 60])
        let dtypeError = await executor.infer(badShape)
        #expect(dtypeError.error == .invalidArgument("input 'input' datatype FP16 does not match model 'fast''s FP32"))
        // Still serving after bad requests, and every refusal is counted.
        #expect(await executor.infer(Self.request("fast", model: "fast")).isSuccess)
        #expect(executor.snapshot().rejected == 5)
    }

    @Test func boundedQueueRefusesOverflowAtOnce() throws {
        let executor = try Self.executor(capacity: 3)
        defer { executor.shutdown() }
        try executor.apply(ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "slow", models: ["slow"], maxBatch: 1)]))
        let collector = OutcomeCollector()
        for index in 0..<50 { executor.submit(Self.request("slow", model: "slow"), completion: collector.completion(for: index)) }
        #expect(collector.waitAll())
        let full = collector.count { if case .failure(.resourceExhausted) = $0 { return true } else { return false } }
        #expect(full > 0)
        #expect(full + collector.count { $0.isSuccess } == 50)
    }

    @Test func shutdownAnswersEverythingQueued() throws {
        let executor = try Self.executor()
        try executor.apply(ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "slow", models: ["slow"], maxBatch: 1)]))
        let collector = OutcomeCollector()
        for index in 0..<40 { executor.submit(Self.request("slow", model: "slow"), completion: collector.completion(for: index)) }
        executor.shutdown()
        #expect(collector.waitAll())
        #expect(collector.count { $0.error == .unavailable("backend is shutting down") } > 0)
        #expect(collector.outcomes.count == 40 && collector.duplicates == 0)
        #expect(executor.snapshot().completed < 40)
    }

    /// SIGTERM on a backend: what it holds runs to the end, and nothing new is taken.
    @Test(arguments: [0, 1])
    func gracefulShutdownRunsEverythingQueued(workers: Int) throws {
        let executor = try Self.executor(workers: workers)
        try executor.apply(ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "slow", models: ["slow"], maxBatch: 1)]))
        let collector = OutcomeCollector()
        for index in 0..<40 { executor.submit(Self.request("slow", model: "slow"), completion: collector.completion(for: index)) }
        executor.shutdown(finishingQueuedUntilNs: .max)
        #expect(collector.waitAll())
        #expect(collector.count { $0.isSuccess } == 40, "every queued request ran")
        #expect(collector.duplicates == 0)
        #expect(executor.heldCount() == 0)
        let late = OutcomeCollector()
        executor.submit(Self.request("slow", model: "slow"), completion: late.completion(for: 0))
        #expect(late.waitAll())
        #expect(late.outcomes[0]?.error == .unavailable("backend is shutting down"))
    }

    /// The drain deadline bounds the drain: 40 batches of at least 5 ms cannot all run in 20 ms, and what is
    /// left when it passes is answered unavailable, each request once.
    @Test func gracefulShutdownAnswersTheRestUnavailableAtItsDeadline() throws {
        let executor = try Self.executor()
        try executor.apply(ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "slow", models: ["slow"], maxBatch: 1)]))
        let collector = OutcomeCollector()
        for index in 0..<40 { executor.submit(Self.request("slow", model: "slow"), completion: collector.completion(for: index)) }
        executor.shutdown(finishingQueuedUntilNs: MonotonicClock().nowNs() + 20_000_000)
        #expect(collector.waitAll())
        let unavailable = collector.count { $0.error == .unavailable("backend is shutting down") }
        #expect(unavailable > 0)
        #expect(unavailable + collector.count { $0.isSuccess } == 40)
        #expect(collector.outcomes.count == 40 && collector.duplicates == 0)
    }

    @Test func badTablesNameTheFieldAndKeepTheOldTable() throws {
        let executor = try Self.executor()
        defer { executor.shutdown() }
        let good = ModelTable(dutyCycleMs: 10, sessions: [.init(sessionID: "fast", models: ["fast"], maxBatch: 4)])
        try executor.apply(good)
        let cases: [(ModelTable.Entry, String)] = [
            (.init(sessionID: "x", models: ["nope"], maxBatch: 1), "sessions[0].models: 'nope' is not in the model repository"),
            (.init(sessionID: "x", models: ["fast"], maxBatch: 65), "sessions[0].maxBatch: 65 is outside 1...64"),
            (.init(sessionID: "x", models: ["fast", "slow"], maxBatch: 1), "sessions[0].models: [\"fast\", \"slow\"] must be one model, or members of one prefix family"),
            (.init(sessionID: "x", models: ["fast"], maxBatch: 1, latencyMs: [.nan]), "sessions[0].latencyMs"),
        ]
        for (entry, message) in cases {
            #expect { try executor.apply(ModelTable(dutyCycleMs: 10, sessions: [entry])) } throws: { "\($0)".contains(message) }
        }
        #expect(executor.table == good)
    }
}

/// Names in completion order, and a wait for a count of them.
final class OrderRecorder: @unchecked Sendable {
    private let condition = NSCondition()
    private var recorded: [String] = []

    func append(_ name: String) {
        condition.lock()
        recorded.append(name)
        condition.broadcast()
        condition.unlock()
    }

    var names: [String] {
        condition.lock()
        defer { condition.unlock() }
        return recorded
    }

    func wait(count: Int, seconds: Double = 30) -> Bool {
        let until = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while recorded.count < count { if !condition.wait(until: until) { return false } }
        return true
    }
}
