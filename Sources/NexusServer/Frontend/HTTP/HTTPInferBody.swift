import Foundation

/// The JSON header of a KServe v2 / Triton HTTP inference request, as clients send it. Only its shape is
/// checked here; what the values mean is checked once, for both protocols, by `InferenceCore`.
struct HTTPInferBody: Decodable {
    var id: String?
    var parameters: [String: JSONScalar]?
    var inputs: [Input]
    var outputs: [Output]?

    struct Input: Decodable {
        var name: String
        var shape: [Int64]
        var datatype: String
        var parameters: [String: JSONScalar]?
        var data: TensorJSONData?
    }

    struct Output: Decodable {
        var name: String
        var parameters: [String: JSONScalar]?
    }
}

/// A parameter's value: Triton's parameters are booleans, integers, numbers or strings.
enum JSONScalar: Decodable, Equatable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer()
        if let bool = try? value.decode(Bool.self) { self = .bool(bool) }
        else if let int = try? value.decode(Int64.self) { self = .int(int) }
        else if let double = try? value.decode(Double.self) { self = .double(double) }
        else { self = .string(try value.decode(String.self)) }
    }

    var bool: Bool? { if case let .bool(value) = self { value } else { nil } }
    var int: Int64? { if case let .int(value) = self { value } else { nil } }
}

/// A tensor's `data`: numbers or strings, flat or nested in row-major order (both are allowed), flattened.
enum TensorJSONData: Decodable {
    case numbers([Double])
    case strings([String])

    init(from decoder: any Decoder) throws {
        var numbers: [Double] = []
        var strings: [String] = []
        var container = try decoder.unkeyedContainer()
        try Self.flatten(&container, numbers: &numbers, strings: &strings)
        guard numbers.isEmpty || strings.isEmpty else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "numbers and strings mixed in one tensor's data")
        }
        self = strings.isEmpty ? .numbers(numbers) : .strings(strings)
    }

    private static func flatten(_ container: inout any UnkeyedDecodingContainer, numbers: inout [Double],
                                strings: inout [String]) throws {
        while !container.isAtEnd {
            if let number = try? container.decode(Double.self) {
                numbers.append(number)
            } else if let string = try? container.decode(String.self) {
                strings.append(string)
            } else {
                var nested = try container.nestedUnkeyedContainer()
                try flatten(&nested, numbers: &numbers, strings: &strings)
            }
        }
    }
}
