/// A queue kept in deadline order (earliest first), the order in which early drop scans requests.
///
/// Requests mostly arrive in deadline order, so an insert is an append; one that is out of order is shifted
/// into place from the back. Popping from the front advances an index and compacts lazily.
public struct DeadlineQueue<Payload>: Sendable where Payload: Sendable {
    @usableFromInline var deadlines: [Int64] = []
    @usableFromInline var payloads: [Payload] = []
    @usableFromInline var head = 0

    public init() {}

    @inlinable public var count: Int { deadlines.count - head }
    @inlinable public var isEmpty: Bool { deadlines.count == head }

    /// Deadline of the `offset`-th request from the front.
    @inlinable public func deadlineNs(at offset: Int) -> Int64 { deadlines[head + offset] }
    @inlinable public func payload(at offset: Int) -> Payload { payloads[head + offset] }

    @inlinable
    public mutating func insert(_ payload: Payload, deadlineNs: Int64) {
        guard let last = deadlines.last, deadlineNs < last, deadlines.count > head else {
            deadlines.append(deadlineNs)
            payloads.append(payload)
            return
        }
        // Out of order (a call that carries slack, or children of batches that ended on other GPUs): it is
        // usually only a few places from the back, so shift from the back instead of Array.insert.
        var position = deadlines.count - 1
        deadlines.append(last)
        payloads.append(payloads[position])
        while position > head, deadlines[position - 1] > deadlineNs {
            deadlines[position] = deadlines[position - 1]
            payloads[position] = payloads[position - 1]
            position -= 1
        }
        deadlines[position] = deadlineNs
        payloads[position] = payload
    }

    /// Removes the `count` earliest requests, handing each to `body` in deadline order.
    @inlinable
    public mutating func popFront(_ count: Int, _ body: (Payload, Int64) -> Void) {
        precondition(count <= self.count, "popFront(\(count)) with only \(self.count) queued")
        for index in head..<(head + count) { body(payloads[index], deadlines[index]) }
        head += count
        if head == deadlines.count {
            deadlines.removeAll(keepingCapacity: true)
            payloads.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= deadlines.count {
            deadlines.removeFirst(head)
            payloads.removeFirst(head)
            head = 0
        }
    }

    /// Removes the `count` earliest requests, appending their payloads to `buffer` in deadline order.
    @inlinable
    public mutating func popFront(_ count: Int, into buffer: inout [Payload]) {
        popFront(count) { payload, _ in buffer.append(payload) }
    }

    /// Removes everything (e.g. to re-route a session's queue after a plan change).
    @inlinable
    public mutating func drain(_ body: (Payload, Int64) -> Void) { popFront(count, body) }
}
