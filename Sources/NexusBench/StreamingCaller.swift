import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NexusProtocol
import Synchronization
import NexusServer

/// `nexus bench --stream`: requests as messages of one long-lived ModelStreamInfer stream per connection,
/// answers matched by the echoed `id` (as perf_analyzer's streaming mode does). A unary call costs a new
/// HTTP/2 stream with HEADERS both ways and several tasks on each side; a stream message costs one DATA
/// frame, so this is how a client reaches rates unary calls cannot.
///
/// The stream's writer sends, in one `write(contentsOf:)`, every id queued since its last write (a
/// `CallQueue`), and its reader answers each request's continuation. When the stream ends or fails, every
/// request still waiting on it fails (`client`) with the reason: none is left hanging.
final class StreamingCaller: Sendable {
    private let calls = CallQueue<UInt64, BenchOutcome>()

    /// Runs the stream until the task is cancelled or the stream fails.
    func run(client: GRPCClient<HTTP2ClientTransport.Posix>, serializer: BenchRequestSerializer) async {
        let request = StreamingClientRequest<UInt64> { writer in
            while let ids = await self.calls.nextBatch() {
                try await writer.write(contentsOf: ids)
            }
        }
        var reason = "the stream ended"
        do {
            try await client.bidirectionalStreaming(
                request: request, descriptor: Inference_GRPCInferenceService.Method.ModelStreamInfer.descriptor,
                serializer: serializer, deserializer: BenchStreamReplyDeserializer(), options: .defaults
            ) { response in
                for try await reply in response.messages { self.calls.complete(id: reply.id, with: Self.outcome(reply)) }
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
        await withCheckedContinuation { (continuation: CheckedContinuation<BenchOutcome, Never>) in
            if let refusal = calls.send(id, id: id, completion: { continuation.resume(returning: $0) }) {
                continuation.resume(returning: .failed(code: "client", message: "stream closed: \(refusal)"))
            }
        }
    }

    /// Ends the stream's writer (the reader ends when the server closes its side).
    func finish() { close("the bench finished") }

    private func close(_ reason: String) {
        for (_, completion) in calls.close(reason) {
            completion(.failed(code: "client", message: "stream closed: \(reason)"))
        }
    }

    static func outcome(_ reply: BenchStreamReply) -> BenchOutcome {
        guard let error = reply.errorMessage else { return .ok(reply.reply) }
        // Nexus writes "CODE_NAME: message"; the code is the part before the first colon.
        let code = error.split(separator: ":", maxSplits: 1).first.map { String($0) } ?? "stream"
        return .failed(code: codeName(code), message: error)
    }

    /// The unary path's `RPCError.Code` names for the codes Nexus writes in `error_message`, so both modes
    /// report errors under the same keys.
    static func codeName(_ upper: String) -> String { codeNames[upper] ?? "stream" }

    static let codeNames = ["INVALID_ARGUMENT": "invalidArgument", "NOT_FOUND": "notFound", "RESOURCE_EXHAUSTED": "resourceExhausted",
                            "DEADLINE_EXCEEDED": "deadlineExceeded", "UNAVAILABLE": "unavailable", "INTERNAL": "internalError"]
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
