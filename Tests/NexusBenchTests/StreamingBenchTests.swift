import Foundation
import GRPCCore
import NIOPosix
import NexusProtocol
@testable import NexusBench
@testable import NexusServer
import Testing

@Suite struct StreamReplyParserTests {
    func parse(_ response: Inference_ModelStreamInferResponse) throws -> BenchStreamReply? {
        let bytes: [UInt8] = try response.serializedBytes()
        return bytes.withUnsafeBytes { BenchStreamReplyDeserializer.parse($0) }
    }

    @Test func readsTheIDAndTheParametersOfAnAnswer() throws {
        let reply = try #require(try parse(.with {
            $0.inferResponse = .with {
                $0.modelName = "noop"
                $0.id = "12345"
                $0.rawOutputContents = [Data(count: 64)]
                $0.parameters["nexus_latency_slo_ms"] = .with { $0.doubleParam = 100 }
                $0.parameters["nexus_runtime"] = .with { $0.stringParam = "simulated" }
            }
        }))
        #expect(reply.id == 12345)
        #expect(reply.errorMessage == nil)
        #expect(reply.reply == BenchReply(sloMs: 100, simulated: true))
    }

    @Test func readsAnErrorAndTheIDItAnswers() throws {
        let reply = try #require(try parse(.with {
            $0.errorMessage = "DEADLINE_EXCEEDED: dropped: the deadline cannot be met by the next batch"
            $0.inferResponse = .with { $0.id = "7"; $0.modelName = "noop" }
        }))
        #expect(reply.id == 7)
        #expect(reply.errorMessage?.hasPrefix("DEADLINE_EXCEEDED") == true)
        #expect(StreamingCaller.codeName("DEADLINE_EXCEEDED") == "deadlineExceeded")
        #expect(StreamingCaller.codeName("SOMETHING_ELSE") == "stream")
    }

    @Test func anIDThatIsNotOursIsMalformed() throws {
        #expect(try parse(.with { $0.inferResponse = .with { $0.id = "request-1" } }) == nil)
        #expect(try parse(.with { $0.inferResponse = .with { $0.id = "99999999999999999999999" } }) == nil)
        // No infer_response at all: no id to match, so nothing is completed (id stays .max).
        #expect(try parse(.with { $0.errorMessage = "x" })?.id == .max)
        let bytes: [UInt8] = try Inference_ModelStreamInferResponse.with { $0.inferResponse = .with { $0.id = "5" } }.serializedBytes()
        #expect(Array(bytes.prefix(bytes.count - 1)).withUnsafeBytes { BenchStreamReplyDeserializer.parse($0) } == nil)
    }
}

@Suite struct EventLoopsTests {
    @Test func tasksThatPreferTheLoopsRunOnThem() async {
        let loops = EventLoops(threads: 1)
        let onLoop = await withTaskExecutorPreference(loops) {
            MultiThreadedEventLoopGroup.currentEventLoop != nil
        }
        #expect(onLoop)
        // Resumed from a thread of its own (as a reply from the device thread is), the task is back on a loop.
        let resumedOnLoop = await withTaskExecutorPreference(loops) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread { continuation.resume() }
            }
            return MultiThreadedEventLoopGroup.currentEventLoop != nil
        }
        #expect(resumedOnLoop)
        // Child tasks inherit the preference.
        let children = await withTaskExecutorPreference(loops) {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { MultiThreadedEventLoopGroup.currentEventLoop != nil } }
                return await group.reduce(true) { $0 && $1 }
            }
        }
        #expect(children)
        try? await loops.group.shutdownGracefully()
    }
}

@Suite struct BenchTimingTests {
    @Test func parserReadsTheTimingParameters() throws {
        var response = Inference_ModelInferResponse()
        response.id = "3"
        response.parameters["nexus_frontend_ns"] = .with { $0.int64Param = 900_000 }
        response.parameters["nexus_call_ns"] = .with { $0.int64Param = 800_000 }
        let partial: [UInt8] = try response.serializedBytes()
        #expect(partial.withUnsafeBytes { BenchReplyParser.parse($0) }?.timing == nil, "all three or none")
        response.parameters["nexus_backend_ns"] = .with { $0.int64Param = 70_000 }
        let bytes: [UInt8] = try response.serializedBytes()
        let reply = try #require(bytes.withUnsafeBytes { BenchReplyParser.parse($0) })
        #expect(reply.timing == BenchTiming(frontendNs: 900_000, callNs: 800_000, backendNs: 70_000))
        // A timing key holding a string is malformed, not silently zero.
        response.parameters["nexus_backend_ns"] = .with { $0.stringParam = "70" }
        let wrong: [UInt8] = try response.serializedBytes()
        #expect(wrong.withUnsafeBytes { BenchReplyParser.parse($0) }?.timing == nil)
    }

    @Test func templateAsksForTiming() throws {
        let input = try BenchInput(app: "noop", name: "input", datatype: "FP32", shape: [-1, 16], choice: .zeros, seed: 1)
        let plain = try Inference_ModelInferRequest(serializedBytes: try input.requestTemplate(app: "noop"))
        #expect(plain.parameters["nexus_timing"] == nil)
        let timed = try Inference_ModelInferRequest(serializedBytes: try input.requestTemplate(app: "noop", timing: true))
        #expect(timed.parameters["nexus_timing"]?.boolParam == true)
    }

    @Test func statisticsCutLatencyAtTheProcessBoundaries() {
        var statistics = BenchStatistics(windowStartNs: 0, windowEndNs: 1_000_000_000, sloMs: 100)
        // 2 ms end to end: 1 ms in the frontend, of which 0.9 ms in the call, of which 0.1 ms on the backend.
        let timing = BenchTiming(frontendNs: 1_000_000, callNs: 900_000, backendNs: 100_000)
        statistics.recordOK(scheduledNs: 10, completedNs: 2_000_010, reply: BenchReply(sloMs: 100, timing: timing))
        statistics.recordOK(scheduledNs: 20, completedNs: 1_000_020, reply: BenchReply(sloMs: 100))
        #expect(statistics.hops.client.count == 1)
        #expect(statistics.hops.client.quantileNs(0.5).map { abs($0 - 1_000_000) <= 20_000 } == true)
        #expect(statistics.hops.frontend.quantileNs(0.5).map { abs($0 - 100_000) <= 2_000 } == true)
        #expect(statistics.hops.link.quantileNs(0.5).map { abs($0 - 800_000) <= 16_000 } == true)
        #expect(statistics.hops.backend.quantileNs(0.5).map { abs($0 - 100_000) <= 2_000 } == true)
    }
}
