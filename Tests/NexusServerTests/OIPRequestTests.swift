import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime
@testable import NexusServer
import XCTest

/// The frontend's checks of Open Inference Protocol requests: each malformed request is an
/// INVALID_ARGUMENT naming the field and the limit, before it costs a hop to a backend.
final class OIPRequestTests: XCTestCase {
    let root = ModelInterface(ModelSpec(
        name: "tiny", directory: "", filePath: "", input: TensorSpec(name: "input", dtype: .fp32, shape: [3, 4, 4]),
        maxBatch: 8, outputs: [TensorSpec(name: "logits", dtype: .fp32, shape: [10])]))

    func request(datatype: String = "FP32", shape: [Int64] = [1, 3, 4, 4], bytes: Int? = nil, name: String = "input") -> Inference_ModelInferRequest {
        .with {
            $0.modelName = "app"
            $0.inputs = [.with {
                $0.name = name
                $0.datatype = datatype
                $0.shape = shape
            }]
            $0.rawInputContents = [Data(count: bytes ?? 4 * 3 * 4 * 4)]
        }
    }

    func invalidArgument(_ request: Inference_ModelInferRequest, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try OIPRequest.input(of: request, root: root)
            XCTFail("accepted a malformed request", file: file, line: line)
            return ""
        } catch {
            guard case let .invalidArgument(message) = error else {
                XCTFail("expected invalid argument, got \(error)", file: file, line: line)
                return ""
            }
            return message
        }
    }

    func testAcceptsOneSampleWithOrWithoutBatchDimension() throws {
        guard case let .tensor(dtype, shape, data) = try OIPRequest.input(of: request(), root: root) else { return XCTFail("not a tensor") }
        XCTAssertEqual(dtype, .fp32)
        XCTAssertEqual(shape, [1, 3, 4, 4])
        XCTAssertEqual(data.count, 192)
        XCTAssertNoThrow(try OIPRequest.input(of: request(shape: [3, 4, 4]), root: root))
    }

    func testTypedContentsAreAccepted() throws {
        var typed = request()
        typed.rawInputContents = []
        typed.inputs[0].contents.fp32Contents = [Float](repeating: 0.5, count: 48)
        guard case let .tensor(_, _, data) = try OIPRequest.input(of: typed, root: root) else { return XCTFail("not a tensor") }
        XCTAssertEqual(data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, [Float](repeating: 0.5, count: 48))
    }

    func testMalformedRequestsNameTheFieldAndTheLimit() {
        XCTAssertTrue(invalidArgument(request(shape: [1, 3, 5, 4], bytes: 240)).contains("shape [1, 3, 5, 4]"))
        XCTAssertTrue(invalidArgument(request(datatype: "FP16", bytes: 96)).contains("datatype FP16"))
        let bytes = invalidArgument(request(bytes: 100))
        XCTAssertTrue(bytes.contains("100 bytes") && bytes.contains("needs 192"), bytes)
        let batch = invalidArgument(request(shape: [100_000, 3, 4, 4]))
        XCTAssertTrue(batch.contains("batch 100000") && batch.contains("limit of 1"), batch)
        XCTAssertTrue(invalidArgument(request(datatype: "INT64")).contains("datatype 'INT64'"))
        XCTAssertTrue(invalidArgument(request(name: "image")).contains("inputs[0].name"))
        XCTAssertTrue(invalidArgument(request(datatype: "BYTES", shape: [1])).contains("no preprocess"))
        let overflow = invalidArgument(request(shape: [1, Int64.max / 2, 4, 4]))
        XCTAssertTrue(overflow.contains("larger than any request"), overflow)
        var two = request()
        two.inputs.append(two.inputs[0])
        XCTAssertTrue(invalidArgument(two).contains("expected 1 input"))
    }

    func testJPEGBytesNeedTheirLengthPrefix() throws {
        let framed = ModelInterface(ModelSpec(
            name: "framed", directory: "", filePath: "", input: TensorSpec(name: "input", dtype: .fp32, shape: [3, 4, 4]),
            maxBatch: 8, outputs: [TensorSpec(name: "logits", dtype: .fp32, shape: [10])],
            preprocess: PreprocessSpec(height: 4, width: 4, mean: [0, 0, 0], std: [1, 1, 1])))
        var jpeg = request(datatype: "BYTES", shape: [1])
        jpeg.rawInputContents = [Data([3, 0, 0, 0, 0xFF, 0xD8, 0xFF])]
        guard case let .jpeg(data) = try OIPRequest.input(of: jpeg, root: framed) else { return XCTFail("not a JPEG") }
        XCTAssertEqual([UInt8](data), [0xFF, 0xD8, 0xFF])
        jpeg.rawInputContents = [Data([9, 0, 0, 0, 0xFF])]
        XCTAssertThrowsError(try OIPRequest.input(of: jpeg, root: framed))
    }

    var framed: ModelInterface {
        ModelInterface(ModelSpec(
            name: "framed", directory: "", filePath: "", input: TensorSpec(name: "input", dtype: .fp32, shape: [3, 4, 4]),
            maxBatch: 8, outputs: [TensorSpec(name: "logits", dtype: .fp32, shape: [10])],
            preprocess: PreprocessSpec(height: 4, width: 4, mean: [0, 0, 0], std: [1, 1, 1])))
    }

    func invalidArgument(_ request: Inference_ModelInferRequest, root: ModelInterface, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try OIPRequest.input(of: request, root: root)
            XCTFail("accepted a malformed request", file: file, line: line)
        } catch {
            if case let .invalidArgument(message) = error { return message }
            XCTFail("expected invalid argument, got \(error)", file: file, line: line)
        }
        return ""
    }

    /// The shape that trapped the frontend (an unchecked product of the BYTES shape), and the negative shape
    /// whose product is 1 and that let a JPEG through: both INVALID_ARGUMENT naming the field.
    func testBytesShapesThatOverflowOrAreNegativeAreRejected() {
        var jpeg = request(datatype: "BYTES", shape: [4_294_967_296, 4_294_967_296])
        jpeg.rawInputContents = [Data([3, 0, 0, 0, 0xFF, 0xD8, 0xFF])]
        let overflow = invalidArgument(jpeg, root: framed)
        XCTAssertTrue(overflow.contains("inputs[0] ('input').shape") && overflow.contains("exceeds"), overflow)
        jpeg.inputs[0].shape = [-1, -1]
        let negative = invalidArgument(jpeg, root: framed)
        XCTAssertTrue(negative.contains("dimension 0 is -1") && negative.contains("at least 1"), negative)
        jpeg.inputs[0].shape = [2]
        XCTAssertTrue(invalidArgument(jpeg, root: framed).contains("exactly 1 encoded image, the shape holds 2"))
        jpeg.inputs[0].shape = [Int64.max, Int64.max, 0]
        XCTAssertTrue(invalidArgument(jpeg, root: framed).contains("dimension 2 is 0"))
    }

    func testNumericShapesWithANegativeOrZeroDimensionAreRejected() {
        XCTAssertTrue(invalidArgument(request(shape: [-1, -3, 4, 4])).contains("dimension 0 is -1"))
        XCTAssertTrue(invalidArgument(request(shape: [1, 3, 0, 4], bytes: 0)).contains("dimension 2 is 0"))
        let huge = invalidArgument(request(shape: [Int64](repeating: 2, count: 100_000)))
        XCTAssertTrue(huge.contains("(100000 dimensions)") && huge.utf8.count < 400, "\(huge.prefix(400))")
    }

    func testDataSentTwiceIsRejected() {
        var twice = request()
        twice.inputs[0].contents.fp32Contents = [Float](repeating: 0.5, count: 48)
        XCTAssertTrue(invalidArgument(twice).contains("data given twice"))
    }

    /// A 16 KB name echoed in full made the error too large to deliver; errors quote at most 64 characters.
    func testClientStringsInErrorsAreCut() {
        let long = String(repeating: "n", count: 16_384)
        let name = invalidArgument(request(name: long))
        XCTAssertTrue(name.contains("(16384 bytes)") && name.utf8.count < 300, "\(name.prefix(300))")
        let datatype = invalidArgument(request(datatype: long))
        XCTAssertTrue(datatype.contains("(16384 bytes)") && datatype.utf8.count < 400, "\(datatype.prefix(400))")
    }
}
