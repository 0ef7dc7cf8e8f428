import Glibc
import NexusCore

/// The real clock: CLOCK_MONOTONIC, immune to wall-clock steps.
public struct MonotonicClock: NanosecondClock {
    public init() {}

    public func nowNs() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
