@testable import NexusServer
import Testing

/// What a frontend reports as demand (issue 11): the calls it made when it refused nothing, else every
/// arrival times the calls an admitted request makes, so an overload and a tree's children are not hidden.
@Suite struct DemandCountsTests {
    let roots = ["traffic": "traffic/detect"]

    @Test func withNothingRefusedTheCallsAreTheDemand() {
        let counts = DemandCounts()
        for _ in 0..<10 { counts.arrival(application: "traffic", admitted: true) }
        for _ in 0..<10 { counts.call(stageKey: "traffic/detect") }
        for _ in 0..<15 { counts.call(stageKey: "traffic/car") }
        #expect(counts.take(rootKeys: roots) == ["traffic/detect": 10, "traffic/car": 15])
        #expect(counts.take(rootKeys: roots).isEmpty, "counting starts again")
    }

    @Test func refusalsScaleEveryStageByItsCallsPerAdmittedRequest() {
        let counts = DemandCounts()
        // 100 arrive, 10 are let in; 10 detect calls and 15 car calls (1.5 cars a frame).
        for i in 0..<100 { counts.arrival(application: "traffic", admitted: i < 10) }
        for _ in 0..<10 { counts.call(stageKey: "traffic/detect") }
        for _ in 0..<15 { counts.call(stageKey: "traffic/car") }
        #expect(counts.take(rootKeys: roots) == ["traffic/detect": 100, "traffic/car": 150])
    }

    /// Child calls follow their parent's admission by a latency: one report with few admissions and many
    /// children from earlier ones must not read as a huge child demand.
    @Test func callsPerRequestComeFromDecayingSumsNotOneReport() {
        let counts = DemandCounts()
        for i in 0..<100 { counts.arrival(application: "traffic", admitted: i < 20) }
        for _ in 0..<20 { counts.call(stageKey: "traffic/detect") }
        for _ in 0..<30 { counts.call(stageKey: "traffic/car") }
        _ = counts.take(rootKeys: roots)
        // Next report: 2 admitted, but 30 car calls from the earlier 20.
        for i in 0..<100 { counts.arrival(application: "traffic", admitted: i < 2) }
        for _ in 0..<2 { counts.call(stageKey: "traffic/detect") }
        for _ in 0..<30 { counts.call(stageKey: "traffic/car") }
        let demand = counts.take(rootKeys: roots)
        let car = demand["traffic/car"] ?? 0
        #expect(car < 400, "one report's ratio (15 cars a request) would say 1,500: got \(car)")
        #expect(demand["traffic/detect"] == 100)
    }

    @Test func anApplicationThatAdmittedNothingReportsItsArrivalsAtItsRoot() {
        let counts = DemandCounts()
        for _ in 0..<40 { counts.arrival(application: "traffic", admitted: false) }
        #expect(counts.take(rootKeys: roots) == ["traffic/detect": 40])
    }
}
