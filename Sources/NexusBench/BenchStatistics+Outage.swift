extension BenchStatistics {
    /// The longest stretch with no OK response arriving, from the window's start to the last response: the
    /// gaps between consecutive arrivals, the first one after the start, and the end of the window if no
    /// response came after it. Nil without OK responses.
    public var longestGapWithoutOKNs: Int64? {
        guard !okCompletionsNs.isEmpty else { return nil }
        let arrivals = okCompletionsNs.sorted()
        var longest = max(0, arrivals[0] - windowStartNs)
        for index in arrivals.indices.dropFirst() {
            longest = max(longest, arrivals[index] - arrivals[index - 1])
        }
        return max(longest, windowEndNs - arrivals[arrivals.count - 1])
    }
}
