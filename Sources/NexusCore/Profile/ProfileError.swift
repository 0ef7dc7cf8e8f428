/// Why a profile could not be read or used. Every case names where the problem is (file, line, field)
/// so a user can fix the file without reading our code; the original crashed on the same inputs.
public enum ProfileError: Error, Equatable, CustomStringConvertible {
    case missingColumn(source: String, column: String, header: [String])
    case wrongFieldCount(source: String, line: Int, expected: Int, found: Int)
    case badNumber(source: String, line: Int, field: String, value: String)
    case outOfRange(source: String, line: Int, field: String, value: String, limit: String)
    case duplicateBatch(source: String, line: Int, model: String, batch: Int)
    case missingBatchOne(source: String, model: String)
    case empty(source: String)
    case unknownModel(model: String, source: String, known: [String])
    case batchBeyondProfile(model: String, batch: Int, maxBatch: Int)

    public var description: String {
        switch self {
        case let .missingColumn(source, column, header):
            return "\(source): line 1: missing column '\(column)' (header has: \(header.joined(separator: ", ")))"
        case let .wrongFieldCount(source, line, expected, found):
            return "\(source): line \(line): expected \(expected) fields as in the header, found \(found)"
        case let .badNumber(source, line, field, value):
            return "\(source): line \(line): field '\(field)': '\(value)' is not a number"
        case let .outOfRange(source, line, field, value, limit):
            return "\(source): line \(line): field '\(field)': \(value) must be \(limit)"
        case let .duplicateBatch(source, line, model, batch):
            return "\(source): line \(line): model '\(model)' has batch \(batch) twice"
        case let .missingBatchOne(source, model):
            return "\(source): model '\(model)' has no row for batch 1 (needed: every session must be able to run one request)"
        case let .empty(source):
            return "\(source): no profile rows"
        case let .unknownModel(model, source, known):
            return "model '\(model)' has no profile in \(source) (profiled: \(known.joined(separator: ", ")))"
        case let .batchBeyondProfile(model, batch, maxBatch):
            return "model '\(model)': batch \(batch) is beyond the largest profiled batch \(maxBatch) (profiles are never extrapolated)"
        }
    }
}
