import Foundation
import Logging
import NexusServer
import ServiceLifecycle

/// Runs a process's services as one `ServiceGroup`, on the process's event loops (`EventLoops`), until
/// SIGTERM or SIGINT. Then the group shuts them down gracefully one at a time, last in `services` first,
/// each finishing before the next begins; every service keeps to the process's drain deadline
/// (`--drain-timeout-s`) by itself, and the process exits 0.
func runServices(_ services: [any Service], serving: ServingFlags, logger: Logger) async throws {
    // The group's signal sources take these signals; ignored otherwise, so that no thread's default action
    // ends the process before (or while) it drains.
    for signalNumber in [SIGTERM, SIGINT] { signal(signalNumber, SIG_IGN) }
    var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) },
                                                  gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    // A backstop only: past it the group cancels what still runs.
    configuration.maximumGracefulShutdownDuration = .nanoseconds(Int64(serving.drainTimeoutS * 1e9)) + .seconds(15)
    let group = ServiceGroup(configuration: configuration)
    try await withTaskExecutorPreference(EventLoops.shared) { try await group.run() }
}
