extension SquishyBinPacker {
    /// Step 5 (off in the original code): visit residual backends from the least occupied up and try to
    /// move all of a backend's sessions into the others under the merge rules of step 4. A move is kept
    /// only if it empties the backend; backends holding a session kept from the last epoch stay put.
    mutating func consolidate() {
        let order = backends.indices
            .filter { !backends[$0].saturated && !backends[$0].removed && !backends[$0].hasKeptMember }
            .sorted { (backends[$0].occupancy, $0) < (backends[$1].occupancy, $1) }
        for index in order where !backends[index].removed {
            _ = tryToEmpty(index)
        }
    }

    /// Moves every session of backend `index` elsewhere, or changes nothing.
    mutating func tryToEmpty(_ index: Int) -> Bool {
        let residuals = backends[index].members.compactMap { member -> Residual? in
            guard let (batch, duty) = residualPoint(session: member.session, ratePerSecond: member.ratePerSecond) else { return nil }
            let latency = sessions[member.session].curve.latencyMs[batch]
            return Residual(session: member.session, ratePerSecond: member.ratePerSecond, batch: batch,
                            dutyCycleMs: duty, occupancy: latency / duty)
        }
        guard residuals.count == backends[index].members.count else { return false }
        let ordered = residuals.sorted { ($0.occupancy, sessions[$1.session].id) > ($1.occupancy, sessions[$0.session].id) }
        backends[index].removed = true
        var undo: [(Int, Backend)] = []
        for residual in ordered {
            guard let target = bestFit(for: residual) else {
                for (target, original) in undo.reversed() { backends[target] = original }
                backends[index].removed = false
                return false
            }
            undo.append((target, backends[target]))
            merge(residual, into: target)
        }
        return true
    }
}
