import Foundation
import GRPCCore
import NexusProtocol
import Testing
@testable import NexusBench
@testable import NexusServer

/// `nexus bench`: the Poisson schedule, the statistics, the max-rate search, the wire helpers, and the
/// open-loop engine driven by fake calls (the gRPC part needs a server).
@Suite struct PoissonScheduleTests {
    @Test func meanGapIsOneOverTheRate() {
        for rate in [10.0, 1000.0, 50_000.0] {
            var schedule = PoissonSchedule(ratePerSecond: rate, seed: 7)
            let n = 200_000
            var last: Int64 = 0
            var gaps: [Double] = []
            gaps.reserveCapacity(n)
            for _ in 0..<n {
                let time = schedule.next()
                gaps.append(Double(time - last))
                last = time
            }
            let mean = gaps.reduce(0, +) / Double(n)
            let expected = 1e9 / rate
            // The standard error of the mean of n exponentials is mean / sqrt(n) (0.22% here): allow 1%.
            #expect(abs(mean - expected) / expected < 0.01, "rate \(rate): mean gap \(mean) ns, expected \(expected)")
            // Exponential: the standard deviation equals the mean, and P(gap > mean) = 1/e.
            let variance = gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
            #expect(abs(variance.squareRoot() - expected) / expected < 0.02)
            let above = Double(gaps.filter { $0 > expected }.count) / Double(n)
            #expect(abs(above - exp(-1)) < 0.005)
            #expect(schedule.count == UInt64(n))
        }
    }

    @Test func timesIncreaseAndCountMatchesRateTimesDuration() {
        var schedule = PoissonSchedule(ratePerSecond: 20_000, seed: 3)
        var previous: Int64 = -1
        var count = 0
        while schedule.peekNs < 10_000_000_000 {
            let time = schedule.next()
            #expect(time >= previous)
            previous = time
            count += 1
        }
        // 200,000 expected, Poisson standard deviation ~447: within 5 sigma.
        #expect(abs(count - 200_000) < 2_300)
    }

    @Test func sameSeedSameSchedule() {
        var a = PoissonSchedule(ratePerSecond: 500, seed: 42)
        var b = PoissonSchedule(ratePerSecond: 500, seed: 42)
        var c = PoissonSchedule(ratePerSecond: 500, seed: 43)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        #expect(first != (0..<100).map { _ in c.next() })
    }

    @Test func startOffsetsTheSchedule() {
        var a = PoissonSchedule(ratePerSecond: 100, seed: 1)
        var b = PoissonSchedule(ratePerSecond: 100, seed: 1, startNs: 5_000_000_000)
        for _ in 0..<10 { #expect(b.next() - a.next() == 5_000_000_000) }
    }
}

@Suite struct BenchStatisticsTests {
    static let ms: Int64 = 1_000_000

    @Test func percentilesOfUniformLatencies() {
        // Latencies 1...1000 ms: p50 = 500, p90 = 900, p99 = 990 ms, within the histogram's 1.6%.
        var statistics = BenchStatistics(windowStartNs: 0, windowEndNs: 10_000 * Self.ms, sloMs: 2000)
        for i in 1...1000 { statistics.recordOK(scheduledNs: Int64(i) * Self.ms, completedNs: Int64(2 * i) * Self.ms, reply: BenchReply()) }
        for (q, expected) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let value = statistics.latencyMs(q)!
            #expect(abs(value - expected) / expected < 0.016, "q \(q): \(value) ms")
        }
        #expect(statistics.maxLatencyMs == 1000)
        #expect(statistics.ok == 1000)
        #expect(statistics.withinSLO == 1000)
    }

    @Test func goodputCountsOnlyWithinSLOInTheWindow() {
        // Window [1 s, 11 s): 10 s. SLO 100 ms.
        var statistics = BenchStatistics(windowStartNs: 1000 * Self.ms, windowEndNs: 11_000 * Self.ms, sloMs: 100)
        // Warm-up: not counted whatever the outcome.
        statistics.recordOK(scheduledNs: 500 * Self.ms, completedNs: 550 * Self.ms, reply: BenchReply())
        statistics.recordError(scheduledNs: 999 * Self.ms, code: "unavailable", message: "warm-up")
        // 300 in the window: 200 fast, 60 late, 40 failed; and 5 after the window.
        for i in 0..<200 { statistics.recordOK(scheduledNs: (1000 + Int64(i)) * Self.ms, completedNs: (1050 + Int64(i)) * Self.ms, reply: BenchReply()) }
        for i in 0..<60 { statistics.recordOK(scheduledNs: (2000 + Int64(i)) * Self.ms, completedNs: (2100 + Int64(i)) * Self.ms + 1, reply: BenchReply()) }
        for i in 0..<30 { statistics.recordError(scheduledNs: (3000 + Int64(i)) * Self.ms, code: "deadlineExceeded", message: "late \(i)") }
        for i in 0..<10 { statistics.recordError(scheduledNs: (4000 + Int64(i)) * Self.ms, code: "resourceExhausted", message: "full") }
        for i in 0..<5 { statistics.recordOK(scheduledNs: (11_000 + Int64(i)) * Self.ms, completedNs: (11_001 + Int64(i)) * Self.ms, reply: BenchReply()) }
        statistics.addScheduled(sent: 310, notSent: 20)
        statistics.close()
        // Closed: a late answer no longer counts, so its request is unanswered.
        statistics.recordOK(scheduledNs: 5000 * Self.ms, completedNs: 5001 * Self.ms, reply: BenchReply())

        #expect(statistics.ok == 260)
        #expect(statistics.withinSLO == 200)  // exactly 100 ms is within; 100 ms + 1 ns is not
        #expect(statistics.errors == ["deadlineExceeded": 30, "resourceExhausted": 10])
        #expect(statistics.errorExamples["deadlineExceeded"] == "late 0")
        #expect(statistics.unanswered == 310 - 260 - 40)
        #expect(statistics.goodputPerSecond == 20)
        #expect(statistics.withinSLOFraction == 200.0 / 330)
        #expect(!statistics.meets(fraction: 0.99))
    }

    @Test func sloComesFromTheFirstResponseThatCarriesIt() {
        var statistics = BenchStatistics(windowStartNs: 0, windowEndNs: 1000 * Self.ms, sloMs: nil)
        #expect(statistics.goodputPerSecond == nil)
        statistics.recordOK(scheduledNs: 0, completedNs: 5 * Self.ms, reply: BenchReply())  // no SLO yet: not within
        statistics.recordOK(scheduledNs: 0, completedNs: 10 * Self.ms, reply: BenchReply(sloMs: 20))
        statistics.recordOK(scheduledNs: 0, completedNs: 30 * Self.ms, reply: BenchReply(sloMs: 50))  // later ones ignored
        statistics.recordOK(scheduledNs: 0, completedNs: 15 * Self.ms, reply: BenchReply(simulated: true))
        #expect(statistics.sloNs == 20 * Self.ms)
        #expect(statistics.sloSource == .server)
        #expect(statistics.withinSLO == 2)
        #expect(statistics.simulatedFraction == 0.25)
        #expect(statistics.goodputPerSecond == 2)

        // --slo-ms wins over the server.
        var flagged = BenchStatistics(windowStartNs: 0, windowEndNs: 1000 * Self.ms, sloMs: 5)
        flagged.recordOK(scheduledNs: 0, completedNs: 10 * Self.ms, reply: BenchReply(sloMs: 20))
        #expect(flagged.sloNs == 5 * Self.ms)
        #expect(flagged.sloSource == .flag)
        #expect(flagged.withinSLO == 0)
    }

    @Test func meetsNeedsNinetyNinePercentOfScheduled() {
        var statistics = BenchStatistics(windowStartNs: 0, windowEndNs: 1000 * Self.ms, sloMs: 10)
        for _ in 0..<99 { statistics.recordOK(scheduledNs: 0, completedNs: Self.ms, reply: BenchReply()) }
        statistics.addScheduled(sent: 99, notSent: 0)
        #expect(statistics.meets(fraction: 0.99))
        statistics.addScheduled(sent: 0, notSent: 1)  // 99 of 100: still meets
        #expect(statistics.meets(fraction: 0.99))
        statistics.addScheduled(sent: 1, notSent: 0)  // 99 of 101: not
        #expect(!statistics.meets(fraction: 0.99))
        #expect(!BenchStatistics(windowStartNs: 0, windowEndNs: 1, sloMs: 10).meets(fraction: 0.99))
    }
}

@Suite struct BenchWireTests {
    @Test func serializedRequestIsTheTemplateWithItsID() throws {
        let input = try BenchInput(app: "game", name: "INPUT0", datatype: "FP32", shape: [-1, 3, 4, 4], choice: .random, seed: 1)
        #expect(input.shape == [1, 3, 4, 4])
        #expect(input.raw.count == 3 * 4 * 4 * 4)
        let serializer = BenchRequestSerializer(template: try input.requestTemplate(app: "game"))
        for id: UInt64 in [0, 7, 10, 12345, .max] {
            let bytes: [UInt8] = try serializer.serialize(id)
            let request = try Inference_ModelInferRequest(serializedBytes: bytes)
            #expect(request.id == String(id))
            #expect(request.modelName == "game")
            #expect(request.inputs.first?.name == "INPUT0")
            #expect(request.inputs.first?.datatype == "FP32")
            #expect(request.inputs.first?.shape == [1, 3, 4, 4])
            #expect(request.rawInputContents == [input.raw])
        }
        // FP32 random values are in [0, 1).
        let floats = input.raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(floats.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Set(floats).count > 40)
    }

    @Test func zerosAndOtherTypes() throws {
        let zeros = try BenchInput(app: "a", name: "x", datatype: "INT64", shape: [2, 5], choice: .zeros, seed: 1)
        #expect(zeros.raw == Data(count: 80))
        let half = try BenchInput(app: "a", name: "x", datatype: "FP16", shape: [100], choice: .random, seed: 1)
        let halves = half.raw.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        #expect(halves.allSatisfy { $0 < 0x3C00 })  // below 1.0 in half precision
        #expect(BenchInput.halfBits(0.5) == 0x3800)
        #expect(BenchInput.halfBits(0.75) == 0x3A00)
        #expect(throws: ServerError.self) { try BenchInput(app: "a", name: "x", datatype: "BYTES", shape: [1], choice: .random, seed: 1) }
        #expect(throws: ServerError.self) { try BenchInput(app: "a", name: "x", datatype: "FP32", shape: [1 << 20, 1 << 20], choice: .random, seed: 1) }
    }

    @Test func imageIsTritonBytes() throws {
        let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9])
        let input = try BenchInput(app: "a", name: "IMAGE", datatype: "BYTES", shape: [-1], choice: .image(path: "/x/cat.jpg"),
                                   imageBytes: jpeg, seed: 1)
        #expect(input.datatype == "BYTES")
        #expect(input.shape == [1])
        #expect(input.raw == Data([9, 0, 0, 0]) + jpeg)
        #expect(input.warning == nil)
        let other = try BenchInput(app: "a", name: "IMAGE", datatype: "FP32", shape: [1, 3], choice: .image(path: "/x/cat.jpg"),
                                   imageBytes: jpeg, seed: 1)
        #expect(other.warning != nil)
    }

    @Test func replyParserReadsTheTwoParameters() throws {
        func parse(_ response: Inference_ModelInferResponse) throws -> BenchReply {
            let bytes: [UInt8] = try response.serializedBytes()
            return try #require(bytes.withUnsafeBytes { BenchReplyParser.parse($0) })
        }
        var response = Inference_ModelInferResponse()
        response.modelName = "game"
        response.id = "17"
        response.outputs = [.with { $0.name = "OUT"; $0.datatype = "FP32"; $0.shape = [1, 1000]; $0.parameters["x"] = .with { $0.int64Param = 3 } }]
        response.rawOutputContents = [Data(count: 4000)]
        #expect(try parse(response) == BenchReply())
        response.parameters["nexus_latency_slo_ms"] = .with { $0.doubleParam = 42.5 }
        response.parameters["nexus_runtime"] = .with { $0.stringParam = "simulated" }
        response.parameters["other"] = .with { $0.boolParam = true }
        #expect(try parse(response) == BenchReply(sloMs: 42.5, simulated: true))
        response.parameters["nexus_latency_slo_ms"] = .with { $0.int64Param = 100 }
        response.parameters["nexus_runtime"] = .with { $0.stringParam = "torch" }
        #expect(try parse(response) == BenchReply(sloMs: 100, simulated: false))
        response.parameters["nexus_latency_slo_ms"] = .with { $0.uint64Param = 7 }
        #expect(try parse(response).sloMs == 7)
        #expect(try parse(Inference_ModelInferResponse()) == BenchReply())

        // Truncated bytes are malformed, not a crash.
        let bytes: [UInt8] = try response.serializedBytes()
        for cut in [1, 5, bytes.count / 2, bytes.count - 1] {
            let truncated = Array(bytes.prefix(cut))
            _ = truncated.withUnsafeBytes { BenchReplyParser.parse($0) }
        }
        #expect(Array(bytes.prefix(bytes.count - 1)).withUnsafeBytes { BenchReplyParser.parse($0) } == nil)
        // Through the gRPC deserializer.
        #expect(try BenchReplyDeserializer().deserialize(bytes).sloMs == 7)
        #expect(throws: RPCError.self) { try BenchReplyDeserializer().deserialize(Array(bytes.prefix(3))) }
    }
}

@Suite struct OpenLoopTests {
    @Test func sendsOnScheduleWithoutWaitingForAnswers() async {
        // Each call takes 20 ms; at 1000/s about 20 are out at once, so a closed loop would manage 50/s.
        var loop = OpenLoop(ratePerSecond: 1000, durationSeconds: 1)
        loop.warmupSeconds = 0.2
        let (report, nextID) = await loop.run { id in
            try? await Task.sleep(nanoseconds: 20_000_000)
            return .ok(BenchReply(sloMs: 500, simulated: id % 2 == 0))
        }
        // 1000 scheduled in the window, Poisson standard deviation ~32 (wide bounds: CI machines are shared).
        #expect(report.sent > 800 && report.sent < 1200, "sent \(report.sent)")
        #expect(report.notSent == 0)
        #expect(report.completedOK == report.sent)
        #expect(report.unanswered == 0)
        #expect(report.errors.isEmpty)
        #expect(report.sloMs == 500 && report.sloSource == "server")
        // Within-SLO counting is checked on fixed times in BenchStatisticsTests: here the clock is real and a
        // busy test machine may stall the loop.
        #expect(report.latency!.p50Ms >= 20)
        #expect(abs(report.simulatedFraction! - 0.5) < 0.1)
        #expect(nextID > UInt64(report.sent))  // warm-up requests took ids too
    }

    @Test func capsInFlightAndCountsTheRestAsUnanswered() async {
        var loop = OpenLoop(ratePerSecond: 2000, durationSeconds: 0.5)
        loop.warmupSeconds = 0
        loop.maxInFlight = 20
        loop.drainSeconds = 0.1
        loop.sloMs = 10
        let (report, _) = await loop.run { _ in
            // Never answers in time; cancelled after the drain.
            do { try await Task.sleep(nanoseconds: 60_000_000_000) } catch { return .failed(code: "cancelled", message: "") }
            return .ok(BenchReply())
        }
        #expect(report.sent == 20)
        #expect(report.notSent > 700, "notSent \(report.notSent)")
        #expect(report.unanswered == 20)
        #expect(report.errors.isEmpty)  // cancellations after the drain are not errors
        #expect(report.completedOK == 0 && report.latency == nil)
        #expect(report.goodputPerSecond == 0)
        #expect(!report.meets(fraction: 0.99))
    }

    @Test func errorsByCode() async {
        var loop = OpenLoop(ratePerSecond: 2000, durationSeconds: 0.5)
        loop.warmupSeconds = 0
        loop.sloMs = 1000
        let (report, _) = await loop.run { id in
            id % 4 == 0 ? .failed(code: "unavailable", message: "no backend") : .ok(BenchReply())
        }
        let failed = report.errors["unavailable"] ?? 0
        #expect(report.errorExamples["unavailable"] == "no backend")
        #expect(failed + report.completedOK == report.sent)
        #expect(abs(Double(failed) / Double(report.sent) - 0.25) < 0.05)
    }
}
