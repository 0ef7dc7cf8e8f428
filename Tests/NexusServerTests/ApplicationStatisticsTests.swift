import Foundation
import NexusRuntime
@testable import NexusServer
import XCTest

/// ModelStatistics with Triton's meanings, from the batch timings the backends carry back.
final class ApplicationStatisticsTests: XCTestCase {
    func answer(batchSize: Int, backendNs: Int64) -> ApplicationResult {
        var result = ApplicationResult(outputs: [], simulated: false)
        let timing = BatchTiming(batchSize: batchSize, computeInputNs: 100, computeInferNs: 1000, computeOutputNs: 10)
        result.batches = [timing]
        result.queueNs = backendNs - timing.computeNs
        return result
    }

    func testTwoRequestsInOneBatchCountOneExecution() {
        var stats = ApplicationStatistics()
        stats.record(.success(answer(batchSize: 2, backendNs: 5110)), durationNs: 6000)
        stats.record(.success(answer(batchSize: 2, backendNs: 2110)), durationNs: 3000)
        stats.record(.failure(.deadlineExceeded("late")), durationNs: 700)
        XCTAssertEqual(stats.successCount, 2)
        XCTAssertEqual(stats.successNs, 9000)
        XCTAssertEqual(stats.failCount, 1)
        XCTAssertEqual(stats.failNs, 700)
        XCTAssertEqual(stats.queueNs, 4000 + 1000)
        XCTAssertEqual(stats.computeInferNs, 2000)
        XCTAssertEqual(stats.executionCount, 1)
        XCTAssertEqual(stats.batchSizes[2], BatchSizeTotals(calls: 2, computeInputNs: 100, computeInferNs: 1000, computeOutputNs: 10))
    }

    func testModelStatisticsCountEveryPhaseOncePerSuccessfulRequest() {
        var stats = ApplicationStatistics()
        stats.record(.success(answer(batchSize: 1, backendNs: 2110)), durationNs: 3000)
        let message = InferenceCore.modelStatistics(name: "app", stats)
        XCTAssertEqual(message.version, "1")
        XCTAssertEqual(message.inferenceStats.queue.count, 1)
        XCTAssertEqual(message.inferenceStats.queue.ns, 1000)
        XCTAssertEqual(message.inferenceStats.computeInput.count, message.inferenceStats.computeOutput.count)
        XCTAssertEqual(message.inferenceStats.computeInfer.ns, 1000)
        XCTAssertEqual(message.batchStats.map(\.batchSize), [1])
        XCTAssertEqual(message.batchStats[0].computeInfer.count, 1)
        XCTAssertEqual(message.executionCount, 1)
    }
}
