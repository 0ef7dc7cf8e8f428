import Dispatch
import Foundation
import NexusServer

/// Runs `body` on the process's event loops (`EventLoops`) until it ends or SIGINT/SIGTERM arrives, then
/// cancels it so servers unregister and drain.
func runUntilSignalled(_ body: @escaping @Sendable () async throws -> Void) async throws {
    let task = Task(executorPreference: EventLoops.shared) { try await body() }
    var sources: [DispatchSourceSignal] = []
    for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { task.cancel() }
        source.resume()
        sources.append(source)
    }
    defer { sources.forEach { $0.cancel() } }
    do {
        try await task.value
    } catch is CancellationError {
    }
}
