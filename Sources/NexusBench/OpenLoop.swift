import NexusCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import NexusServer
#endif

/// What one request came to.
public enum BenchOutcome: Sendable {
    case ok(BenchReply)
    /// `code` is the gRPC status code's name (`deadlineExceeded`, `unavailable`, ...).
    case failed(code: String, message: String)
}

/// The open-loop engine of `nexus bench`, apart from the transport: `call` makes one request and says how it
/// went (the load generator passes a unary ModelInfer; tests pass fakes).
///
/// Send times are a `PoissonSchedule`, fixed in advance by the seed; they never wait for responses. One sender
/// task sleeps until the next send time (CLOCK_MONOTONIC; at least `sleepQuantumNs`) and then starts every
/// request that is due, a burst when it woke up late or the rate is high. Each request is a child task in a discarding task group that makes
/// its call and records the outcome under a lock: the call itself (a unary gRPC call spawns tasks of its own)
/// costs two orders of magnitude more than the task, so a pool of long-lived workers would save nothing worth
/// its hand-off. At most `maxInFlight` requests are outstanding: one due when that many are out is not sent
/// and is counted, so an overloaded client shows up instead of silently delaying the schedule. After the last
/// send time the engine waits up to `drainSeconds` + the SLO for answers, then cancels the rest: unanswered.
public struct OpenLoop: Sendable {
    public var ratePerSecond: Double
    public var durationSeconds: Double
    public var warmupSeconds: Double = 1
    public var sloMs: Double?
    public var maxInFlight = 10_000
    public var seed: UInt64 = 1
    public var drainSeconds: Double = 10
    /// The id of the first request (ids stay unique over the runs of one generator).
    public var firstID: UInt64 = 0
    /// The sender sleeps at least this long. A sleep costs tens of µs of CPU (a timer and a thread wake-up), so
    /// sleeping out every 20 µs gap at 50,000 req/s took 0.8 of a core for the sender alone; with 200 µs it
    /// wakes at most 5,000 times a second and sends what is due in bursts (0.25 core at 50,000 req/s, measured
    /// with calls that answer at once). Requests then leave up to ~0.2 ms after their time: that shows as send
    /// lag, and counts in their latency. Gaps longer than this are slept exactly.
    public var sleepQuantumNs: Int64 = 200_000
    /// Which application each request goes to; statistics are kept per application and together.
    public var mix = ApplicationMix.single("")
    /// Report each application too (`BenchReport.applications`), even when there is one.
    public var perApplication = false

    public init(ratePerSecond: Double, durationSeconds: Double) {
        self.ratePerSecond = ratePerSecond
        self.durationSeconds = durationSeconds
    }

    /// State one run shares between the sender and the request tasks.
    final class RunState: Sendable {
        let startNs: Int64
        let inFlight = Atomic<Int>(0)
        /// One per application of `mix`.
        let statistics: Mutex<[BenchStatistics]>

        init(startNs: Int64, statistics: [BenchStatistics]) {
            self.startNs = startNs
            self.statistics = Mutex(statistics)
        }
    }

    /// Runs the warm-up, the measured window and the drain; returns the report and the next unused id.
    public func run(_ call: @escaping @Sendable (UInt64) async -> BenchOutcome) async -> (BenchReport, UInt64) {
        let warmupNs = Int64(warmupSeconds * 1e9)
        let endNs = warmupNs + Int64(durationSeconds * 1e9)
        let cpuBefore = processCPUSeconds()
        let mix = mix
        let state = RunState(startNs: benchNowNs(), statistics: Array(
            repeating: BenchStatistics(windowStartNs: warmupNs, windowEndNs: endNs, sloMs: sloMs), count: mix.count))
        var schedule = PoissonSchedule(ratePerSecond: ratePerSecond, seed: seed)
        var sendLag = LatencyHistogram()
        var sent = [Int](repeating: 0, count: mix.count), notSent = sent
        var id = firstID
        let maxInFlight = maxInFlight

        await withDiscardingTaskGroup { group in
            while schedule.peekNs < endNs && !Task.isCancelled {
                var now = benchNowNs() - state.startNs
                let due = schedule.peekNs
                if due > now {
                    try? await Task.sleep(nanoseconds: UInt64(max(due - now, sleepQuantumNs)))
                    continue
                }
                // Everything due by now; in slices, so a long backlog rereads the clock.
                var burst = 0
                while burst < 256, schedule.peekNs <= now, schedule.peekNs < endNs {
                    let scheduledNs = schedule.next()
                    let measured = scheduledNs >= warmupNs
                    // Every scheduled request takes an id (one not sent too), which picks its application.
                    let requestID = id
                    id &+= 1
                    let app = mix.application(for: requestID)
                    if state.inFlight.load(ordering: .relaxed) >= maxInFlight {
                        if measured { notSent[app] += 1 }
                        continue
                    }
                    state.inFlight.add(1, ordering: .relaxed)
                    burst += 1
                    group.addTask {
                        let outcome = await call(requestID)
                        let completedNs = benchNowNs() - state.startNs
                        state.statistics.withLock { all in
                            switch outcome {
                            case let .ok(reply):
                                all[app].recordOK(scheduledNs: scheduledNs, completedNs: completedNs, reply: reply)
                            case let .failed(code, message):
                                all[app].recordError(scheduledNs: scheduledNs, code: code, message: message)
                            }
                        }
                        state.inFlight.subtract(1, ordering: .relaxed)
                    }
                    if measured {
                        sent[app] += 1
                        now = benchNowNs() - state.startNs
                        sendLag.record(now - scheduledNs)
                    }
                }
                await Task.yield()
            }
            let sloNs = state.statistics.withLock { $0.compactMap(\.sloNs).max() } ?? 0
            let deadline = benchNowNs() + Int64(drainSeconds * 1e9) + sloNs
            while state.inFlight.load(ordering: .relaxed) > 0 && benchNowNs() < deadline && !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 2_000_000)
            }
            state.statistics.withLock { all in for index in all.indices { all[index].close() } }
            group.cancelAll()
        }
        let wallSeconds = Double(benchNowNs() - state.startNs) / 1e9
        let cpuCores = (processCPUSeconds() - cpuBefore) / max(wallSeconds, 1e-9)

        var parts = state.statistics.withLock { $0 }
        for app in parts.indices { parts[app].addScheduled(sent: sent[app], notSent: notSent[app]) }
        var overall = report(parts.count == 1 ? parts[0] : BenchStatistics(merging: parts), sendLag: sendLag, cpuCores: cpuCores)
        if perApplication || mix.count > 1 {
            overall.applications = parts.enumerated().map { app, statistics in
                var part = report(statistics, sendLag: nil, cpuCores: 0)
                part.application = mix.names[app]
                part.ratePerSecond = ratePerSecond * mix.share(app)
                return part
            }
        }
        return (overall, id)
    }

    func report(_ statistics: BenchStatistics, sendLag: LatencyHistogram?, cpuCores: Double) -> BenchReport {
        func latency(_ histogram: LatencyHistogram) -> BenchReport.Latency? {
            guard histogram.count > 0 else { return nil }
            func ms(_ q: Double) -> Double { Double(histogram.quantileNs(q) ?? 0) / 1e6 }
            return BenchReport.Latency(p50Ms: ms(0.5), p90Ms: ms(0.9), p99Ms: ms(0.99), maxMs: Double(histogram.maxNs) / 1e6)
        }
        func hops(_ hops: BenchHops) -> BenchReport.Hops? {
            guard let client = latency(hops.client), let frontend = latency(hops.frontend), let link = latency(hops.link),
                  let backend = latency(hops.backend) else { return nil }
            return BenchReport.Hops(client: client, frontend: frontend, link: link, backend: backend, count: Int(hops.client.count))
        }
        var report = BenchReport(
            ratePerSecond: ratePerSecond, durationSeconds: durationSeconds, warmupSeconds: warmupSeconds,
            sent: statistics.sent, notSent: statistics.notSent, completedOK: statistics.ok, withinSLO: statistics.withinSLO,
            withinSLOFraction: statistics.withinSLOFraction, sloKnown: statistics.sloKnown, unanswered: statistics.unanswered,
            errors: statistics.errors, errorExamples: statistics.errorExamples,
            sloMs: statistics.sloNs.map { Double($0) / 1e6 }, sloSource: statistics.sloSource?.rawValue,
            goodputPerSecond: statistics.goodputPerSecond,
            throughputPerSecond: Double(statistics.ok) / statistics.windowSeconds,
            latency: latency(statistics.latency), simulatedFraction: statistics.simulatedFraction,
            sendLag: sendLag.flatMap(latency), clientCPUCores: cpuCores, hops: hops(statistics.hops))
        report.longestGapWithoutOKMs = statistics.longestGapWithoutOKNs.map { Double($0) / 1e6 }
        return report
    }
}

/// User + system CPU seconds of this process.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    let who = __rusage_who_t(truncatingIfNeeded: RUSAGE_SELF.rawValue)
    #else
    let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return 0 }
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// CLOCK_MONOTONIC in ns (what NexusRuntime's MonotonicClock reads), inlined for the per-request path.
@inline(__always)
func benchNowNs() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}
