import Foundation
import GRPCCore
import NIOPosix
import NexusProtocol
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
