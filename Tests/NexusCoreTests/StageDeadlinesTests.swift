import NexusCore
import Testing

@Suite struct StageDeadlinesTests {
    @Test func aChildsDeadlineAddsItsBudgetToItsParents() {
        // detect (root) -> cars, faces; cars -> plates.
        let offsets = StageDeadlines.offsetsNs(budgetsMs: [10, 5, 7.5, 2.25], parents: [nil, 0, 0, 1])
        #expect(offsets == [10_000_000, 15_000_000, 17_500_000, 17_250_000])
    }

    @Test func stagesMayBeListedBeforeTheirParents() {
        // plates, cars, detect: the leaf first.
        let offsets = StageDeadlines.offsetsNs(budgetsMs: [2, 5, 10], parents: [1, 2, nil])
        #expect(offsets == [17_000_000, 15_000_000, 10_000_000])
    }

    @Test func budgetsRoundToTheNanosecondOncePerStage() {
        #expect(StageDeadlines.offsetsNs(budgetsMs: [0.0000006, 0.0000006], parents: [nil, 0]) == [1, 2])
    }
}
