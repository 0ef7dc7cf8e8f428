import NexusCore
import Foundation
import GRPCCore
import NexusProtocol
import NexusServer

/// What `nexus bench` sends as the one input tensor of every request.
public enum BenchInputChoice: Sendable, Equatable {
    /// Random values of the input's datatype (seeded).
    case random
    case zeros
    /// A JPEG file as a BYTES tensor of shape [1].
    case image(path: String)
}

/// The input tensor of the benchmark's requests, built once from the app's ModelMetadata.
public struct BenchInput: Sendable {
    public var name: String
    public var datatype: String
    public var shape: [Int64]
    /// Triton's raw_input_contents for it.
    public var raw: Data
    /// e.g. "INPUT0 FP32 [1, 3, 224, 224] random, 602112 bytes".
    public var description: String
    /// Something the user should know (an image sent to an input that is not BYTES).
    public var warning: String?

    /// Bytes per element of the OIP datatypes with a fixed size (BYTES has none).
    public static let elementBytes: [String: Int] = [
        "BOOL": 1, "UINT8": 1, "INT8": 1, "UINT16": 2, "INT16": 2, "FP16": 2, "BF16": 2,
        "UINT32": 4, "INT32": 4, "FP32": 4, "UINT64": 8, "INT64": 8, "FP64": 8,
    ]

    /// `metadata` is ModelMetadata's first input; dimensions of -1 (any size, e.g. the batch) become 1.
    /// `imageBytes` is the content of `.image`'s file. Throws a message for the user.
    public init(app: String, name: String, datatype: String, shape metadataShape: [Int64], choice: BenchInputChoice,
                imageBytes: Data? = nil, seed: UInt64, maxBytes: Int = Transport.maxMessageBytes) throws {
        self.name = name
        if case let .image(path) = choice {
            guard let imageBytes else { throw ServerError.configuration("--image: no content for \(path)") }
            if datatype != "BYTES" {
                warning = "app \(app)'s input \(name) is \(datatype), not BYTES; sending --image as BYTES anyway"
            }
            // Triton's BYTES serialization: each element is a 4-byte little-endian length, then its bytes.
            var raw = Data(capacity: 4 + imageBytes.count)
            withUnsafeBytes(of: UInt32(imageBytes.count).littleEndian) { raw.append(contentsOf: $0) }
            raw.append(imageBytes)
            guard raw.count <= maxBytes else {
                throw ServerError.configuration("--image: \(imageBytes.count) bytes exceeds the \(maxBytes)-byte message limit")
            }
            self.datatype = "BYTES"
            self.shape = [1]
            self.raw = raw
            description = "\(name) BYTES [1] image \((path as NSString).lastPathComponent), \(raw.count) bytes"
            return
        }
        guard let size = Self.elementBytes[datatype] else {
            if datatype == "BYTES" {
                throw ServerError.configuration("app \(app)'s input \(name) is BYTES (an encoded image): pass --image PATH.jpg")
            }
            throw ServerError.configuration("app \(app)'s input \(name) has datatype \(datatype), which bench cannot generate")
        }
        let shape = metadataShape.map { $0 < 0 ? 1 : $0 }
        guard !shape.contains(where: { $0 == 0 }) || shape.isEmpty else {
            throw ServerError.configuration("app \(app)'s input \(name) has an empty shape \(metadataShape)")
        }
        let elements = shape.reduce(1 as Int64) { $0.multipliedReportingOverflow(by: $1).overflow ? .max : $0 * $1 }
        guard elements <= Int64(maxBytes / size) else {
            throw ServerError.configuration("app \(app)'s input \(name) \(shape) is over the \(maxBytes)-byte message limit")
        }
        let count = Int(elements) * size
        var raw = Data(count: count)
        let kind: String
        switch choice {
        case .zeros, .image:
            kind = "zeros"
        case .random:
            kind = "random"
            var random = RandomSource(seed: seed ^ 0x5EED_1A7A)
            raw.withUnsafeMutableBytes { buffer in Self.fillRandom(buffer, datatype: datatype, random: &random) }
        }
        self.datatype = datatype
        self.shape = shape
        self.raw = raw
        description = "\(name) \(datatype) \(shape) \(kind), \(count) bytes"
    }

    /// Values that are valid for the type: floats uniform in [0, 1) (like a normalised image), booleans 0/1,
    /// integers any bit pattern.
    static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer, datatype: String, random: inout RandomSource) {
        switch datatype {
        case "FP32":
            for i in 0..<buffer.count / 4 { buffer.storeBytes(of: Float(random.unit()).bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        case "FP64":
            for i in 0..<buffer.count / 8 { buffer.storeBytes(of: random.unit().bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
        case "FP16":
            // Half of u in [0, 1): exponent and 10 mantissa bits, built by hand (Float16 is not on every platform).
            for i in 0..<buffer.count / 2 {
                buffer.storeBytes(of: halfBits(Float(random.unit())).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        case "BF16":
            for i in 0..<buffer.count / 2 {
                buffer.storeBytes(of: UInt16(Float(random.unit()).bitPattern >> 16).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        case "BOOL":
            for i in 0..<buffer.count { buffer[i] = UInt8(random.next() & 1) }
        default:
            var i = 0
            while i < buffer.count {
                var word = random.next()
                for _ in 0..<8 where i < buffer.count {
                    buffer[i] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    i += 1
                }
            }
        }
    }

    /// IEEE half bits of a value in [0, 1) (truncated; subnormals flush to 0).
    static func halfBits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        guard exponent > 0 else { return 0 }
        return UInt16(exponent << 10) | UInt16((bits >> 13) & 0x3FF)
    }

    /// The ModelInferRequest every request shares, serialized without its `id`; `timing` asks a Nexus
    /// frontend for `nexus_timing` in every response.
    public func requestTemplate(app: String, timing: Bool = false) throws -> [UInt8] {
        var request = Inference_ModelInferRequest()
        request.modelName = app
        if timing { request.parameters[NexusParameters.timing] = .with { $0.boolParam = true } }
        request.inputs = [.with {
            $0.name = name
            $0.datatype = datatype
            $0.shape = shape
        }]
        request.rawInputContents = [raw]
        return try request.serializedBytes()
    }
}

/// Serializes request number `n` as the prebuilt template of its application (`mix`) followed by field 3 (`id`)
/// = decimal n. Protobuf reads fields in any order, so this is the template message with its id set, without
/// re-encoding the tensor.
struct BenchRequestSerializer: MessageSerializer {
    typealias Message = UInt64
    let templates: [[UInt8]]
    let mix: ApplicationMix

    init(templates: [[UInt8]], mix: ApplicationMix) {
        precondition(templates.count == mix.count, "one template per application")
        self.templates = templates
        self.mix = mix
    }

    init(template: [UInt8]) { self.init(templates: [template], mix: .single("")) }

    func serialize<Bytes: GRPCContiguousBytes>(_ id: UInt64) throws -> Bytes {
        let template = templates[mix.application(for: id)]
        var digits = 1
        var rest = id / 10
        while rest > 0 { digits += 1; rest /= 10 }
        let templateCount = template.count
        var bytes = Bytes(repeating: 0, count: templateCount + 2 + digits)
        bytes.withUnsafeMutableBytes { buffer in
            template.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: templateCount) }
            buffer[templateCount] = 0x1A  // field 3, length-delimited
            buffer[templateCount + 1] = UInt8(digits)
            var value = id
            for i in stride(from: templateCount + 1 + digits, to: templateCount + 1, by: -1) {
                buffer[i] = UInt8(truncatingIfNeeded: value % 10) + 0x30
                value /= 10
            }
        }
        return bytes
    }
}

/// Reads only `parameters` (field 4) of a ModelInferResponse and skips the rest, outputs included.
struct BenchReplyDeserializer: MessageDeserializer {
    typealias Message = BenchReply

    func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> BenchReply {
        guard let reply = bytes.withUnsafeBytes({ BenchReplyParser.parse($0) }) else {
            throw RPCError(code: .internalError, message: "bench: malformed ModelInferResponse")
        }
        return reply
    }
}

/// A minimal protobuf walk over ModelInferResponse: parameters is `map<string, InferParameter>` (entries with
/// key = 1, value = 2); InferParameter is a oneof bool = 1, int64 = 2, string = 3, double = 4, uint64 = 5.
enum BenchReplyParser {
    static let sloKey = Array(NexusParameters.latencySLOMs.utf8)
    static let runtimeKey = Array(NexusParameters.runtime.utf8)
    static let simulatedValue = Array("simulated".utf8)
    static let timingKeys: [(key: [UInt8], field: WritableKeyPath<TimingFields, Int64?> & Sendable)] = [
        (Array(NexusParameters.frontendNs.utf8), \.frontendNs),
        (Array(NexusParameters.callNs.utf8), \.callNs),
        (Array(NexusParameters.backendNs.utf8), \.backendNs),
    ]

    /// nil when the bytes are not a well-formed message.
    static func parse(_ buffer: UnsafeRawBufferPointer) -> BenchReply? {
        var reader = Reader(buffer: buffer, position: 0, end: buffer.count)
        var reply = BenchReply()
        var timing = TimingFields()
        while !reader.atEnd {
            guard let (field, wire) = reader.key() else { return nil }
            if field == 4 && wire == 2 {
                guard let entry = reader.lengthDelimited(), parseEntry(buffer, entry, into: &reply, timing: &timing) else { return nil }
            } else if !reader.skip(wire) {
                return nil
            }
        }
        if let frontend = timing.frontendNs, let call = timing.callNs, let backend = timing.backendNs {
            reply.timing = BenchTiming(frontendNs: frontend, callNs: call, backendNs: backend)
        }
        return reply
    }

    struct TimingFields {
        var frontendNs: Int64?
        var callNs: Int64?
        var backendNs: Int64?
    }

    /// An InferParameter's int64_param (field 2); nil when it holds anything else or is malformed.
    private static func int64Parameter(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int64?? {
        var reader = Reader(buffer: buffer, position: range.lowerBound, end: range.upperBound)
        var value: Int64?
        while !reader.atEnd {
            guard let (field, wire) = reader.key() else { return .none }
            if field == 2 && wire == 0 {
                guard let v = reader.varint() else { return .none }
                value = Int64(bitPattern: v)
            } else if !reader.skip(wire) {
                return .none
            }
        }
        return .some(value)
    }

    private static func parseEntry(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, into reply: inout BenchReply,
                                   timing: inout TimingFields) -> Bool {
        var reader = Reader(buffer: buffer, position: range.lowerBound, end: range.upperBound)
        var key: Range<Int>?
        var value: Range<Int>?
        while !reader.atEnd {
            guard let (field, wire) = reader.key() else { return false }
            if field == 1 && wire == 2 { guard let range = reader.lengthDelimited() else { return false }; key = range }
            else if field == 2 && wire == 2 { guard let range = reader.lengthDelimited() else { return false }; value = range }
            else if !reader.skip(wire) { return false }
        }
        guard let key, let value else { return true }
        if let field = timingKeys.first(where: { equal(buffer, key, $0.key) })?.field {
            guard let parsed = int64Parameter(buffer, value) else { return false }
            timing[keyPath: field] = parsed
        } else if equal(buffer, key, sloKey) {
            var reader = Reader(buffer: buffer, position: value.lowerBound, end: value.upperBound)
            while !reader.atEnd {
                guard let (field, wire) = reader.key() else { return false }
                switch (field, wire) {
                case (2, 0): guard let v = reader.varint() else { return false }; reply.sloMs = Double(Int64(bitPattern: v))
                case (5, 0): guard let v = reader.varint() else { return false }; reply.sloMs = Double(v)
                case (4, 1): guard let v = reader.fixed64() else { return false }; reply.sloMs = Double(bitPattern: v)
                default: if !reader.skip(wire) { return false }
                }
            }
        } else if equal(buffer, key, runtimeKey) {
            var reader = Reader(buffer: buffer, position: value.lowerBound, end: value.upperBound)
            while !reader.atEnd {
                guard let (field, wire) = reader.key() else { return false }
                if field == 3 && wire == 2 {
                    guard let string = reader.lengthDelimited() else { return false }
                    reply.simulated = equal(buffer, string, simulatedValue)
                } else if !reader.skip(wire) {
                    return false
                }
            }
        }
        return true
    }

    private static func equal(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, _ expected: [UInt8]) -> Bool {
        guard range.count == expected.count else { return false }
        for (offset, byte) in expected.enumerated() where buffer[range.lowerBound + offset] != byte { return false }
        return true
    }

    struct Reader {
        let buffer: UnsafeRawBufferPointer
        var position: Int
        let end: Int

        var atEnd: Bool { position >= end }

        mutating func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while position < end && shift < 64 {
                let byte = buffer[position]
                position += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return result }
                shift += 7
            }
            return nil
        }

        mutating func key() -> (UInt64, UInt64)? {
            guard let key = varint() else { return nil }
            return (key >> 3, key & 7)
        }

        mutating func fixed64() -> UInt64? {
            guard end - position >= 8 else { return nil }
            var value: UInt64 = 0
            for i in 0..<8 { value |= UInt64(buffer[position + i]) << (8 * UInt64(i)) }
            position += 8
            return value
        }

        mutating func lengthDelimited() -> Range<Int>? {
            guard let length = varint(), length <= UInt64(end - position) else { return nil }
            let range = position..<(position + Int(length))
            position = range.upperBound
            return range
        }

        mutating func skip(_ wire: UInt64) -> Bool {
            switch wire {
            case 0: return varint() != nil
            case 1: guard end - position >= 8 else { return false }; position += 8; return true
            case 2: return lengthDelimited() != nil
            case 5: guard end - position >= 4 else { return false }; position += 4; return true
            default: return false
            }
        }
    }
}
