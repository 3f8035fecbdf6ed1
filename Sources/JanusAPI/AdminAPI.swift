#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Janus's Admin API: server status and tuning, sessions and handles, stored tokens.
extension Gateway {
    public func processAdmin(_ body: some Collection<UInt8>, origin: RequestOrigin) async -> JSON {
        switch Self.decodeObject(body) {
        case .success(let request): return await processAdmin(request, origin: origin)
        case .failure(let error): return fail(error, transaction: nil)
        }
    }

    public func processAdmin(_ request: [String: JSON], origin: RequestOrigin) async -> JSON {
        let transaction: String, verb: String
        switch Self.envelope(of: request) {
        case .success(let fields): (transaction, verb) = fields
        case .failure(let error): return fail(error, transaction: nil)
        }
        if origin.invalidPath { return fail(Self.unhandled(verb), transaction: transaction) }
        let ids: (session: UInt64, handle: UInt64)
        switch Self.target(of: request, origin: origin) {
        case .success(let target): ids = target
        case .failure(let error): return fail(error, transaction: transaction)
        }
        if ids.session == 0 && ids.handle == 0 {
            if verb == "info" { return serverInfo(transaction: transaction) }
            if verb == "ping" { return ["janus": "pong", "transaction": .string(transaction)] }
        }
        guard !configuration.adminSecret.isEmpty, let secret = request["admin_secret"]?.stringValue,
            constantTimeEquals(secret, configuration.adminSecret)
        else { return fail(JanusError(.unauthorized), transaction: transaction, session: ids.session) }

        if ids.session == 0 {
            return await adminRoot(verb, request, transaction: transaction)
        }
        guard let session = session(ids.session) else {
            return fail(JanusError(.sessionNotFound, "No such session \(ids.session)"), transaction: transaction, session: ids.session)
        }
        if ids.handle == 0 {
            return adminSession(verb, session: session, transaction: transaction)
        }
        guard let handle = session.handle(ids.handle) else {
            return fail(JanusError(.handleNotFound, "No such handle \(ids.handle) in session \(ids.session)"),
                        transaction: transaction, session: ids.session)
        }
        guard verb == "handle_info" else { return fail(Self.unhandled(verb), transaction: transaction, session: session.id) }
        let pluginOnly = request["plugin_only"]?.boolValue ?? false
        return [
            "janus": "success", "transaction": .string(transaction), "session_id": JSON(session.id),
            "handle_id": JSON(handle.id), "info": handleInfo(handle, in: session, pluginOnly: pluginOnly),
        ]
    }

    private func adminRoot(_ verb: String, _ request: [String: JSON], transaction: String) async -> JSON {
        func success(_ fields: [String: JSON] = [:]) -> JSON {
            .object(fields.merging(["janus": "success", "transaction": .string(transaction)]) { _, core in core })
        }
        switch verb {
        case "get_status":
            let state = runtime.withLock { $0 }
            let status: [String: JSON] = [
                "token_auth": .bool(auth.tokensEnabled),
                "api_secret": .bool(!configuration.apiSecret.isEmpty),
                "session_timeout": .int(Int64(state.sessionTimeout)),
                "reclaim_session_timeout": .int(Int64(configuration.reclaimSessionTimeout)),
                "candidates_timeout": 45,
                "log_level": .int(Int64(state.logLevel)),
                "accepting_new_sessions": .bool(state.acceptingSessions),
            ]
            // Janus's own fields win over an extra of the same name.
            return success(["status": .object(status.merging(configuration.statusExtras()) { janus, _ in janus })])
        case "list_sessions":
            return success(["sessions": .array(allSessions.map { JSON($0.id) }.sorted { ($0.intValue ?? 0) < ($1.intValue ?? 0) })])
        case "set_session_timeout":
            guard let value = request["timeout"] else { return fail(.missing("timeout"), transaction: transaction) }
            guard let timeout = value.intValue, timeout >= 0 else {
                return fail(.wrongType("timeout", "a positive integer"), transaction: transaction)
            }
            runtime.withLock { $0.sessionTimeout = Int(timeout) }
            return success(["timeout": .int(timeout)])
        case "set_log_level":
            guard let value = request["level"] else { return fail(.missing("level"), transaction: transaction) }
            guard let level = value.intValue else { return fail(.wrongType("level", "a positive integer"), transaction: transaction) }
            guard (0...7).contains(level) else {
                return fail(JanusError(.invalidElementType, "Invalid element type (level should be between 0 and 7)"), transaction: transaction)
            }
            runtime.withLock { $0.logLevel = Int(level) }
            configuration.applyLogLevel(Int(level))
            return success(["level": .int(level)])
        case "accept_new_sessions":
            guard let value = request["accept"] else { return fail(.missing("accept"), transaction: transaction) }
            guard let accept = value.boolValue else { return fail(.wrongType("accept", "a boolean"), transaction: transaction) }
            runtime.withLock { $0.acceptingSessions = accept }
            return success(["accept": .bool(accept)])
        case "add_token", "allow_token", "disallow_token", "remove_token", "list_tokens":
            return tokenRequest(verb, request, transaction: transaction, success: success)
        case "message_plugin":
            guard let name = request["plugin"] else { return fail(.missing("plugin"), transaction: transaction) }
            guard let package = name.stringValue else { return fail(.wrongType("plugin", "a string"), transaction: transaction) }
            guard let body = request["request"] else { return fail(.missing("request"), transaction: transaction) }
            guard case .object = body else { return fail(.wrongType("request", "an object"), transaction: transaction) }
            guard let plugin = plugins[package] else {
                return fail(JanusError(.pluginNotFound, "No such plugin '\(package)'"), transaction: transaction)
            }
            guard let response = await plugin.handleAdminMessage(body) else {
                return fail(JanusError(.pluginMessage, "Plugin doesn't support Admin API messages"), transaction: transaction)
            }
            return success(["response": response])
        default:
            return fail(Self.unhandled(verb), transaction: transaction)
        }
    }

    /// Stored-token management, with Janus 1.1.2's replies and error strings.
    private func tokenRequest(_ verb: String, _ request: [String: JSON], transaction: String,
                              success: ([String: JSON]) -> JSON) -> JSON {
        guard auth.tokenMode == .stored else {
            return fail(JanusError(.unknown, "Stored-Token based authentication disabled"), transaction: transaction)
        }
        func pluginList(_ plugins: Set<String>) -> JSON { .array(plugins.sorted().map { .string($0) }) }
        if verb == "list_tokens" {
            // Janus lists only tokens that may use at least one plugin.
            let tokens = auth.tokens.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { token, plugins -> JSON in
                ["token": .string(token), "allowed_plugins": pluginList(plugins)]
            }
            return success(["data": ["tokens": .array(tokens)]])
        }
        guard let tokenField = request["token"] else { return fail(.missing("token"), transaction: transaction) }
        guard let token = tokenField.stringValue else { return fail(.wrongType("token", "a string"), transaction: transaction) }
        switch verb {
        case "remove_token":
            guard auth.removeToken(token) else { return fail(JanusError(.unknown, "Error removing token"), transaction: transaction) }
            return success([:])
        case "add_token":
            var wanted = Set(plugins.keys)
            if let list = request["plugins"] {
                guard let names = list.arrayValue else { return fail(.wrongType("plugins", "an array"), transaction: transaction) }
                // Unknown plugin names are dropped, as Janus does.
                wanted = Set(names.compactMap(\.stringValue).filter { plugins[$0] != nil })
            }
            return success(["data": ["plugins": pluginList(auth.addToken(token, plugins: wanted))]])
        default:
            guard let names = request["plugins"]?.arrayValue, !names.isEmpty else {
                return fail(.wrongType("plugins", "a non-empty array"), transaction: transaction)
            }
            let wanted = Set(names.compactMap(\.stringValue))
            guard wanted.count == names.count, wanted.allSatisfy({ plugins[$0] != nil }) else {
                return fail(JanusError(.invalidElementType, "Invalid element type (some of the provided plugins are invalid)"),
                            transaction: transaction)
            }
            let result = verb == "allow_token" ? auth.allowPlugins(wanted, for: token) : auth.disallowPlugins(wanted, for: token)
            guard let result else { return fail(JanusError(.tokenNotFound, "Token \(token) not found"), transaction: transaction) }
            return success(["data": ["plugins": pluginList(result)]])
        }
    }

    private func adminSession(_ verb: String, session: Session, transaction: String) -> JSON {
        switch verb {
        case "list_handles":
            let ids = session.handles.map(\.id).sorted().map { JSON($0) }
            return ["janus": "success", "transaction": .string(transaction), "session_id": JSON(session.id), "handles": .array(ids)]
        case "destroy_session":
            destroySession(session, reason: "admin request")
            return ["janus": "success", "transaction": .string(transaction), "session_id": JSON(session.id)]
        default:
            return fail(Self.unhandled(verb), transaction: transaction, session: session.id)
        }
    }

    private func handleInfo(_ handle: Handle, in session: Session, pluginOnly: Bool) -> JSON {
        let pluginSpecific = handle.plugin.query(handle)
        if pluginOnly { return ["plugin_specific": pluginSpecific] }
        let now = ContinuousClock.now
        let wallClock = Int64(Date().timeIntervalSince1970 * 1_000_000)
        func micros(_ duration: Duration) -> JSON {
            .int(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        }
        var info: [String: JSON] = [
            "session_id": JSON(session.id),
            "session_last_activity": micros(now - session.lastActivity),
            "session_timeout": .int(Int64(runtime.withLock { $0.sessionTimeout })),
            "session_transport": .string(session.transport),
            "handle_id": JSON(handle.id),
            "created": .int(wallClock - (micros(now - handle.createdAt).intValue ?? 0)),
            "current_time": .int(wallClock),
            "plugin": .string(handle.plugin.package),
            "plugin_specific": pluginSpecific,
            "flags": [:],
            "sdps": [:],
            "streams": [],
        ]
        if let opaque = handle.opaqueID { info["opaque_id"] = .string(opaque) }
        if case .object(let webrtc)? = handle.plugin.webrtcInfo(handle) { info.merge(webrtc) { $1 } }
        return .object(info)
    }
}
