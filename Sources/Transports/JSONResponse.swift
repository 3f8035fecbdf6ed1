#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

/// What the HTTP transports share for `POST <path>[/<session>[/<handle>]]`: the body, capped,
/// and the request's origin with the ids from the URL (a non-numeric id makes Janus answer 457).
enum JanusPost {
    /// The body, or nil when it is larger than `maxBodySize` (answer with `tooLarge`).
    static func read(_ request: Request, maxBodySize: Int) async -> ByteBuffer? {
        try? await request.body.collect(upTo: maxBodySize)
    }

    static func tooLarge(_ maxBodySize: Int) -> Response {
        let error = JanusError(.invalidJSON, "Request body too large (limit \(maxBodySize) bytes)")
        return .json(error.reply(transaction: nil), status: .contentTooLarge)
    }

    static func origin(transport: String, session: String?, handle: String?) -> RequestOrigin {
        var origin = RequestOrigin(transport: transport)
        origin.pathSessionID = session.flatMap(pathID)
        origin.pathHandleID = handle.flatMap(pathID)
        origin.invalidPath = (session != nil && origin.pathSessionID == nil) || (handle != nil && origin.pathHandleID == nil)
        return origin
    }
}
