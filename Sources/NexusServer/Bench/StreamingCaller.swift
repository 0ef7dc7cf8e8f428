import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NexusProtocol
import Synchronization

/// `nexus bench --stream`: requests as messages of one long-lived ModelStreamInfer stream per connection,
/// answers matched by the echoed `id` (as perf_analyzer's streaming mode does). A unary call costs a new
/// HTTP/2 stream with HEADERS both ways and several tasks on each side; a stream message costs one DATA
/// frame, so this is how a client reaches rates unary calls cannot.
///
/// Each stream has a writer that sends, in one `write(contentsOf:)`, every id queued since its last write,
/// and a reader that resumes each request's continuation. When a stream ends or fails, every request
/// still waiting on it is answered `client` failed with the reason: none is left hanging.
final class StreamingCaller: Sendable {
    typealias Waiter = CheckedContinuation<BenchOutcome, Never>

    struct State {
        var queue: [UInt64] = []
        var writerWaiting: CheckedContinuation<Void, Never>?
        var pending: [UInt64: Waiter] = [:]
        /// Set once the stream is over; new calls fail with it at once.
        var closedReason: String?
    }

    private let state = Mutex(State())

    /// Runs the stream until the task is cancelled or the stream fails.
    func run(client: GRPCClient<HTTP2ClientTransport.Posix>, serializer: BenchRequestSerializer) async {
        let request = StreamingClientRequest<UInt64> { writer in
            while let ids = await self.nextIDs() {
                try await writer.write(contentsOf: ids)
            }
        }
        var reason = "the stream ended"
        do {
            try await client.bidirectionalStreaming(
                request: request, descriptor: Inference_GRPCInferenceService.Method.ModelStreamInfer.descriptor,
                serializer: serializer, deserializer: BenchStreamReplyDeserializer(), options: .defaults
            ) { response in
                for try await reply in response.messages { self.complete(reply) }
            }
        } catch let error as RPCError {
            reason = "\(error.code): \(error.message)"
        } catch {
            reason = "\(error)"
        }
        close(reason)
    }

    /// Sends request `id` on this stream and waits for its answer.
    func call(_ id: UInt64) async -> BenchOutcome {
        await withCheckedContinuation { (continuation: Waiter) in
            let (writer, refusal) = state.withLock { state -> (CheckedContinuation<Void, Never>?, String?) in
                if let reason = state.closedReason { return (nil, reason) }
                state.pending[id] = continuation
                state.queue.append(id)
                defer { state.writerWaiting = nil }
                return (state.writerWaiting, nil)
            }
            if let refusal {
                continuation.resume(returning: .failed(code: "client", message: "stream closed: \(refusal)"))
                return
            }
            writer?.resume()
        }
    }

    /// Ends the stream's writer (the reader ends when the server closes its side).
    func finish() { close("the bench finished") }

    private func nextIDs() async -> [UInt64]? {
        while true {
            let (ids, closed) = state.withLock { state -> ([UInt64], Bool) in
                defer { state.queue.removeAll(keepingCapacity: true) }
                return (state.queue, state.closedReason != nil)
            }
            if closed { return nil }
            if !ids.isEmpty { return ids }
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if !state.queue.isEmpty || state.closedReason != nil { return true }
                    state.writerWaiting = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    private func complete(_ reply: BenchStreamReply) {
        guard let waiter = state.withLock({ $0.pending.removeValue(forKey: reply.id) }) else { return }
        if let error = reply.errorMessage {
            // Nexus writes "CODE_NAME: message"; the code is the part before the first colon.
            let code = error.split(separator: ":", maxSplits: 1).first.map { String($0) } ?? "stream"
            waiter.resume(returning: .failed(code: Self.codeName(code), message: error))
        } else {
            waiter.resume(returning: .ok(reply.reply))
        }
    }

    private func close(_ reason: String) {
        let (pending, writer) = state.withLock { state -> ([UInt64: Waiter], CheckedContinuation<Void, Never>?) in
            if state.closedReason == nil { state.closedReason = reason }
            defer {
                state.pending = [:]
                state.queue = []
                state.writerWaiting = nil
            }
            return (state.pending, state.writerWaiting)
        }
        writer?.resume()
        for waiter in pending.values {
            waiter.resume(returning: .failed(code: "client", message: "stream closed: \(reason)"))
        }
    }

    /// The unary path's `RPCError.Code` names for the codes Nexus writes in `error_message`, so both modes
    /// report errors under the same keys.
    static func codeName(_ upper: String) -> String {
        let names = ["INVALID_ARGUMENT": "invalidArgument", "NOT_FOUND": "notFound", "RESOURCE_EXHAUSTED": "resourceExhausted",
                     "DEADLINE_EXCEEDED": "deadlineExceeded", "UNAVAILABLE": "unavailable", "INTERNAL": "internalError"]
        return names[upper] ?? "stream"
    }
}

/// One ModelStreamInferResponse as the bench reads it.
struct BenchStreamReply: Sendable {
    var id: UInt64 = .max
    var errorMessage: String?
    var reply = BenchReply()
}

/// ModelStreamInferResponse: error_message = 1, infer_response = 2 (a ModelInferResponse, whose id = 3 is
/// the decimal id the bench sent, and whose parameters `BenchReplyParser` reads).
struct BenchStreamReplyDeserializer: MessageDeserializer {
    typealias Message = BenchStreamReply

    func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> BenchStreamReply {
        guard let reply = bytes.withUnsafeBytes({ Self.parse($0) }) else {
            throw RPCError(code: .internalError, message: "bench: malformed ModelStreamInferResponse")
        }
        return reply
    }

    static func parse(_ buffer: UnsafeRawBufferPointer) -> BenchStreamReply? {
        var reader = BenchReplyParser.Reader(buffer: buffer, position: 0, end: buffer.count)
        var result = BenchStreamReply()
        while !reader.atEnd {
            guard let (field, wire) = reader.key() else { return nil }
            switch (field, wire) {
            case (1, 2):
                guard let range = reader.lengthDelimited() else { return nil }
                if !range.isEmpty { result.errorMessage = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[range]), as: UTF8.self) }
            case (2, 2):
                guard let range = reader.lengthDelimited() else { return nil }
                let inner = UnsafeRawBufferPointer(rebasing: buffer[range])
                guard let reply = BenchReplyParser.parse(inner), let id = Self.id(inner) else { return nil }
                result.reply = reply
                result.id = id
            default:
                guard reader.skip(wire) else { return nil }
            }
        }
        return result
    }

    /// Field 3 of a ModelInferResponse as a decimal number; nil when absent or not a number.
    static func id(_ buffer: UnsafeRawBufferPointer) -> UInt64? {
        var reader = BenchReplyParser.Reader(buffer: buffer, position: 0, end: buffer.count)
        while !reader.atEnd {
            guard let (field, wire) = reader.key() else { return nil }
            if field == 3 && wire == 2 {
                guard let range = reader.lengthDelimited(), !range.isEmpty, range.count <= 20 else { return nil }
                var value: UInt64 = 0
                for index in range {
                    let digit = buffer[index]
                    guard digit >= 0x30 && digit <= 0x39 else { return nil }
                    let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - 0x30))
                    guard !overflow1 && !overflow2 else { return nil }
                    value = sum
                }
                return value
            }
            guard reader.skip(wire) else { return nil }
        }
        return nil
    }
}
