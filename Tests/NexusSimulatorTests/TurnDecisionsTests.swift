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

    /// With `grow` (nexus-next), visits may grow past the planned batch up to these caps.
    static let growCaps = [6, 4, 8]

    @Test(arguments: [DropPolicy.early, .lazy], [(UInt64(1), false), (2, false), (3, false), (1, true), (2, true), (3, true)])
    func theExecutorAndTheSimulatorDecideAlike(drop: DropPolicy, seedAndGrow: (UInt64, Bool)) {
        let (seed, grow) = seedAndGrow
        let caps = grow ? Self.growCaps : Self.entries.map(\.maxBatch)
        let executorSessions = Self.entries.enumerated().map { index, entry in
            let session = ExecutorSession(entry: entry, members: [spec(entry.sessionID)], prefix: nil)
            session.growCap = caps[index]
            return session
        }
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
        var executorTurns = RoundRobinTurns(drop: drop, growsIntoSlack: grow)
        var simulatedTurns = RoundRobinTurns(drop: drop, growsIntoSlack: grow)
        let latencies = Self.entries.enumerated().map { GPUQueues.latencyTable($1, upTo: caps[$0]) }
        var grown = 0
        var nowNs: Int64 = 0
        var turns = 0, drops = 0
        // 30 rounds of 6 arrivals then up to 3 turns, then a drain: queues fill, empty and fill again.
        for round in 0...30 {
            if round < 30 { arrive(count: 6, nowNs: nowNs) }
            for _ in 0..<(round < 30 ? 3 : Int.max) {
                let executor = executorTurns.nextTurn(ExecutorQueues(sessions: executorSessions), nowNs: nowNs)
                let simulated = simulatedTurns.nextTurn(
                    GPUQueues(slots: [0, 1, 2], queues: simulatedQueues, maxBatch: Self.entries.map(\.maxBatch),
                              growCap: caps, latencyNs: latencies),
                    nowNs: nowNs)
                #expect(executor == simulated, "turn \(turns) at \(nowNs) ns")
                guard let turn = executor, turn == simulated else { break }
                let held = executorSessions[turn.session]
                var dropped: [ExecutorSession.Pending] = [], batch: [ExecutorSession.Pending] = []
                held.queue.pop(held.decide(drop: drop, nowNs: nowNs, grow: grow), dropped: &dropped, batch: &batch)
                #expect(dropped.count == turn.dropCount && batch.count == turn.batchSize)
                simulatedQueues[turn.session].popFront(turn.dropCount + turn.batchSize) { _, _ in }
                turns += 1
                drops += turn.dropCount
                if turn.batchSize > Self.entries[turn.session].maxBatch { grown += 1 }
                if turn.batchSize > 0 { nowNs += latencies[turn.session][turn.batchSize] }
            }
        }
        #expect(turns > 20)
        #expect(drops > 0, "the deadlines are tight enough that some requests are dropped")
        #expect(grow ? grown > 0 : grown == 0, "batches past the planned batch: \(grown)")
        #expect(executorSessions.allSatisfy(\.queue.isEmpty) && simulatedQueues.allSatisfy(\.isEmpty))
    }
}
