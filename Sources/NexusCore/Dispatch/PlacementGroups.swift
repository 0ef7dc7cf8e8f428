/// Which sessions each GPU holds when a central dispatcher can send a session's batch to any GPU that
/// holds it. Wider groups pool the cluster (a burst of one session spreads over many GPUs); memory bounds
/// them. Indices are sessions `0..<sessionMemoryMB.count` and GPUs `0..<base.count`.
public enum PlacementGroups {
    /// Starts from `base` (a plan's placement, or nothing) and adds sessions to every GPU while its memory
    /// allows, heaviest `sessionLoad` first; the order is rotated per GPU so that, when memory binds, the
    /// lighter sessions still land somewhere. A session no GPU has room for goes to the GPU with the most
    /// memory left (it is over capacity there, as it would be anywhere; the caller may report it).
    public static func widen(base: [[Int]], sessionMemoryMB: [Double], sessionLoad: [Double],
                             gpuMemoryMB: Double) -> [[Int]] {
        precondition(sessionMemoryMB.count == sessionLoad.count, "one memory figure and one load per session")
        let sessions = sessionMemoryMB.count
        guard !base.isEmpty, sessions > 0 else { return base }
        let order = (0..<sessions).sorted { sessionLoad[$0] != sessionLoad[$1] ? sessionLoad[$0] > sessionLoad[$1] : $0 < $1 }
        var holds = base
        var usedMB = base.map { $0.reduce(0) { $0 + sessionMemoryMB[$1] } }
        var held = [Bool](repeating: false, count: sessions)
        for gpu in holds.indices { for session in holds[gpu] { held[session] = true } }
        for gpu in holds.indices {
            var present = Set(holds[gpu])
            let shift = gpu * sessions / holds.count
            for step in 0..<sessions {
                let session = order[(step + shift) % sessions]
                guard !present.contains(session), usedMB[gpu] + sessionMemoryMB[session] <= gpuMemoryMB else { continue }
                holds[gpu].append(session)
                present.insert(session)
                usedMB[gpu] += sessionMemoryMB[session]
                held[session] = true
            }
        }
        for session in order where !held[session] {
            let gpu = usedMB.indices.min { usedMB[$0] < usedMB[$1] }!
            holds[gpu].append(session)
            usedMB[gpu] += sessionMemoryMB[session]
        }
        return holds
    }
}
