import GRPCCore

/// How a server's read of a request stream ended.
enum StreamEnding: Sendable {
    /// The client closed its side: answer what was read, then end the call.
    case inputEnded
    /// The process is draining and every request read has been answered (`DrainGate.streamsClosing`): stop
    /// reading, answer what was read, end the call with UNAVAILABLE.
    case closed
    /// The stream broke or the call was cancelled: nobody reads the answers.
    case failed
}

/// Reads `messages`, calling `body` for each on the reading task, until the client closes its side, the
/// stream fails, or `closing` opens. A long-lived stream (a client's ModelStreamInfer, a frontend's link to
/// a backend) would otherwise hold a server's graceful shutdown open for as long as its peer likes.
func readMessages<Message: Sendable>(_ messages: RPCAsyncSequence<Message, any Error>, until closing: Latch,
                                     _ body: @escaping @Sendable (Message) -> Void) async -> StreamEnding {
    await withTaskGroup(of: StreamEnding?.self) { group in
        group.addTask {
            do {
                for try await message in messages { body(message) }
                return .inputEnded
            } catch {
                return closing.isOpen ? nil : .failed
            }
        }
        group.addTask {
            await closing.wait()
            return closing.isOpen ? .closed : nil
        }
        var ending: StreamEnding?
        while ending == nil, let next = await group.next() {
            ending = next
            group.cancelAll()
        }
        return ending ?? .failed
    }
}

extension Array {
    /// Consecutive runs whose `bytes` sum to at most `maxBytes` (an element larger than that alone), so a
    /// batch message stays within the transport's limit however much has queued.
    func chunked(maxBytes: Int, bytes: (Element) -> Int) -> [ArraySlice<Element>] {
        var chunks: [ArraySlice<Element>] = []
        var start = startIndex
        var total = 0
        for index in indices {
            let size = bytes(self[index])
            if index > start && total + size > maxBytes {
                chunks.append(self[start..<index])
                start = index
                total = 0
            }
            total += size
        }
        if start < endIndex { chunks.append(self[start..<endIndex]) }
        return chunks
    }
}
