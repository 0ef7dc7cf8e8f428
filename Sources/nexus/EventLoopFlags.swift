import ArgumentParser
import NexusServer

/// `--event-loop-threads`, for every command that serves or calls over gRPC.
struct EventLoopFlags: ParsableArguments {
    @Option(name: .long, help: "Threads that carry this process's sockets and its request handling; the default is half the cores, at least 1.")
    var eventLoopThreads: Int = EventLoops.defaultThreads

    func validate() throws {
        guard (1...256).contains(eventLoopThreads) else {
            throw ValidationError("--event-loop-threads must be in 1...256, got \(eventLoopThreads)")
        }
    }

    /// Before anything opens a connection.
    func apply() { EventLoops.configure(threads: eventLoopThreads) }
}
