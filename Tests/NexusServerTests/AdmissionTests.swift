@testable import NexusServer
import NexusCore
import NexusRuntime
import Testing

@Suite struct AdmissionTests {
    @Test func capacityIsLittlesLawWithSlackAndAFloor() {
        // 10,000 req/s planned, 100 ms SLO: 1,000 in flight at capacity, 1,500 with slack.
        #expect(Admission.capacity(plannedRatePerSecond: 10_000, latencySLOMs: 100) == 1500)
        #expect(Admission.capacity(plannedRatePerSecond: 1, latencySLOMs: 100) == Admission.minimumInFlight)
        #expect(Admission.capacity(plannedRatePerSecond: .infinity, latencySLOMs: 100) == Admission.minimumInFlight)
    }

    @Test func aRequestBeyondCapacityIsRefusedAndAPlaceIsFreedOnRelease() {
        let admission = Admission()
        var tickets: [AdaptiveConcurrencyLimit.Ticket] = []
        for _ in 0..<3 {
            guard case let .success(ticket) = admission.admit("app", capacity: 3) else {
                Issue.record("the first three requests fit")
                return
            }
            tickets.append(ticket)
        }
        guard case let .failure(.resourceExhausted(message)) = admission.admit("app", capacity: 3) else {
            Issue.record("the fourth request should be refused")
            return
        }
        #expect(message.contains("'app'") && message.contains("limit 3"))
        #expect((try? admission.admit("other", capacity: 3).get()) != nil, "each application has its own places")
        admission.release("app", ticket: tickets[0], missedSLO: false)
        #expect((try? admission.admit("app", capacity: 3).get()) != nil)
        #expect(admission.held("app") == 3)
    }
}
