import NexusCore

extension BackendExecutor {
    /// Installs a new model table while requests flow (DESIGN.md §4): new models are loaded first (the
    /// device keeps running), then the table is swapped at once. A kept session keeps its queue and takes
    /// the new batch size and latencies; a removed one runs what it holds and then goes (new requests for
    /// it are refused as not found); models nobody needs any more are unloaded. A bad table or a model that
    /// fails to load throws and leaves the previous table in force.
    public func apply(_ newTable: ModelTable) throws {
        applyLock.lock()
        defer { applyLock.unlock() }
        let resolved = try resolve(newTable)

        condition.lock()
        let alreadyLoaded = Set(loaded.keys)
        condition.unlock()
        var fresh: [String: any LoadedModel] = [:]
        for (spec, inputShape) in resolved.needed where !alreadyLoaded.contains(spec.name) && fresh[spec.name] == nil {
            let startedNs = clock.nowNs()
            fresh[spec.name] = try runtime.load(spec, inputShape: inputShape)
            deviceMetrics.recordLoad(model: spec.name, durationNs: clock.nowNs() - startedNs)
        }

        condition.lock()
        defer { condition.unlock() }
        for (name, model) in fresh { loaded[name] = model }
        var newOrder: [String] = []
        // What each visit may grow to: the runtime's limit is the smallest maxBatch of the session's models.
        let limits = Dictionary(uniqueKeysWithValues: resolved.sessions.map { entry, members, prefix in
            (entry.sessionID, min(members.map(\.maxBatch).min()!, prefix?.maxBatch ?? .max))
        })
        let growCaps = newTable.growthCaps { limits[$0.sessionID] ?? $0.maxBatch }
        for (index, (entry, members, prefix)) in resolved.sessions.enumerated() {
            let growCap = options.growsIntoSlack ? max(entry.maxBatch, growCaps[index]) : entry.maxBatch
            if let session = sessions[entry.sessionID], session.entry.models == entry.models {
                session.entry = entry
                session.growCap = growCap
                session.draining = false
            } else {
                if let replaced = sessions[entry.sessionID] {
                    // Same id, other models: the old queue still runs under its old models.
                    retiredCount += 1
                    let retiredID = "\(entry.sessionID)#retired\(retiredCount)"
                    replaced.draining = true
                    sessions[retiredID] = replaced
                    order = order.map { $0 == entry.sessionID ? retiredID : $0 }
                }
                let session = ExecutorSession(entry: entry, members: members, prefix: prefix)
                session.growCap = growCap
                sessions[entry.sessionID] = session
            }
            newOrder.append(entry.sessionID)
        }
        let kept = Set(newOrder)
        for id in order where !kept.contains(id) {
            sessions[id]?.draining = true
            newOrder.append(id)
        }
        order = newOrder
        turns.sessionsChanged(count: order.count)
        table = newTable
        deviceMetrics.record(table: newTable)
        retireDrainedSessions()
        condition.signal()
    }

    struct ResolvedTable {
        var sessions: [(ModelTable.Entry, [ModelSpec], ModelSpec?)] = []
        /// Every model to load with its input shape, prefixes before their heads.
        var needed: [(ModelSpec, [Int])] = []
    }

    /// Checks every entry against the repository; errors name `sessions[i].<field>` and the limit.
    func resolve(_ table: ModelTable) throws -> ResolvedTable {
        guard table.dutyCycleMs >= 0, table.dutyCycleMs.isFinite else {
            throw RuntimeError.invalidArgument("dutyCycleMs: \(table.dutyCycleMs) must be a finite number of ms, at least 0")
        }
        var resolved = ResolvedTable()
        var seen = Set<String>()
        for (index, entry) in table.sessions.enumerated() {
            let field = "sessions[\(index)]"
            guard seen.insert(entry.sessionID).inserted, !entry.sessionID.isEmpty else {
                throw RuntimeError.invalidArgument("\(field).sessionID: '\(entry.sessionID)' is empty or listed twice")
            }
            guard !entry.models.isEmpty, Set(entry.models).count == entry.models.count else {
                throw RuntimeError.invalidArgument("\(field).models: \(entry.models) must list one or more distinct models")
            }
            let members = try entry.models.map { name -> ModelSpec in
                guard let spec = models[name] else {
                    throw RuntimeError.invalidArgument("\(field).models: '\(name)' is not in the model repository (it has: \(models.keys.sorted().joined(separator: ", ")))")
                }
                return spec
            }
            let prefixes = Set(members.map { $0.prefix ?? "" })
            guard prefixes.count == 1, members.count == 1 || members[0].prefix != nil else {
                throw RuntimeError.invalidArgument("\(field).models: \(entry.models) must be one model, or members of one prefix family (same `prefix:`)")
            }
            let limit = members.map(\.maxBatch).min()!
            guard (1...limit).contains(entry.maxBatch) else {
                throw RuntimeError.invalidArgument("\(field).maxBatch: \(entry.maxBatch) is outside 1...\(limit) (the models' maxBatch)")
            }
            if let latency = entry.latencyMs, latency.isEmpty || latency.contains(where: { !($0 >= 0) || !$0.isFinite }) {
                throw RuntimeError.invalidArgument("\(field).latencyMs: must list one or more finite latencies ≥ 0")
            }
            var prefix: ModelSpec?
            if let base = members[0].prefix {
                guard let baseSpec = models[base] else {
                    throw RuntimeError.invalidArgument("\(field).models: the prefix '\(base)' of '\(members[0].name)' is not in the model repository")
                }
                guard (1...baseSpec.maxBatch).contains(entry.maxBatch) else {
                    throw RuntimeError.invalidArgument("\(field).maxBatch: \(entry.maxBatch) is outside 1...\(baseSpec.maxBatch) (prefix '\(base)''s maxBatch)")
                }
                prefix = baseSpec
                resolved.needed.append((baseSpec, baseSpec.input.shape))
                resolved.needed += members.map { ($0, baseSpec.outputs[0].shape) }
            } else {
                resolved.needed.append((members[0], members[0].input.shape))
            }
            resolved.sessions.append((entry, members, prefix))
        }
        return resolved
    }
}
