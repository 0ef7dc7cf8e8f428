/// A binary min-heap of timed events; ties break by insertion order, so runs are deterministic.
struct EventQueue {
    struct Event {
        var timeNs: Int64
        var sequence: UInt64
        var kind: EventKind
        var a: Int32
        var b: Int32
    }

    private var heap: [Event] = []
    private var sequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTimeNs: Int64? { heap.first?.timeNs }

    @inline(__always)
    private static func before(_ x: Event, _ y: Event) -> Bool {
        x.timeNs < y.timeNs || (x.timeNs == y.timeNs && x.sequence < y.sequence)
    }

    mutating func push(_ timeNs: Int64, _ kind: EventKind, _ a: Int32 = 0, _ b: Int32 = 0) {
        sequence &+= 1
        heap.append(Event(timeNs: timeNs, sequence: sequence, kind: kind, a: a, b: b))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Event? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                let right = left + 1
                let child = right < count && Self.before(heap[right], heap[left]) ? right : left
                guard Self.before(heap[child], heap[parent]) else { break }
                heap.swapAt(child, parent)
                parent = child
            }
        }
        return top
    }
}

enum EventKind: UInt8 {
    /// A client request of application `a`.
    case arrival
    /// GPU `a` finished the batch it was running (sequential executors); `b` is the GPU's run token.
    case batchDone
    /// Processor-sharing GPU `a` may have a finished job; `b` is the GPU's version when scheduled.
    case sharedGPUTick
    /// Dynamic batcher of slot `a` may be due; `b` is the slot's timer version.
    case batcherTimer
    /// Session `a`'s batch may be ready for a GPU (central dispatch); `b` is the session's timer version.
    case sessionTimer
    /// GPU `a` finished a centrally dispatched batch; `b` is the GPU's run token.
    case centralBatchDone
    /// Frontends report counts; the scheduler may plan.
    case beacon
    /// The frontend reports its counts between beacons (a quarter beacon apart, as the servers' frontends
    /// do); a sudden rise may be planned for at once.
    case report
    /// Trace-like arrivals: every application's rate takes its next random-walk step.
    case rateStep
    /// Phase `a` of the workload begins.
    case phase
}
