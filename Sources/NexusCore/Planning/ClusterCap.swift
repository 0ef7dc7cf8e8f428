/// When a plan needs more backends than the cluster has, every session gets the same fraction of its
/// demand: the largest fraction in `0...upperBound` (to 1e-4 relative) whose plan fits. Sharing an
/// overload evenly keeps every application partly served instead of starving whichever session was
/// placed last.
func largestAdmittedPlan(maxBackends: Int, upperBound: Double = 1, plan: (_ admittedFraction: Double) -> Plan) -> Plan {
    var low = 0.0, high = upperBound
    var best = plan(0)
    while high - low > 1e-4 * upperBound {
        let middle = (low + high) / 2
        let candidate = plan(middle)
        if candidate.gpus <= maxBackends {
            low = middle
            best = candidate
        } else {
            high = middle
        }
    }
    return best
}
