import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
@testable import NexusServer
import Testing

/// The stream handler that answers a message over the limit with RESOURCE_EXHAUSTED, and the framing it
/// follows.
@Suite struct TransportGuardTests {
    static func prefix(length: Int) -> [UInt8] {
        [0, UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
    }

    @Test func framingFollowsMessagesCutAnywhere() {
        var framing = MessageFraming()
        // A 3-byte message, then one of 100 whose prefix is cut across buffers.
        let bytes = Self.prefix(length: 3) + [1, 2, 3] + Self.prefix(length: 100)
        #expect(framing.firstLength(in: ByteBuffer(bytes: bytes.prefix(7)), over: 50) == nil)
        #expect(framing.firstLength(in: ByteBuffer(bytes: bytes.dropFirst(7)), over: 50) == 100)
        // Payload bytes are skipped, not read as prefixes.
        var other = MessageFraming()
        #expect(other.firstLength(in: ByteBuffer(bytes: Self.prefix(length: 10) + [UInt8](repeating: 0xFF, count: 10)), over: 50) == nil)
        #expect(other.firstLength(in: ByteBuffer(bytes: Self.prefix(length: 51)), over: 50) == 51)
    }

    @Test func oversizeMessageIsAnsweredResourceExhaustedThenResetWithNoError() throws {
        let channel = EmbeddedChannel(handler: OversizeMessageGuard(maxMessageBytes: 64))
        let data = HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(bytes: Self.prefix(length: 65) + [0, 0]))))
        try channel.writeInbound(data)
        guard case let .headers(headers)? = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no status was written")
            return
        }
        #expect(headers.endStream)
        #expect(headers.headers.first(name: ":status") == "200", "trailers-only: nothing was sent before")
        #expect(headers.headers.first(name: "grpc-status") == "8")
        #expect(headers.headers.first(name: "grpc-message") == "message of 65 bytes is over this server's limit of 64 bytes (--max-message-mb)")
        #expect(try channel.readInbound(as: HTTP2Frame.FramePayload.self) != nil, "the frame goes on to the transport")
        channel.close(promise: nil)
        guard case let .rstStream(code)? = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no reset was written")
            return
        }
        #expect(code == .noError)
    }

    @Test func messagesWithinTheLimitPassUntouched() throws {
        let channel = EmbeddedChannel(handler: OversizeMessageGuard(maxMessageBytes: 64))
        try channel.writeOutbound(HTTP2Frame.FramePayload.headers(.init(headers: [":status": "200"])))
        _ = try channel.readOutbound(as: HTTP2Frame.FramePayload.self)
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(bytes: Self.prefix(length: 64))))))
        #expect(try channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
        #expect(try channel.readInbound(as: HTTP2Frame.FramePayload.self) != nil)
    }

    @Test func percentEncodingKeepsPrintableASCII() {
        #expect(OversizeMessageGuard.percentEncoded("over 64% of é") == "over 64%25 of %C3%A9")
    }

    @Test func batchesAreCutWithinTheLimit() {
        #expect([5, 5, 5, 20, 1].chunked(maxBytes: 10) { $0 }.map(Array.init) == [[5, 5], [5], [20], [1]])
        #expect([Int]().chunked(maxBytes: 10) { $0 }.isEmpty)
    }
}
