import NexusCore
@testable import NexusServer
import NexusRuntime
import Testing

@Suite struct DrainGateTests {
    @Test func drainingRefusesNewWorkAndWaitsForTheRest() async {
        let gate = DrainGate()
        #expect(gate.enter() && gate.enter())
        #expect(gate.beginDraining() == 2)
        #expect(!gate.enter(), "new work is refused once draining")
        let clock = MonotonicClock()
        #expect(await !gate.waitUntilIdle(deadlineNs: clock.nowNs() - 1, clock: clock), "a passed deadline does not wait")
        async let idle = gate.waitUntilIdle(deadlineNs: .max, clock: clock)
        gate.leave()
        gate.leave()
        #expect(await idle)
        #expect(gate.inFlight == 0)
    }

    @Test func theFirstServiceToDrainSetsTheProcesssDeadline() {
        let deadline = DrainDeadline(timeoutNs: 1_000)
        #expect(deadline.deadlineNs(nowNs: 5_000) == 6_000)
        #expect(deadline.deadlineNs(nowNs: 9_000) == 6_000, "later services keep to the same end")
        #expect(DrainDeadline(timeoutNs: 10).deadlineNs(nowNs: .max - 1) == .max)
    }

    @Test func aLatchWakesEveryWaiterAndStaysOpen() async {
        let latch = Latch()
        async let first: Void = latch.wait()
        async let second: Void = latch.wait()
        latch.open()
        _ = await (first, second)
        await latch.wait()
        #expect(latch.isOpen)
    }

    @Test func aCancelledWaiterStopsWaiting() async {
        let latch = Latch()
        let waiter = Task { await latch.wait() }
        waiter.cancel()
        await waiter.value
        #expect(!latch.isOpen)
    }
}
