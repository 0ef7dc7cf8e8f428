import NexusConfig
import NexusCore
import NexusRuntime
import NexusSimulator

/// A bad input file or value found while running: printed as `Error: <message>`, exit status 1.
struct InputError: Error, CustomStringConvertible {
    var description: String
}

/// Runs `body`, turning our typed errors into a one-line message instead of a trace.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as WorkloadError {
        throw InputError(description: error.description)
    } catch let error as ProfileError {
        throw InputError(description: error.description)
    } catch let error as ConfigError {
        throw InputError(description: error.description)
    } catch let error as RuntimeError {
        throw InputError(description: error.description)
    } catch let error as SimulationError {
        throw InputError(description: error.description)
    }
}
