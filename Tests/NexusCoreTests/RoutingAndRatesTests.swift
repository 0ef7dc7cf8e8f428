#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import NexusCore

@Suite struct DeficitRoundRobinTests {
    @Test func sharesFollowTheWeightsAndSpreadEvenly() {
        var router = DeficitRoundRobin([(target: "a", weight: 300.0), (target: "b", weight: 100.0), (target: "c", weight: 200.0)])
        var counts: [String: Int] = [:]
        var sequence: [String] = []
        for _ in 0..<600 {
            let target = router.next()!
            counts[target, default: 0] += 1
            sequence.append(target)
        }
        #expect(counts == ["a": 300, "b": 100, "c": 200])
        // Never two requests in a row to a backend whose share is below one half.
        #expect(!zip(sequence, sequence.dropFirst()).contains { $0 == "b" && $1 == "b" })
    }

    @Test func zeroWeightsAreNeverPickedUnlessAllAreZero() {
        var router = DeficitRoundRobin([(target: 1, weight: 0.0), (target: 2, weight: 5.0)])
        #expect((0..<10).map { _ in router.next()! } == [Int](repeating: 2, count: 10))
        var equal = DeficitRoundRobin([(target: 1, weight: 0.0), (target: 2, weight: 0.0)])
        #expect((0..<4).map { _ in equal.next()! } == [1, 2, 1, 2])
        var empty = DeficitRoundRobin<Int>([])
        #expect(empty.next() == nil)
    }

    @Test func aRetrySkipsAFailedBackend() {
        var router = DeficitRoundRobin([(target: 1, weight: 1.0), (target: 2, weight: 1.0)])
        #expect((0..<3).map { _ in router.next { $0 != 1 }! } == [2, 2, 2])
        #expect(router.next { _ in false } == nil)
    }
}

@Suite struct EWMARateEstimatorTests {
    @Test func firstBeaconSetsTheRateThenItMovesByOneMinusExp() {
        var rate = EWMARateEstimator(timeConstantNs: 10_000_000_000)
        rate.record(count: 200, intervalNs: 2_000_000_000)
        #expect(rate.ratePerSecond == 100)
        rate.record(count: 400, intervalNs: 2_000_000_000)
        let weight = 1 - exp(-0.2)
        #expect(abs(rate.ratePerSecond! - (100 + weight * 100)) < 1e-9)
    }

    @Test func convergesToASteadyRate() {
        var rate = EWMARateEstimator(initialRatePerSecond: 1000)
        for _ in 0..<100 { rate.record(count: 1000, intervalNs: 2_000_000_000) }
        #expect(abs(rate.ratePerSecond! - 500) < 1e-3)
    }

    @Test func fastRiseJumpsOnlyOnASignificantRise() {
        var fast = EWMARateEstimator(fastRise: true, initialRatePerSecond: 1000)
        fast.record(count: 2060, intervalNs: 2_000_000_000)  // +3%: noise, smoothed
        #expect(fast.ratePerSecond! < 1010)
        fast.record(count: 3000, intervalNs: 2_000_000_000)  // +50%: taken at once
        #expect(fast.ratePerSecond == 1500)
        fast.record(count: 1000, intervalNs: 2_000_000_000)  // falls are smoothed
        #expect(fast.ratePerSecond! > 1000)
    }
}

@Suite struct EpochTriggerTests {
    let trigger = EpochTrigger()
    let second: Int64 = 1_000_000_000

    @Test func plansEveryEpoch() {
        #expect(trigger.replanReason(nowNs: 30 * second, lastPlanNs: 0, rates: []) == .epochElapsed)
        #expect(trigger.replanReason(nowNs: 29 * second, lastPlanNs: 0, rates: [(100, 100)]) == nil)
    }

    @Test func aFallLeavingTheBandWaitsTenSecondsAfterTheLastPlan() {
        let rates: [(measuredPerSecond: Double, plannedPerSecond: Double)] = [(100, 100), (79, 100)]
        #expect(trigger.replanReason(nowNs: 9 * second, lastPlanNs: 0, rates: rates) == nil)
        #expect(trigger.replanReason(nowNs: 10 * second, lastPlanNs: 0, rates: rates) == .rateChanged(sessionIndex: 1))
    }

    @Test func aRiseLeavingTheBandPlansOneBeaconAfterTheLastPlan() {
        let rates: [(measuredPerSecond: Double, plannedPerSecond: Double)] = [(100, 100), (115, 100)]
        #expect(trigger.replanReason(nowNs: 1 * second, lastPlanNs: 0, rates: rates) == nil)
        #expect(trigger.replanReason(nowNs: 2 * second, lastPlanNs: 0, rates: rates) == .rateChanged(sessionIndex: 1))
        #expect(trigger.replanReason(nowNs: 2 * second, lastPlanNs: 0, rates: [(5, 0)]) == .rateChanged(sessionIndex: 0))
    }

    @Test func theBandIsInclusive() {
        #expect(trigger.replanReason(nowNs: 12 * second, lastPlanNs: 0, rates: [(80, 100), (110, 100)]) == nil)
        #expect(trigger.replanReason(nowNs: 12 * second, lastPlanNs: 0, rates: [(0, 0)]) == nil)
    }
}

@Suite struct LatencyHistogramTests {
    @Test func quantilesAreWithinTwoPercent() {
        var histogram = LatencyHistogram()
        for value in 1...100_000 { histogram.record(Int64(value) * 1000) }
        #expect(histogram.count == 100_000)
        let p50 = Double(histogram.quantileNs(0.5)!), p99 = Double(histogram.quantileNs(0.99)!)
        #expect(abs(p50 / 50_000_000 - 1) < 0.02)
        #expect(abs(p99 / 99_000_000 - 1) < 0.02)
        #expect(histogram.quantileNs(1) == 100_000_000)
        #expect(LatencyHistogram().quantileNs(0.5) == nil)
    }

    @Test func smallValuesAreExactAndMergesAdd() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        for v in [3, 3, 7] { a.record(Int64(v)) }
        b.record(100)
        a.merge(b)
        #expect(a.count == 4)
        #expect(a.quantileNs(0.5) == 3)
        #expect(a.quantileNs(0.75) == 7)
        #expect(a.maxNs == 100)
    }
}
