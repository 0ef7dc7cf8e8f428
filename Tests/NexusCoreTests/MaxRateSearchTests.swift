import NexusCore
import Testing

/// The one max-rate search of `nexus simulate` and `nexus bench`, driven by fake runs that pass below a threshold.
@Suite struct MaxRateSearchTests {
    func search(threshold: Double, start: Double, minRate: Double = 1, precision: Double = 0.01) -> MaxRateSearch {
        var search = MaxRateSearch(startRatePerSecond: start, minRatePerSecond: minRate, relativePrecision: precision)
        search.run { $0 < threshold }
        return search
    }

    @Test func convergesWithinThePrecisionBelowTheThreshold() throws {
        for threshold in [1234.0, 1000.5, 50_000.0, 3.3] {
            let done = search(threshold: threshold, start: 100)
            let best = try #require(done.highestPassingPerSecond)
            #expect(best < threshold)
            #expect((threshold - best) / best <= 0.01, "threshold \(threshold): \(best)")
            #expect(done.steps.filter { !$0.passed }.allSatisfy { $0.ratePerSecond >= threshold })
            #expect(done.steps.filter(\.passed).allSatisfy { $0.ratePerSecond < threshold })
            #expect(done.nextRatePerSecond == nil)
        }
    }

    @Test func doublesWhileRunsPassThenBisects() {
        let done = search(threshold: 900, start: 100)
        #expect(done.steps.prefix(5).map(\.ratePerSecond) == [100, 200, 400, 800, 1600])
        #expect(done.steps.prefix(5).map(\.passed) == [true, true, true, true, false])
        // [800, 1600] bisected: 1200, 1000, 900 fail; 850, 875, 887.5, 893.75 pass; [893.75, 900] is within 1%.
        #expect(done.steps.dropFirst(5).map(\.ratePerSecond) == [1200, 1000, 900, 850, 875, 887.5, 893.75])
        #expect(done.highestPassingPerSecond == 893.75)
        #expect(!done.hitCeiling)
    }

    @Test func halvesWhileRunsFail() {
        let done = search(threshold: 700, start: 10_000)
        #expect(done.steps.prefix(5).map(\.ratePerSecond) == [10_000, 5000, 2500, 1250, 625])
        #expect(done.steps.prefix(5).map(\.passed) == [false, false, false, false, true])
    }

    @Test func nothingPassesDownToTheMinimum() {
        let done = search(threshold: 0.5, start: 8, minRate: 1)
        #expect(done.highestPassingPerSecond == nil)
        #expect(done.steps.map(\.ratePerSecond) == [8, 4, 2, 1])
    }

    @Test func stopsAtTheCeilingAndSaysSo() {
        var search = MaxRateSearch(startRatePerSecond: 1000, maxRatePerSecond: 5000)
        search.run { _ in true }
        #expect(search.highestPassingPerSecond == 5000)
        #expect(search.hitCeiling)
        #expect(search.steps.map(\.ratePerSecond) == [1000, 2000, 4000, 5000])
    }

    @Test func finerPrecisionFinerAnswer() throws {
        let best = try #require(search(threshold: 777, start: 100, precision: 1e-6).highestPassingPerSecond)
        #expect(777 - best < 0.001)
    }

    @Test func asyncRunsDriveTheSameSteps() async {
        var search = MaxRateSearch(startRatePerSecond: 100)
        await search.run { rate async in rate < 900 }
        #expect(search.steps == self.search(threshold: 900, start: 100).steps)
    }
}
