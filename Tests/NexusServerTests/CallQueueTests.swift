@testable import NexusServer
import Synchronization
import Testing

@Suite struct CallQueueTests {
    @Test func repliesReachTheirCallersOnce() async {
        let queue = CallQueue<String, Int>()
        let answers = Mutex<[UInt64: [Int]]>([:])
        for id: UInt64 in 1...3 {
            #expect(queue.send("request \(id)", id: id) { reply in answers.withLock { $0[id, default: []].append(reply) } } == nil)
        }
        #expect(await queue.nextBatch() == ["request 1", "request 2", "request 3"], "one batch of everything queued")
        queue.complete(id: 2, with: 20)
        queue.complete(id: 2, with: 21)  // a second reply for the same call is ignored
        queue.complete(id: 9, with: 90)  // so is one for no call
        #expect(answers.withLock { $0 } == [2: [20]])
    }

    @Test func closingAnswersWhatWaitsAndRefusesWhatComes() async {
        let queue = CallQueue<String, Int>()
        _ = queue.send("a", id: 1) { _ in }
        _ = queue.send("b", id: 2) { _ in }
        queue.complete(id: 1, with: 10)
        let waiting = queue.close("stream broke")
        #expect(waiting.map(\.id) == [2])
        #expect(queue.close("again").isEmpty, "a call is handed out once")
        #expect(queue.send("c", id: 3) { _ in Issue.record("a refused call must not be kept") } == "stream broke")
        #expect(queue.isClosed)
        #expect(await queue.nextBatch() == nil)
    }

    @Test func aWaitingWriterWakesForTheNextRequest() async {
        let queue = CallQueue<Int, Int>()
        async let batch = queue.nextBatch()
        // The writer may or may not be waiting yet: either way it gets the request.
        _ = queue.send(7, id: 7) { _ in }
        #expect(await batch == [7])
    }

    /// A writer whose RPC is over is cancelled: it must wake and end, or the handler awaiting it never
    /// finishes and the server's graceful shutdown waits forever (a backend that ignored SIGTERM).
    @Test(.timeLimit(.minutes(1))) func aCancelledWriterWakes() async {
        let queue = CallQueue<Int, Int>()
        let writer = Task { await queue.nextBatch() }
        let outbox = Outbox<Int>()
        outbox.expect()
        let reader = Task { await outbox.next() }
        // Both parked (not merely not started: a task cancelled before it waits returns nil anyway).
        while !(queue.writerIsWaiting && outbox.writerIsWaiting) { await Task.yield() }
        writer.cancel()
        reader.cancel()
        #expect(await writer.value == nil)
        #expect(await reader.value == nil)
    }
}

@Suite struct CallQueueDueTests {
    @Test func aCallPastItsDueTimeIsOverdueUntilAnswered() {
        let queue = CallQueue<Int, Int>()
        #expect(queue.send(1, id: 1, dueNs: 100) { _ in } == nil)
        #expect(queue.send(2, id: 2) { _ in } == nil)
        #expect(queue.expireOverdue(nowNs: 100).isEmpty, "due at 100 is not late at 100")
        #expect(queue.send(3, id: 3, dueNs: 100) { _ in } == nil)
        queue.complete(id: 3, with: 30)
        #expect(queue.expireOverdue(nowNs: 101).map(\.id) == [1], "an answered call is not overdue")
        #expect(queue.expireOverdue(nowNs: 1_000_000).isEmpty, "a call without a due time is never overdue")
        #expect(queue.send(4, id: 4, dueNs: 5) { _ in } == nil)
        #expect(queue.close("gone").count == 2)
        #expect(queue.expireOverdue(nowNs: 1_000_000).isEmpty)
    }

    /// Overdue calls are answered one by one; the queue and its other calls go on (one slow 60 MB call used
    /// to break the whole link and fail the small calls beside it).
    @Test func expiringTakesOnlyTheOverdueCallsAndKeepsTheQueueOpen() {
        let queue = CallQueue<Int, Int>()
        let answers = Mutex<[UInt64: Int]>([:])
        for (id, due) in [(UInt64(1), Int64(100)), (2, 300), (3, 50)] {
            _ = queue.send(Int(id), id: id, dueNs: due) { reply in answers.withLock { $0[id] = reply } }
        }
        let expired = queue.expireOverdue(nowNs: 200)
        #expect(expired.map(\.id) == [1, 3])
        for (id, completion) in expired { completion(-Int(id)) }
        queue.complete(id: 1, with: 10)  // the late reply of an expired call is ignored
        queue.complete(id: 2, with: 20)
        #expect(answers.withLock { $0 } == [1: -1, 2: 20, 3: -3])
        #expect(!queue.isClosed)
        #expect(queue.expireOverdue(nowNs: 1_000).isEmpty)
    }
}
