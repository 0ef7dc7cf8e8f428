import Foundation

/// How many inputs one fuzz test draws, and from which seed. CI runs the small default in seconds;
/// `bench/fuzz.sh` sets `NEXUS_FUZZ_ITERATIONS` (and `NEXUS_FUZZ_SEED`) for the long run, so both runs are
/// the same code and a failure names the seed that reproduces it.
public struct FuzzBudget: Sendable {
    public var iterations: Int
    public var seed: UInt64

    /// `defaultIterations` per test when `NEXUS_FUZZ_ITERATIONS` is unset; `weight` scales the long run for
    /// targets much slower per input than the request checks (JPEG decoding, YAML parsing).
    public static func fromEnvironment(defaultIterations: Int, weight: Double = 1) -> FuzzBudget {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["NEXUS_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED
        guard let total = environment["NEXUS_FUZZ_ITERATIONS"].flatMap({ Int($0) }), total > 0 else {
            return FuzzBudget(iterations: defaultIterations, seed: seed)
        }
        return FuzzBudget(iterations: max(1, Int(Double(total) * weight)), seed: seed)
    }

    /// Writes `count` inputs for `target` to `$NEXUS_FUZZ_REPORT` (one line each), so the script can add
    /// up what was really run instead of what was asked for.
    public static func report(target: String, count: Int) {
        guard let path = ProcessInfo.processInfo.environment["NEXUS_FUZZ_REPORT"] else { return }
        let line = "\(target) \(count)\n"
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            handle.closeFile()
        } else {
            FileManager.default.createFile(atPath: path, contents: Data(line.utf8))
        }
    }
}

extension SeededGenerator {
    /// Random bytes, for garbage fields and mutated files.
    public mutating func bytes(count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// A short string of printable and odd characters (quotes, newlines, non-ASCII), `maxLength` at most,
    /// sometimes very long so that errors have to cut it.
    public mutating func oddString(maxLength: Int = 24) -> String {
        let alphabet = Array("abcXYZ019_-.:/'\"\\\n\t {}[],#é€🙂\u{0}")
        let length = Int.random(in: 0...50, using: &self) == 0 ? Int.random(in: 100...5_000, using: &self)
                                                                : Int.random(in: 0...maxLength, using: &self)
        return String((0..<length).map { _ in alphabet.randomElement(using: &self)! })
    }
}
