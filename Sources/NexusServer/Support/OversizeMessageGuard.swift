import NIOCore
import NIOHPACK
import NIOHTTP2

/// Answers a gRPC message over the server's limit with RESOURCE_EXHAUSTED.
///
/// grpc-swift-nio-transport 2.9.2 sees the over-long length prefix, raises RESOURCE_EXHAUSTED inside the
/// server and resets the stream without sending a status, so the client reads CANCELLED. This handler sits
/// first on each HTTP/2 stream, follows the 5-byte length prefixes of the messages going through (it only
/// counts bytes) and, at the first prefix over the limit, writes the status as trailers (a trailers-only
/// response when nothing was sent yet) before passing the frame on, and turns the transport's reset of the
/// stream into one with NO_ERROR. The connection and every other call on it go on.
final class OversizeMessageGuard: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    let maxMessageBytes: Int
    private var framing = MessageFraming()
    private var sentHeaders = false
    private var answered = false
    private var reset = false

    init(maxMessageBytes: Int) { self.maxMessageBytes = maxMessageBytes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !answered, case let .data(frame) = unwrapInboundIn(data), case let .byteBuffer(buffer) = frame.data,
           let length = framing.firstLength(in: buffer, over: maxMessageBytes) {
            answer(context: context, length: length)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if answered {
            // The call is over for the client; what the server still writes for it goes nowhere.
            promise?.fail(ChannelError.outputClosed)
            return
        }
        if case .headers = unwrapOutboundIn(data) { sentHeaders = true }
        context.write(data, promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if answered && !reset {
            // The transport resets the stream with CANCEL, which a client reads as CANCELLED even after
            // the status: end it with NO_ERROR instead (RFC 9113 §8.1: the server has answered, the client
            // may stop sending).
            reset = true
            context.writeAndFlush(wrapOutboundOut(.rstStream(.noError)), promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }

    private func answer(context: ChannelHandlerContext, length: Int) {
        answered = true
        var headers = HPACKHeaders()
        if !sentHeaders {
            headers.add(name: ":status", value: "200")
            headers.add(name: "content-type", value: "application/grpc")
        }
        headers.add(name: "grpc-status", value: "8")
        headers.add(name: "grpc-message", value: Self.percentEncoded(
            "message of \(length) bytes is over this server's limit of \(maxMessageBytes) bytes (--max-message-mb)"))
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
    }

    /// grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

/// The gRPC length-prefixed framing of one stream's inbound bytes, followed without copying: a message is
/// one flag byte, a 4-byte big-endian length, then that many bytes, and frames cut it anywhere.
struct MessageFraming {
    /// Bytes of the current message's payload still to come.
    private var payloadLeft = 0
    /// Prefix bytes read so far (0...4) and the length they spell.
    private var prefixRead = 0
    private var length = 0

    /// Follows `buffer`; returns the length of the first message in it whose prefix says more than `limit`.
    mutating func firstLength(in buffer: ByteBuffer, over limit: Int) -> Int? {
        var index = buffer.readerIndex
        let end = buffer.writerIndex
        while index < end {
            if payloadLeft > 0 {
                let skipped = min(payloadLeft, end - index)
                payloadLeft -= skipped
                index += skipped
                continue
            }
            let byte = Int(buffer.getInteger(at: index, as: UInt8.self)!)
            index += 1
            if prefixRead > 0 { length = length << 8 | byte }
            prefixRead += 1
            guard prefixRead == 5 else { continue }
            let found = length
            prefixRead = 0
            length = 0
            payloadLeft = found
            if found > limit { return found }
        }
        return nil
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
