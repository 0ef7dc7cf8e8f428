import NexusCore
import Testing

/// The adaptive admission limit (issue 11): it starts at the plan's ceiling, falls only on evidence of missed
/// SLOs from requests admitted under the current limit, and climbs back while the limit is what holds
/// requests back and they make their SLO.
@Suite struct AdaptiveConcurrencyLimitTests {
    /// A limit and the tickets of the requests it let in, oldest first.
    struct Harness {
        var limit = AdaptiveConcurrencyLimit()
        var tickets: [AdaptiveConcurrencyLimit.Ticket] = []

        /// Offers `count` requests; returns how many got in.
        @discardableResult
        mutating func offer(_ count: Int, ceiling: Int) -> Int {
            var admitted = 0
            for _ in 0..<count {
                guard let ticket = limit.admit(ceiling: ceiling) else { continue }
                tickets.append(ticket)
                admitted += 1
            }
            return admitted
        }

        /// Ends the `count` oldest requests; `missed(i)` says whether the i-th missed its SLO.
        mutating func finish(_ count: Int, missed: (Int) -> Bool? = { _ in false }) {
            for i in 0..<min(count, tickets.count) { limit.complete(tickets.removeFirst(), missedSLO: missed(i)) }
        }

        mutating func finishAll() { finish(tickets.count) { _ in nil } }
        var value: Double { limit.limit ?? 0 }
    }

    @Test func itStartsAtTheCeilingAndRefusesBeyondIt() {
        var h = Harness()
        #expect(h.offer(150, ceiling: 100) == 100)
        #expect(h.value == 100)
        #expect(h.limit.inFlight == 100)
    }

    @Test func missedSLOsCutTheLimitByTheirShare() {
        var h = Harness()
        h.offer(1000, ceiling: 1000)
        let window = h.limit.windowSize
        var misses = 0
        h.finish(window) { i in
            if i % 10 < 3 { misses += 1 }
            return i % 10 < 3
        }
        let expected = 1000 * (1 - Double(misses) / Double(window))
        #expect(abs(h.value - expected) < 1e-6, "cut by the miss ratio: got \(h.value), expected \(expected)")
    }

    /// Requests let in before a cut still miss for a latency's time; they must not cut again.
    @Test func onlyRequestsAdmittedSinceTheLastCutAreJudged() {
        var h = Harness()
        h.offer(1000, ceiling: 1000)
        h.finish(h.limit.windowSize) { _ in true }
        #expect(h.value == 500, "a window of misses halves it at most")
        h.finish(3 * h.limit.windowSize) { _ in true }
        #expect(h.value == 500, "the misses of earlier requests are not judged")
        h.finishAll()
        h.offer(500, ceiling: 1000)
        h.finish(h.limit.windowSize) { _ in true }
        #expect(h.value == 250, "those admitted under the new limit are")
    }

    @Test func itClimbsBackOnlyWhileItIsWhatHoldsRequestsBack() {
        var h = Harness()
        h.offer(400, ceiling: 400)
        h.finish(h.limit.windowSize) { _ in true }
        let low = h.value
        #expect(low == 200)
        h.finishAll()
        // Requests made their SLO but never reached the limit: it stays (no evidence it is too low).
        for _ in 0..<h.limit.windowSize {
            h.offer(1, ceiling: 400)
            h.finish(1)
        }
        #expect(h.value == low)
        // Now the limit binds and every request makes its SLO: it rises a step a window, up to the ceiling.
        var windows = 0
        while h.value < 400, windows < 100 {
            h.offer(400, ceiling: 400)
            h.finish(h.limit.windowSize)
            h.finishAll()
            windows += 1
        }
        #expect(h.value == 400, "back at the ceiling, never above it")
        #expect(windows > 5, "step by step, not at once: \(windows) windows")
    }

    @Test func theClientsOwnErrorsAndAFewMissesChangeNothing() {
        var h = Harness()
        h.offer(1000, ceiling: 1000)
        h.finish(3 * h.limit.windowSize) { _ in nil }
        #expect(h.value == 1000)
        h.offer(1000, ceiling: 1000)
        // One miss in a window of at least 100 is within the 1% target: no cut.
        #expect(h.limit.windowSize >= 100)
        h.finish(h.limit.windowSize) { $0 == 0 }
        #expect(h.value == 1000)
    }

    @Test func aLowerCeilingFromANewPlanCapsTheLimitAtOnce() {
        var h = Harness()
        h.offer(10, ceiling: 500)
        #expect(h.value == 500)
        #expect(h.offer(1, ceiling: 50) == 1)
        #expect(h.value == 50)
    }
}
