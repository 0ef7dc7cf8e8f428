import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime
@testable import NexusServer
import XCTest

/// Triton's HTTP inference requests become the same protocol message gRPC carries (so `InferenceCore`
/// checks both alike); every size the client gives is checked against the body it sent.
final class HTTPInferRequestTests: XCTestCase {
    func decode(_ json: String, binary: Data = Data(), headerLength: Bool = false) throws(InferenceError) -> HTTPInferRequest.Decoded {
        let body = Data(json.utf8) + binary
        return try HTTPInferRequest.decode(body: body, headerLength: headerLength ? String(json.utf8.count) : nil,
                                           model: "app", version: "")
    }

    func invalidArgument(_ json: String, binary: Data = Data(), headerLength: Bool = false,
                         file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try decode(json, binary: binary, headerLength: headerLength)
            XCTFail("accepted a malformed request", file: file, line: line)
        } catch {
            guard case let .invalidArgument(message) = error else {
                XCTFail("expected invalid argument, got \(error)", file: file, line: line)
                return ""
            }
            return message
        }
        return ""
    }

    func testJSONDataBecomesTypedContentsFlattened() throws {
        let decoded = try decode("""
            {"id": "7", "inputs": [{"name": "input", "shape": [1, 2, 2], "datatype": "FP32", "data": [[1, 2], [3.5, 4]]}],
             "outputs": [{"name": "a/logits"}], "parameters": {"timeout": 100}}
            """)
        XCTAssertEqual(decoded.request.id, "7")
        XCTAssertEqual(decoded.request.inputs[0].shape, [1, 2, 2])
        XCTAssertEqual(decoded.request.inputs[0].contents.fp32Contents, [1, 2, 3.5, 4])
        XCTAssertEqual(decoded.request.parameters["timeout"]?.int64Param, 100)
        XCTAssertEqual(decoded.request.outputs.map(\.name), ["a/logits"])
        XCTAssertEqual(decoded.binaryOutputs, [])
    }

    func testBinaryInputFollowsTheJSONHeader() throws {
        let json = #"{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}], "outputs": [{"name": "o", "parameters": {"binary_data": true}}]}"#
        let binary = Data([1, 2, 3, 4, 5, 6, 7, 8])
        let decoded = try decode(json, binary: binary, headerLength: true)
        XCTAssertEqual(decoded.request.rawInputContents, [binary])
        XCTAssertEqual(decoded.binaryOutputs, ["o"])
    }

    func testBinarySizesAreCheckedAgainstTheBody() {
        let json = #"{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32", "parameters": {"binary_data_size": 9223372036854775807}}]}"#
        XCTAssertTrue(invalidArgument(json, binary: Data(count: 8), headerLength: true)
            .hasPrefix("inputs[0].parameters.binary_data_size 9223372036854775807: only 8 bytes"))
        let negative = #"{"inputs": [{"name": "input", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": -1}}]}"#
        XCTAssertEqual(invalidArgument(negative, headerLength: true), "inputs[0].parameters.binary_data_size: expected an integer at least 0")
        let short = #"{"inputs": [{"name": "input", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}}]}"#
        XCTAssertEqual(invalidArgument(short, binary: Data(count: 6), headerLength: true),
                       "request body: 2 bytes after the JSON and the binary inputs that no input's binary_data_size claims")
    }

    func testHeaderLengthMustLieWithinTheBody() {
        XCTAssertEqual(
            (try? HTTPInferRequest.jsonLength("12", bodyBytes: 12)), 12)
        do {
            _ = try HTTPInferRequest.jsonLength("13", bodyBytes: 12)
            XCTFail("accepted a header length past the body")
        } catch {
            XCTAssertEqual(error, .invalidArgument("Inference-Header-Content-Length '13': expected an integer in 0...12 (the body's length)"))
        }
    }

    func testMalformedJSONNamesTheFieldAndCutsClientText() {
        XCTAssertEqual(invalidArgument(#"{"inputs": [{"name": "input", "datatype": "FP32"}]}"#), "request JSON: inputs[0].shape: missing")
        let long = String(repeating: "x", count: 500)
        let message = invalidArgument(#"{"inputs": [{"name": "input", "shape": [1], "datatype": "UINT8", "data": ["\#(long)"]}]}"#)
        XCTAssertEqual(message, "inputs[0] ('input').data: UINT8 data must be numbers")
        XCTAssertLessThan(invalidArgument("{" + long).utf8.count, 300)
        XCTAssertEqual(invalidArgument(#"{"inputs": [{"name": "input", "shape": [1], "datatype": "UINT8", "data": [256]}]}"#),
                       "inputs[0] ('input').data: UINT8 values must be integers in 0...255")
    }
}
