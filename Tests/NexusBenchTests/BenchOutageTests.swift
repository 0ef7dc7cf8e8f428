import Testing
@testable import NexusBench

/// The outage `nexus bench` reports (the longest stretch with no OK response), which the fault scenarios of
/// tests/hosts/ hold against their goal.
@Suite struct BenchOutageTests {
    func statistics(okAtMs arrivals: [Int64], windowMs: Int64 = 1_000) -> BenchStatistics {
        var statistics = BenchStatistics(windowStartNs: 0, windowEndNs: windowMs * 1_000_000, sloMs: nil)
        for arrival in arrivals {
            statistics.recordOK(scheduledNs: 0, completedNs: arrival * 1_000_000, reply: BenchReply())
        }
        return statistics
    }

    @Test func theLongestGapBetweenOKArrivalsIsTheOutage() {
        #expect(statistics(okAtMs: [10, 20, 600, 610, 990]).longestGapWithoutOKNs == 580_000_000)
    }

    @Test func theGapsAtTheWindowsEdgesCount() {
        #expect(statistics(okAtMs: [400, 500]).longestGapWithoutOKNs == 500_000_000)
        #expect(statistics(okAtMs: [700, 100]).longestGapWithoutOKNs == 600_000_000)
    }

    @Test func noOKResponseHasNoGap() {
        #expect(statistics(okAtMs: []).longestGapWithoutOKNs == nil)
    }

    @Test func mergedStatisticsKeepEveryArrival() {
        let merged = BenchStatistics(merging: [statistics(okAtMs: [100, 900]), statistics(okAtMs: [500])])
        #expect(merged.longestGapWithoutOKNs == 400_000_000)
    }
}
