import NexusCore

/// Reads a profile CSV file (DESIGN.md §3.1) into a `ProfileTable`.
public enum ProfileLoader {
    public static func load(path: String, column: ProfileColumn = .graphP99) throws -> ProfileTable {
        try ProfileCSV.parse(text: try TextFile.read(path, what: "profile"), source: path, column: column)
    }
}
