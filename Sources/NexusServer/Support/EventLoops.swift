import NIOCore
import NIOPosix
import Synchronization

/// The process's NIO event loops, which carry both its sockets and its Swift tasks.
///
/// By default a gRPC handler's task runs on Swift's global pool while its connection lives on an event
/// loop, so every message crosses threads twice, and waking an idle pool thread costs ~50 µs on the 2-core
/// development VM (an event loop's eventfd wake-up: ~13 µs; a job enqueued from the loop's own thread: no
/// wake-up at all). As a `TaskExecutor` preferred by every task of the servers and the bench, this runs a
/// job on the event loop of the thread that resumes it when that is one of ours (a message read on a
/// connection resumes its handler right there), else on the next loop in turn (a reply from the device
/// thread). The work stays on few threads, which is what a 2-core box running three processes needs.
///
/// Nothing that blocks may run on these tasks: model loads run on threads of their own
/// (`BackendServer.apply`), the device on its own thread.
public final class EventLoops: TaskExecutor, @unchecked Sendable {
    public let group: MultiThreadedEventLoopGroup
    public let threads: Int
    private let loops: [any EventLoop]

    init(threads: Int) {
        precondition(threads >= 1, "event loop threads must be at least 1, got \(threads)")
        self.threads = threads
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        loops = Array(group.makeIterator())
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop().execute { job.runSynchronously(on: executor) }
    }

    /// The calling thread's loop when it is one of ours, else the next in turn.
    private func loop() -> any EventLoop {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop, loops.contains(where: { $0 === current }) {
            return current
        }
        return group.next()
    }

    // MARK: The process's instance

    /// Threads of `shared`: half the cores (three processes share a box in the common small setup), at least 1.
    public static let defaultThreads = max(1, System.coreCount / 2)
    private static let configuredThreads = Atomic<Int>(0)

    /// Sets the thread count of `shared`; call before anything uses it (the commands do, from
    /// `--event-loop-threads`). Later calls have no effect.
    public static func configure(threads: Int) {
        configuredThreads.store(threads, ordering: .relaxed)
    }

    public static let shared: EventLoops = {
        let threads = configuredThreads.load(ordering: .relaxed)
        return EventLoops(threads: threads > 0 ? threads : defaultThreads)
    }()
}
