import JanusAPI

/// `allowed`: turns a room's token check on or off, or adds and removes tokens.
extension VideoRoomPlugin {
    static let allowedParameters: [Parameter] = [.string("secret"), .string("action", required: true), .array("allowed")]

    enum AllowedAction: String {
        case enable, disable, add, remove
    }

    func allowed(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        _ = try request.room()
        try request.validate(Self.allowedParameters)
        let text = request.string("action") ?? ""
        guard let action = AllowedAction(rawValue: text.lowercased()) else {
            throw VideoRoomError(.invalidElement, "Unsupported action '\(text)' (allowed)")
        }
        let room = try room(for: request)
        let list = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> AllowedList in
            try checkSecret(state.options.secret, in: request, member: "secret")
            switch action {
            case .enable: state.allowed.enabled = true
            case .disable: state.allowed.enabled = false
            case .add, .remove:
                // The array is checked only now, after the secret, as Janus does.
                let tokens = try Self.tokens(request["allowed"]) ?? []
                if action == .add {
                    state.allowed.tokens.formUnion(tokens)
                } else {
                    state.allowed.tokens.subtract(tokens)
                }
            }
            return state.allowed
        }
        var reply: [String: JSON] = ["videoroom": "success", "room": JSON(room.id)]
        if action != .disable { reply["allowed"] = list.json }
        return .object(reply)
    }
}
