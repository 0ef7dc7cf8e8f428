import NexusTestSupport

/// Line- and token-level mutations of a configuration file: what a hand edit gets wrong (a line lost or
/// doubled, indentation, a value replaced by an edge case, a cut file, stray characters).
enum TextMutator {
    static let edgeValues = ["-1", "0", "1e308", "-1e308", "nan", "inf", "", "x", "99999999999999999999", "0.0000001",
                             "[]", "{}", "~", "null", "'", "\"", ":", "- ", "&a", "*a", "!!str", "#", "2", "1.5"]

    static func mutate(_ text: String, using random: inout SeededGenerator) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<Int.random(in: 1...3, using: &random) where !lines.isEmpty {
            let index = Int.random(in: 0..<lines.count, using: &random)
            switch Int.random(in: 0..<8, using: &random) {
            case 0: lines.remove(at: index)
            case 1: lines.insert(lines[index], at: index)
            case 2: lines.swapAt(index, Int.random(in: 0..<lines.count, using: &random))
            case 3: lines[index] = String(repeating: " ", count: Int.random(in: 0...6, using: &random)) + lines[index].trimmingPrefixSpaces
            case 4: lines[index] = replacingToken(in: lines[index], using: &random)
            case 5: lines[index].insert(contentsOf: random.oddString(maxLength: 4),
                                        at: lines[index].index(lines[index].startIndex, offsetBy: Int.random(in: 0...lines[index].count, using: &random)))
            case 6: lines = Array(lines.prefix(index))
            default: lines[index] = lines[index].replacingAll(of: ",", with: [",,", ";", ""].randomElement(using: &random)!)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One word or number of the line (split at spaces, commas and colons) replaced by an edge value.
    static func replacingToken(in line: String, using random: inout SeededGenerator) -> String {
        let tokens = line.split(omittingEmptySubsequences: false) { " ,:".contains($0) }
        guard !tokens.isEmpty else { return line }
        let index = Int.random(in: 0..<tokens.count, using: &random)
        let replacement = edgeValues.randomElement(using: &random)!
        let range = tokens[index].startIndex..<tokens[index].endIndex
        var result = line
        result.replaceSubrange(range, with: replacement)
        return result
    }
}

extension String {
    /// Without its leading spaces.
    var trimmingPrefixSpaces: String { String(drop { $0 == " " }) }
    /// Every `target` replaced (without Foundation).
    func replacingAll(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
