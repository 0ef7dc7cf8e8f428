import Foundation
import NexusCore

/// Runs one device's sessions (DESIGN.md §3.5): a device thread visits the sessions round-robin (an empty
/// queue is skipped), forms each batch with the core's early-drop policy, runs it on the runtime and splits
/// the outputs per request; a worker pool decodes inputs meanwhile. Every accepted request is answered
/// exactly once, through its completion: outputs, or an `InferenceError`.
public final class BackendExecutor: @unchecked Sendable {
    public struct Options: Sendable {
        /// Decode/normalise threads. 0 decodes on the thread that submits: for a CPU device, whose
        /// inference already uses every core, a pool only preempts libtorch's threads mid-batch.
        public var workerThreads: Int
        /// Requests held per session (decoding and queued); more are refused with `resourceExhausted`.
        public var queueCapacity: Int
        /// `nexus-next` (DESIGN.md §5.4): a visit whose queue holds more than the planned batch grows it into
        /// the duty cycle's slack (`ModelTable.growthCaps`) while the earliest deadline still holds.
        public var growsIntoSlack: Bool

        public init(workerThreads: Int = 1, queueCapacity: Int = 4096, growsIntoSlack: Bool = false) {
            self.workerThreads = workerThreads
            self.queueCapacity = queueCapacity
            self.growsIntoSlack = growsIntoSlack
        }
    }

    public let runtime: any ModelRuntime
    public let models: [String: ModelSpec]
    let options: Options
    let clock: any NanosecondClock
    let pool: WorkerPool?
    let condition = NSCondition()
    /// Serialises `apply` calls (loading happens outside `condition`, so the device keeps running).
    let applyLock = NSLock()
    var sessions: [String: ExecutorSession] = [:]
    /// Visiting order: sessions in table order, draining ones after.
    var order: [String] = []
    /// Which session runs next: the core's turn policy, with early drop (DESIGN.md §3.5).
    var turns: RoundRobinTurns
    /// Names sessions replaced under the same id while their old queue drains.
    var retiredCount = 0
    var loaded: [String: any LoadedModel] = [:]
    public internal(set) var table = ModelTable(dutyCycleMs: 0, sessions: [])
    var stopping = false
    /// While stopping: queued requests still run until this time on `clock` (a graceful drain); nil
    /// answers them `unavailable` at once.
    var finishQueuedUntilNs: Int64?
    var statistics = ExecutorStatistics()
    let deviceMetrics = DeviceMetrics()
    let deviceStopped = DispatchSemaphore(value: 0)

    /// `models`: the repository's specs by name (every model a table may name).
    public init(runtime: any ModelRuntime, models: [String: ModelSpec], options: Options = Options(),
                clock: any NanosecondClock = MonotonicClock()) {
        self.runtime = runtime
        self.models = models
        self.options = options
        self.clock = clock
        turns = RoundRobinTurns(drop: .early, growsIntoSlack: options.growsIntoSlack)
        pool = options.workerThreads > 0 ? WorkerPool(threads: options.workerThreads, name: "nexus-decode") : nil
        statistics.startedNs = clock.nowNs()
        let device = Thread { [self] in
            deviceLoop()
            deviceStopped.signal()
        }
        device.name = "nexus-device"
        device.start()
    }

    // MARK: Requests

    /// Accepts a request or answers it at once (unknown session, full queue, stopping). `completion` runs
    /// exactly once, on a worker or the device thread: keep it short.
    public func submit(_ request: InferenceRequest, completion: @escaping @Sendable (InferenceOutcome) -> Void) {
        submit(request, timed: { outcome, _ in completion(outcome) })
    }

    /// `submit`, with how the batch that answered the request ran (nil when it never ran in a batch).
    public func submit(_ request: InferenceRequest, timed completion: @escaping @Sendable (InferenceOutcome, BatchTiming?) -> Void) {
        condition.lock()
        let refusal: InferenceError?
        var target: (session: ExecutorSession, member: Int)?
        if stopping {
            refusal = .unavailable("backend is shutting down")
        } else if let session = sessions[request.sessionID], !session.draining {
            if let member = session.entry.models.firstIndex(of: request.model) {
                if session.queue.count + session.decoding >= options.queueCapacity {
                    refusal = .resourceExhausted("session '\(request.sessionID)' holds \(options.queueCapacity) requests, its limit")
                } else {
                    session.decoding += 1
                    target = (session, member)
                    refusal = nil
                }
            } else {
                refusal = .notFound("model '\(request.model)' is not in session '\(request.sessionID)' (it runs: \(session.entry.models.joined(separator: ", ")))")
            }
        } else {
            refusal = .notFound("session '\(request.sessionID)' is not served by this backend (it serves: \(table.sessions.map(\.sessionID).joined(separator: ", ")))")
        }
        if let refusal { statistics.record(refusal) }
        condition.unlock()
        guard let target else {
            completion(.failure(refusal!), nil)
            return
        }
        let spec = target.session.members[target.member]
        let decode = { [self] in
            var decoded = [Float](repeating: 0, count: spec.input.elementCount)
            var failure: InferenceError?
            do throws(InferenceError) {
                try decoded.withUnsafeMutableBufferPointer { (buffer) throws(InferenceError) in
                    try InputDecoder.decode(request.input, for: spec, into: buffer)
                }
            } catch {
                failure = error
            }
            condition.lock()
            target.session.decoding -= 1
            if failure == nil {
                target.session.queue.insert(.init(input: decoded, member: target.member, queuedNs: clock.nowNs(),
                                                  completion: completion), deadlineNs: request.deadlineNs,
                                            priority: request.priority)
                target.session.metrics.queueLength.record(target.session.queue.count)
                condition.signal()
            } else if target.session.draining {
                condition.signal()
            }
            condition.unlock()
            if let failure {
                count(failure)
                completion(.failure(failure), nil)
            }
        }
        if let pool { pool.submit(decode) } else { decode() }
    }

    /// `submit`, awaiting the outcome.
    public func infer(_ request: InferenceRequest) async -> InferenceOutcome {
        await withCheckedContinuation { continuation in submit(request) { continuation.resume(returning: $0) } }
    }

    // MARK: Lifecycle

    /// Refuses new requests (`unavailable`: "backend is shutting down"), stops the threads and waits for
    /// them. With `finishingQueuedUntilNs` (a graceful drain) the device first runs what is queued and being
    /// decoded, as usual, until it is all answered or the clock passes that time; what is left then (and
    /// everything, without it) is answered `unavailable`. Only the first call stops the executor; a later
    /// one returns at once. The executor's threads keep it alive until then.
    public func shutdown(finishingQueuedUntilNs: Int64? = nil) {
        condition.lock()
        let alreadyStopping = stopping
        if !alreadyStopping {
            stopping = true
            finishQueuedUntilNs = finishingQueuedUntilNs
        }
        condition.broadcast()
        condition.unlock()
        guard !alreadyStopping else { return }
        pool?.stop()
        condition.lock()
        condition.broadcast()
        condition.unlock()
        deviceStopped.wait()
    }

    /// Requests accepted and not yet answered: queued or being decoded.
    public func heldCount() -> Int {
        condition.lock()
        defer { condition.unlock() }
        return sessions.values.reduce(0) { $0 + $1.queue.count + $1.decoding }
    }

    func count(_ error: InferenceError) {
        condition.lock()
        statistics.record(error)
        condition.unlock()
    }
}
