import Foundation

/// Reads a whole UTF-8 file, with errors that name the path.
enum TextFile {
    static func read(_ path: String, what: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw ConfigError.fileNotFound(path: path, what: what) }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
    }
}
