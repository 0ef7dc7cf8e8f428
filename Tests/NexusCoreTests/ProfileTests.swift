import NexusTestSupport
import Testing
@testable import NexusCore

@Suite struct ProfileCSVTests {
    let csv = """
    model,input,batch,eager_median_ms,graph_median_ms,graph_p99_ms,peak_mem_mb
    resnet50,224,1,6.3058,0.9176,0.9347,418
    resnet50,224,2,4.5062,0.9453,0.9608,456
    resnet50,224,4,4.3243,1.0239,1.0307,500
    resnet18,224,1,2.0861,0.3605,0.3788,122
    resnet18,224,2,2.8244,0.3793,0.5248,162
    resnet18,224,4,2.7498,0.4399,0.4562,202
    """

    @Test func readsEveryModelWithTheChosenColumn() throws {
        let table = try ProfileCSV.parse(text: csv, source: "p.csv", column: .graphP99)
        #expect(table.modelNames == ["resnet18", "resnet50"])
        let resnet50 = try table.profile(for: "resnet50")
        #expect(resnet50.latencyMs(batch: 1) == 0.9347)
        #expect(resnet50.medianLatencyMs(batch: 2) == 0.9453)
        #expect(resnet50.memoryMB(batch: 4) == 500)
        #expect(resnet50.inputSize == 224)
        let median = try ProfileCSV.parse(text: csv, source: "p.csv", column: .graphMedian)
        #expect(try median.profile(for: "resnet50").latencyMs(batch: 1) == 0.9176)
    }

    @Test func interpolatesLinearlyAndNeverExtrapolates() throws {
        let profile = try ProfileCSV.parse(text: csv, source: "p.csv").profile(for: "resnet50")
        #expect(abs(profile.latencyMs(batch: 3)! - (0.9608 + 1.0307) / 2) < 1e-12)
        #expect(abs(profile.memoryMB(batch: 3)! - 478) < 1e-12)
        #expect(profile.latencyMs(batch: 5) == nil)
        #expect(profile.latencyMs(batch: 0) == nil)
        #expect(abs(profile.throughputPerSecond(batch: 4)! - 4000 / 1.0307) < 1e-9)
    }

    @Test func readsTheProjectsDeviceColumnInAnyOrder() throws {
        let text = "device,batch,model,graph_p99_ms,graph_median_ms\nh100,1,m,2.0,1.5\nh100,8,m,4.0,3.0\n"
        let profile = try ProfileCSV.parse(text: text, source: "own.csv").profile(for: "m")
        #expect(profile.device == "h100")
        #expect(profile.latencyMs(batch: 8) == 4.0)
        #expect(profile.medianLatencyMs(batch: 8) == 3.0)
        #expect(profile.memoryMB(batch: 8) == 0)
    }

    @Test func errorsNameTheFileLineAndField() {
        func error(_ text: String, column: ProfileColumn = .graphP99) -> String {
            do {
                _ = try ProfileCSV.parse(text: text, source: "bad.csv", column: column)
                return "no error"
            } catch { return "\(error)" }
        }
        let header = "model,batch,graph_p99_ms\n"
        #expect(error(header + "m,1,fast\n") == "bad.csv: line 2: field 'graph_p99_ms': 'fast' is not a number")
        #expect(error(header + "m,0,1.0\n") == "bad.csv: line 2: field 'batch': 0 must be >= 1")
        #expect(error(header + "m,1,-1\n") == "bad.csv: line 2: field 'graph_p99_ms': -1 must be > 0")
        #expect(error(header + "m,1\n") == "bad.csv: line 2: expected 3 fields as in the header, found 2")
        #expect(error(header + "m,2,1.0\n") == "bad.csv: model 'm' has no row for batch 1 (needed: every session must be able to run one request)")
        #expect(error(header + "m,1,1.0\nm,1,2.0\n") == "bad.csv: line 3: model 'm' has batch 1 twice")
        #expect(error(header) == "bad.csv: no profile rows")
        #expect(error("model,graph_p99_ms\nm,1\n") == "bad.csv: line 1: missing column 'batch' (header has: model, graph_p99_ms)")
        #expect(error(header + "m,1,1.0\n", column: .graphMedian).hasPrefix("bad.csv: line 1: missing column 'graph_median_ms'"))
    }

    @Test func anUnknownModelListsTheProfiledOnes() throws {
        let table = try ProfileCSV.parse(text: csv, source: "p.csv")
        #expect(throws: ProfileError.unknownModel(model: "vgg", source: "p.csv", known: ["resnet18", "resnet50"])) {
            try table.profile(for: "vgg")
        }
    }
}

@Suite struct LatencyCurveTests {
    @Test func smallBatchesArePaddedUpWhenALargerOneIsFaster() throws {
        // resnet18's p99 at batch 2 (0.5248 ms) is above its p99 at batch 4 (0.4562 ms).
        let points = [(1, 0.3788), (2, 0.5248), (4, 0.4562), (8, 0.6976)].map {
            ProfilePoint(batch: $0.0, planningLatencyMs: $0.1)
        }
        let curve = LatencyCurve(profile: try ModelProfile(model: "resnet18", points: points))
        #expect(curve.latencyMs[1] == 0.3788)
        #expect(curve.latencyMs[2] == 0.4562)
        #expect(curve.executionBatch[2] == 4)
        #expect(curve.executionBatch[3] == 4)
        #expect(curve.latencyMs[3] == 0.4562)
        #expect(abs(curve.latencyMs[6] - (0.4562 + 0.6976) / 2) < 1e-12)
        for b in 1..<curve.maxBatch { #expect(curve.latencyMs[b] <= curve.latencyMs[b + 1]) }
    }

    @Test func saturatedPointIsTheBestSafeBatch() {
        let curve = TestCurves.affine(fixedMs: 2, perItemMs: 1)
        // 2 * (2 + b) <= 20  =>  b <= 8.
        let point = curve.saturatedPoint(gpuBudgetMs: 20)!
        #expect(point.batch == 8)
        #expect(point.latencyMs == 10)
        #expect(point.throughputPerSecond == 800)
        #expect(curve.saturatedPoint(gpuBudgetMs: 5.9) == nil)
        #expect(curve.saturatedPoint(gpuBudgetMs: 6)?.batch == 1)
        #expect(curve.largestBatch(withLatencyAtMostMs: 100) == 16)
    }
}

@Suite struct ProfileCSVRoundTripTests {
    @Test func whatIsWrittenIsReadBack() throws {
        let rows = [
            ProfileCSV.Row(model: "m", input: 224, batch: 1, eagerMedianMs: 2.5, graphMedianMs: 1.25, graphP99Ms: 1.50006,
                           peakMemoryMB: 812.6, device: "cpu-2threads, libtorch 1.13"),
            ProfileCSV.Row(model: "m", input: 224, batch: 4, eagerMedianMs: 6, graphMedianMs: 4.00001, graphP99Ms: 4.5,
                           peakMemoryMB: 900, device: "cpu-2threads, libtorch 1.13"),
        ]
        let text = ProfileCSV.render(rows, comment: "a comment, with a comma\nand a newline")
        #expect(text.hasPrefix("# a comment; with a comma and a newline\n\(ProfileCSV.header)\n"))
        #expect(text.contains("m,224,1,2.5000,1.2500,1.5001,813,cpu-2threads; libtorch 1.13\n"))
        let profile = try ProfileCSV.parse(text: text, source: "round.csv", column: .graphP99).profile(for: "m")
        #expect(profile.points.map(\.batch) == [1, 4])
        #expect(profile.latencyMs(batch: 4) == 4.5)
        #expect(profile.medianLatencyMs(batch: 1) == 1.25)
        #expect(profile.memoryMB(batch: 1) == 813)
        #expect(profile.device == "cpu-2threads; libtorch 1.13")
        #expect(ProfileCSV.decimal(-2.5) == "-2.5000")
    }
}
