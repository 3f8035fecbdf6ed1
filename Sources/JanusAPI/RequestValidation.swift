/// Checks every request goes through before dispatch, with Janus's codes and reasons.
extension Gateway {
    /// `arrayAsEmptyObject`: Janus's WebSocket transport lets a JSON array through as a request
    /// without members (so it fails on the missing transaction), unlike its HTTP transport.
    static func decodeObject(_ body: some Collection<UInt8>, arrayAsEmptyObject: Bool = false) -> Result<[String: JSON], JanusError> {
        let value: JSON
        do {
            value = try JSON.parse(body)
        } catch {
            guard case .invalid(let reason) = error else { return .failure(JanusError(.invalidJSON)) }
            return .failure(JanusError(.invalidJSON, "JSON error: on line 1: \(reason)"))
        }
        switch value {
        case .object(let object): return .success(object)
        case .array:
            if arrayAsEmptyObject { return .success([:]) }
            return .failure(JanusError(.invalidJSONObject, "JSON error: not an object"))
        // Janus's JSON parser takes only objects and arrays at the top level.
        default: return .failure(JanusError(.invalidJSON, "JSON error: on line 1: '[' or '{' expected near '\(value)'"))
        }
    }

    /// The mandatory `transaction` and `janus` strings.
    static func envelope(of request: [String: JSON]) -> Result<(transaction: String, verb: String), JanusError> {
        guard let transaction = request["transaction"] else { return .failure(.missing("transaction")) }
        guard let transactionText = transaction.stringValue else { return .failure(.wrongType("transaction", "a string")) }
        guard let janus = request["janus"] else { return .failure(.missing("janus")) }
        guard let verb = janus.stringValue else { return .failure(.wrongType("janus", "a string")) }
        return .success((transactionText, verb.lowercased()))
    }

    /// The session and handle a request is for: from the URL for HTTP, else from the body.
    static func target(of request: [String: JSON], origin: RequestOrigin) -> Result<(session: UInt64, handle: UInt64), JanusError> {
        func id(_ key: String, fromPath: UInt64?) -> Result<UInt64, JanusError> {
            if let fromPath { return .success(fromPath) }
            guard let value = request[key], !value.isNull else { return .success(0) }
            guard let id = value.uint64Value else { return .failure(.wrongType(key, "a positive integer")) }
            return .success(id)
        }
        return id("session_id", fromPath: origin.pathSessionID).flatMap { session in
            id("handle_id", fromPath: origin.pathHandleID).map { (session, $0) }
        }
    }

    /// `trickle` carries `candidate` (an object, possibly `{"completed":true}`) or `candidates` (an array).
    static func validateTrickle(_ request: [String: JSON]) -> JanusError? {
        let single = request["candidate"], many = request["candidates"]
        if single == nil && many == nil { return .missing("candidate|candidates") }
        if single != nil && many != nil {
            return JanusError(.invalidJSON, "Can't have both candidate and candidates")
        }
        if let single {
            guard case .object = single else { return .wrongType("candidate", "an object") }
            return validateCandidate(single)
        }
        guard let list = many?.arrayValue else { return .wrongType("candidates", "an array") }
        for candidate in list {
            guard case .object = candidate else { return .wrongType("candidates", "an array of objects") }
            if let error = validateCandidate(candidate) { return error }
        }
        return nil
    }

    private static func validateCandidate(_ candidate: JSON) -> JanusError? {
        if candidate["completed"]?.boolValue == true { return nil }
        guard let text = candidate["candidate"] else { return .missing("candidate") }
        guard text.stringValue != nil else { return .wrongType("candidate", "a string") }
        if let mid = candidate["sdpMid"], !mid.isNull, mid.stringValue == nil { return .wrongType("sdpMid", "a string") }
        if let index = candidate["sdpMLineIndex"], !index.isNull, index.intValue == nil {
            return .wrongType("sdpMLineIndex", "an integer")
        }
        return nil
    }

    /// A `jsep` needs a known `type` and, unless it only toggles e2ee/simulcast, an `sdp` string.
    static func validateJSEP(_ jsep: JSON) -> JanusError? {
        guard case .object = jsep else { return JanusError(.invalidJSONObject, "Invalid jsep object") }
        guard let type = jsep["type"] else { return JanusError(.missingMandatoryElement, "JSEP error: missing mandatory element (type)") }
        guard let typeText = type.stringValue else { return JanusError(.invalidElementType, "JSEP error: invalid element type (type should be a string)") }
        guard typeText == "offer" || typeText == "answer" else {
            return JanusError(.jsepUnknownType, "JSEP error: unknown message type '\(typeText)'")
        }
        guard let sdp = jsep["sdp"] else { return JanusError(.missingMandatoryElement, "JSEP error: missing mandatory element (sdp)") }
        guard sdp.stringValue != nil else { return JanusError(.invalidElementType, "JSEP error: invalid element type (sdp should be a string)") }
        return nil
    }
}
