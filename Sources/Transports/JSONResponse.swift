import Foundation
import HTTPTypes
import Hummingbird
import JanusAPI

extension Response {
    /// A JSON body, as every Janus reply is sent (HTTP 200 even for Janus errors, like Janus).
    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        let body = value.serializedBytes()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Ids in URL paths (`/janus/<session>/<handle>`), as Janus's HTTP transport reads them.
func pathID(_ text: String?) -> UInt64? {
    guard let text, let id = UInt64(text), id > 0 else { return nil }
    return id
}
