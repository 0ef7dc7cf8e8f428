import NexusCore
import NexusServer

/// What the load generator keeps of one response: only the parameters the report needs.
public struct BenchReply: Sendable, Equatable {
    /// `nexus_latency_slo_ms` (a double, int64 or uint64 parameter), when the server sent it.
    public var sloMs: Double?
    /// `nexus_runtime` was "simulated".
    public var simulated: Bool
    /// Where a Nexus frontend says the time went, when the request asked (`--timing`).
    public var timing: BenchTiming?

    public init(sloMs: Double? = nil, simulated: Bool = false, timing: BenchTiming? = nil) {
        self.sloMs = sloMs
        self.simulated = simulated
        self.timing = timing
    }
}

/// `nexus_frontend_ns`, `nexus_call_ns` and `nexus_backend_ns` of one response: the request's time in the
/// frontend, its model calls' round trips from there, and the backends' share of those (sums over calls).
public struct BenchTiming: Sendable, Equatable {
    public var frontendNs: Int64
    public var callNs: Int64
    public var backendNs: Int64

    public init(frontendNs: Int64, callNs: Int64, backendNs: Int64) {
        self.frontendNs = frontendNs
        self.callNs = callNs
        self.backendNs = backendNs
    }
}

/// One request's latency cut at the process boundaries, from `BenchTiming` and the client's own latency.
public struct BenchHops: Sendable {
    /// The client's own time and the client <-> frontend network, both ways (latency - frontend).
    public var client = LatencyHistogram()
    /// The frontend's own work (frontend - calls).
    public var frontend = LatencyHistogram()
    /// frontend <-> backend, both ways, with gRPC at both ends (calls - backend).
    public var link = LatencyHistogram()
    /// On the backend: decode, queue, batch, model, reply (the null model's own share is ~8 µs).
    public var backend = LatencyHistogram()

    mutating func merge(_ other: BenchHops) {
        client.merge(other.client)
        frontend.merge(other.frontend)
        link.merge(other.link)
        backend.merge(other.backend)
    }

    mutating func record(latencyNs: Int64, _ timing: BenchTiming) {
        client.record(max(0, latencyNs - timing.frontendNs))
        frontend.record(max(0, timing.frontendNs - timing.callNs))
        link.record(max(0, timing.callNs - timing.backendNs))
        backend.record(max(0, timing.backendNs))
    }
}

/// The counts of one open-loop run. Pure: every time is passed in (ns from the start of the run), so tests
/// drive it without a clock. Only requests *scheduled* inside the measured window `[windowStartNs,
/// windowEndNs)` count; warm-up requests still teach it the SLO. Latency is response time minus scheduled
/// send time, so it includes any delay on the client (the open-loop measure). After `close()` nothing counts:
/// what was sent and not answered by then is `unanswered`.
public struct BenchStatistics: Sendable {
    public enum SLOSource: String, Sendable, Encodable { case flag, server }

    public let windowStartNs: Int64
    public let windowEndNs: Int64
    public private(set) var sloNs: Int64?
    public private(set) var sloSource: SLOSource?

    public private(set) var sent = 0
    public private(set) var notSent = 0
    public private(set) var ok = 0
    public private(set) var withinSLO = 0
    public private(set) var simulated = 0
    public private(set) var errors: [String: Int] = [:]
    /// The first message seen for each error code.
    public private(set) var errorExamples: [String: String] = [:]
    public private(set) var latency = LatencyHistogram()
    /// Of OK responses that carried `BenchTiming`.
    public private(set) var hops = BenchHops()
    public private(set) var closed = false
    /// When each measured OK response arrived (ns from the start), for the longest stretch without one
    /// (`BenchStatistics+Outage`): a failover shows there even when every request is eventually answered.
    public private(set) var okCompletionsNs: [Int64] = []

    public init(windowStartNs: Int64, windowEndNs: Int64, sloMs: Double?) {
        precondition(windowEndNs > windowStartNs, "empty measurement window")
        self.windowStartNs = windowStartNs
        self.windowEndNs = windowEndNs
        if let sloMs {
            sloNs = Int64((sloMs * 1e6).rounded())
            sloSource = .flag
        }
    }

    /// Several applications' statistics together (`nexus bench --workload`): counts, errors and histograms
    /// summed. Each request was judged against its own application's SLO, so `sloNs` is kept only where every
    /// part has the same one; `sloKnown` says whether every part knew its SLO.
    public init(merging parts: [BenchStatistics]) {
        precondition(!parts.isEmpty, "nothing to merge")
        self.init(windowStartNs: parts[0].windowStartNs, windowEndNs: parts[0].windowEndNs, sloMs: nil)
        for part in parts {
            sent += part.sent
            notSent += part.notSent
            ok += part.ok
            withinSLO += part.withinSLO
            simulated += part.simulated
            errors.merge(part.errors, uniquingKeysWith: +)
            errorExamples.merge(part.errorExamples) { first, _ in first }
            latency.merge(part.latency)
            hops.merge(part.hops)
            okCompletionsNs += part.okCompletionsNs
            closed = closed || part.closed
        }
        let slos = Set(parts.compactMap(\.sloNs))
        partsKnowTheirSLO = parts.allSatisfy(\.sloKnown)
        if partsKnowTheirSLO, slos.count == 1 { sloNs = slos.first }
        sloSource = parts.compactMap(\.sloSource).first
    }

    /// Set only by `init(merging:)`.
    private var partsKnowTheirSLO = false

    /// The SLO of every request is known: from the flag or the server, or for merged statistics, each part's.
    public var sloKnown: Bool { sloNs != nil || partsKnowTheirSLO }

    @inline(__always)
    public func isMeasured(_ scheduledNs: Int64) -> Bool { scheduledNs >= windowStartNs && scheduledNs < windowEndNs }

    /// Requests the sender sent and those it did not send because `--max-in-flight` were outstanding; the
    /// sender counts measured ones locally and adds them once.
    public mutating func addScheduled(sent: Int, notSent: Int) {
        self.sent += sent
        self.notSent += notSent
    }

    public mutating func recordOK(scheduledNs: Int64, completedNs: Int64, reply: BenchReply) {
        guard !closed else { return }
        if sloNs == nil, let sloMs = reply.sloMs, sloMs > 0, sloMs.isFinite {
            sloNs = Int64((sloMs * 1e6).rounded())
            sloSource = .server
        }
        guard isMeasured(scheduledNs) else { return }
        let latencyNs = completedNs - scheduledNs
        ok += 1
        okCompletionsNs.append(completedNs)
        latency.record(latencyNs)
        if let sloNs, latencyNs <= sloNs { withinSLO += 1 }
        if reply.simulated { simulated += 1 }
        if let timing = reply.timing { hops.record(latencyNs: latencyNs, timing) }
    }

    public mutating func recordError(scheduledNs: Int64, code: String, message: @autoclosure () -> String) {
        guard !closed, isMeasured(scheduledNs) else { return }
        errors[code, default: 0] += 1
        if errorExamples[code] == nil { errorExamples[code] = message() }
    }

    public mutating func close() { closed = true }

    public var errorCount: Int { errors.values.reduce(0, +) }
    /// Sent in the window and neither answered nor failed by `close()`.
    public var unanswered: Int { max(0, sent - ok - errorCount) }
    /// Every request the schedule asked for in the window, sent or not.
    public var scheduled: Int { sent + notSent }
    /// Of the scheduled requests, those answered OK within the SLO (0 when the SLO is unknown).
    public var withinSLOFraction: Double { scheduled == 0 ? 0 : Double(withinSLO) / Double(scheduled) }

    /// The find-max-rate criterion: at least `fraction` of the scheduled requests answered OK within the SLO
    /// (requests not sent because the client was overloaded count as misses).
    public func meets(fraction: Double) -> Bool {
        sloKnown && scheduled > 0 && Double(withinSLO) >= fraction * Double(scheduled)
    }

    public var windowSeconds: Double { Double(windowEndNs - windowStartNs) / 1e9 }

    /// Within-SLO responses per second of the window; nil without an SLO.
    public var goodputPerSecond: Double? { sloKnown ? Double(withinSLO) / windowSeconds : nil }

    /// Latency of OK responses at quantile `q`, in ms (nil when none).
    public func latencyMs(_ q: Double) -> Double? { latency.quantileNs(q).map { Double($0) / 1e6 } }
    public var maxLatencyMs: Double? { ok == 0 ? nil : Double(latency.maxNs) / 1e6 }

    public var simulatedFraction: Double? { ok == 0 ? nil : Double(simulated) / Double(ok) }
}
