extension Workload {
    /// Checks every limit and cross-reference; `source` names the file in the error.
    public func validate(source: String) throws {
        func fail(_ path: String, _ message: String) -> WorkloadError {
            WorkloadError(source: source, path: path, message: message)
        }
        func requireFinite(_ value: Double, _ path: String, atLeast minimum: Double, strictly: Bool = false) throws {
            guard value.isFinite, strictly ? value > minimum : value >= minimum else {
                throw fail(path, "must be \(strictly ? ">" : ">=") \(format(minimum)), got \(value)")
            }
        }
        guard !name.isEmpty else { throw fail("name", "must not be empty") }
        guard !profiles.isEmpty else { throw fail("profiles", "must name a profile file") }
        try requireFinite(totalRatePerSecond, "totalRatePerSecond", atLeast: 0)
        for (key, value) in [("networkMs", networkMs), ("preprocessMs", preprocessMs), ("postprocessMs", postprocessMs)] {
            if let value { try requireFinite(value, key, atLeast: 0) }
        }
        if let gpus, gpus < 1 { throw fail("gpus", "must be >= 1, got \(gpus)") }
        if let gpuMemoryMB { try requireFinite(gpuMemoryMB, "gpuMemoryMB", atLeast: 0, strictly: true) }
        if let durationSeconds { try requireFinite(durationSeconds, "durationSeconds", atLeast: 0, strictly: true) }
        guard !applications.isEmpty else { throw fail("applications", "must list at least one application") }

        var appNames = Set<String>()
        var groups = Set<String>()
        var stageNames = Set<String>()
        var prefixModels: [String: String] = [:]
        for (a, app) in applications.enumerated() {
            let path = "applications[\(a)]"
            guard !app.name.isEmpty else { throw fail("\(path).name", "must not be empty") }
            guard !app.name.contains("/") else { throw fail("\(path).name", "'\(app.name)' must not contain '/'") }
            guard appNames.insert(app.name).inserted else { throw fail("\(path).name", "'\(app.name)' is used by an earlier application") }
            if let group = app.group { groups.insert(group) }
            try requireFinite(app.latencySLOMs, "\(path).latencySLOMs", atLeast: 0, strictly: true)
            try requireFinite(app.rateShare, "\(path).rateShare", atLeast: 0)
            guard !app.stages.isEmpty else { throw fail("\(path).stages", "must list at least one stage") }
            var names = Set<String>()
            for (s, stage) in app.stages.enumerated() {
                let stagePath = "\(path).stages[\(s)]"
                guard !stage.name.isEmpty, !stage.name.contains("/") else {
                    throw fail("\(stagePath).name", "'\(stage.name)' must be non-empty and without '/'")
                }
                guard names.insert(stage.name).inserted else {
                    throw fail("\(stagePath).name", "'\(stage.name)' is used by an earlier stage of '\(app.name)'")
                }
                stageNames.insert(stage.name)
                guard !stage.model.isEmpty else { throw fail("\(stagePath).model", "must name a model") }
                if let gamma = stage.gamma { try requireFinite(gamma, "\(stagePath).gamma", atLeast: 0) }
                if let parent = stage.parent, !app.stages.contains(where: { $0.name == parent }) {
                    throw fail("\(stagePath).parent", "'\(parent)' is not a stage of '\(app.name)' (stages: \(app.stages.map(\.name).joined(separator: ", ")))")
                }
                if stage.parent == stage.name { throw fail("\(stagePath).parent", "a stage cannot be its own parent") }
                if let group = stage.prefixGroup {
                    if let model = prefixModels[group], model != stage.model {
                        throw fail("\(stagePath).model", "prefix group '\(group)' shares the layers of '\(model)', not '\(stage.model)'")
                    }
                    prefixModels[group] = stage.model
                }
            }
            // Every parent chain must end at a root.
            let parents = app.parentIndices
            for start in parents.indices {
                var seen = Set<Int>()
                var current: Int? = start
                while let stage = current {
                    guard seen.insert(stage).inserted else {
                        throw fail("\(path).stages", "parents form a cycle through '\(app.stages[stage].name)'")
                    }
                    current = parents[stage]
                }
            }
        }
        for (p, phase) in (phases ?? []).enumerated() {
            let path = "phases[\(p)]"
            try requireFinite(phase.atSeconds, "\(path).atSeconds", atLeast: 0)
            if p > 0, phase.atSeconds <= phases![p - 1].atSeconds {
                throw fail("\(path).atSeconds", "\(format(phase.atSeconds)) must be after the previous phase's \(format(phases![p - 1].atSeconds))")
            }
            for key in (phase.scale ?? [:]).keys.sorted() {
                guard appNames.contains(key) || groups.contains(key) else {
                    throw fail("\(path).scale.\(key)", "is neither an application nor a group (applications: \(applications.map(\.name).joined(separator: ", ")); groups: \(groups.sorted().joined(separator: ", ")))")
                }
                try requireFinite(phase.scale![key]!, "\(path).scale.\(key)", atLeast: 0)
            }
            for key in (phase.gamma ?? [:]).keys.sorted() {
                let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                let known = parts.count == 1 ? stageNames.contains(key)
                    : parts.count == 2 && applications.contains { $0.name == parts[0] && $0.stages.contains { $0.name == parts[1] } }
                guard known else { throw fail("\(path).gamma.\(key)", "names no stage (use a stage name or app/stage)") }
                try requireFinite(phase.gamma![key]!, "\(path).gamma.\(key)", atLeast: 0)
            }
        }
    }
}
