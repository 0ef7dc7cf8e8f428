import NexusCore
@testable import NexusRuntime
@testable import NexusSimulator
import Testing

/// The backend executor's device thread and the simulated GPUs take turns through the same core policy,
/// each over a view of its own queues: fed the same tables and the same queued deadlines, they must make the
/// same batch decisions, drops included.
@Suite struct TurnDecisionsTests {
    static let entries = [
        ModelTable.Entry(sessionID: "a", models: ["a"], maxBatch: 4, latencyMs: [2, 3, 4, 5]),
        ModelTable.Entry(sessionID: "b", models: ["b"], maxBatch: 2, latencyMs: [1.0000006, 1.5]),
        ModelTable.Entry(sessionID: "c", models: ["c"], maxBatch: 8, latencyMs: (1...8).map { 1 + 0.5 * Double($0) }),
    ]

    func spec(_ name: String) -> ModelSpec {
        ModelSpec(name: name, directory: "", filePath: "", input: TensorSpec(name: "x", dtype: .fp32, shape: [1]),
                  maxBatch: 8, outputs: [TensorSpec(name: "y", dtype: .fp32, shape: [1])])
    }

    @Test(arguments: [DropPolicy.early, .lazy], [UInt64(1), 2, 3])
    func theExecutorAndTheSimulatorDecideAlike(drop: DropPolicy, seed: UInt64) {
        let executorSessions = Self.entries.map { ExecutorSession(entry: $0, members: [spec($0.sessionID)], prefix: nil) }
        var simulatedQueues = [DeadlineQueue<Int32>](repeating: DeadlineQueue(), count: Self.entries.count)
        var random = RandomSource(seed: seed, stream: 7)
        func arrive(count: Int, nowNs: Int64) {
            for _ in 0..<count {
                let session = Int(random.next() % 3)
                let deadlineNs = nowNs + Int64(random.unit() * 12_000_000)
                executorSessions[session].queue.insert(.init(input: [], member: 0, queuedNs: 0, completion: { _, _ in }), deadlineNs: deadlineNs)
                simulatedQueues[session].insert(Int32(session), deadlineNs: deadlineNs)
            }
        }
        var executorTurns = RoundRobinTurns(drop: drop), simulatedTurns = RoundRobinTurns(drop: drop)
        let latencies = Self.entries.map(GPUQueues.latencyTable)
        var nowNs: Int64 = 0
        var turns = 0, drops = 0
        // 30 rounds of 6 arrivals then up to 3 turns, then a drain: queues fill, empty and fill again.
        for round in 0...30 {
            if round < 30 { arrive(count: 6, nowNs: nowNs) }
            for _ in 0..<(round < 30 ? 3 : Int.max) {
                let executor = executorTurns.nextTurn(ExecutorQueues(sessions: executorSessions), nowNs: nowNs)
                let simulated = simulatedTurns.nextTurn(
                    GPUQueues(slots: [0, 1, 2], queues: simulatedQueues, maxBatch: Self.entries.map(\.maxBatch), latencyNs: latencies),
                    nowNs: nowNs)
                #expect(executor == simulated, "turn \(turns) at \(nowNs) ns")
                guard let turn = executor, turn == simulated else { break }
                executorSessions[turn.session].queue.popFront(turn.dropCount + turn.batchSize) { _, _ in }
                simulatedQueues[turn.session].popFront(turn.dropCount + turn.batchSize) { _, _ in }
                turns += 1
                drops += turn.dropCount
                if turn.batchSize > 0 { nowNs += latencies[turn.session][turn.batchSize] }
            }
        }
        #expect(turns > 20)
        #expect(drops > 0, "the deadlines are tight enough that some requests are dropped")
        #expect(executorSessions.allSatisfy(\.queue.isEmpty) && simulatedQueues.allSatisfy(\.isEmpty))
    }
}
