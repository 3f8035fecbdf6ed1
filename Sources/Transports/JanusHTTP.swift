import HTTPTypes
import Hummingbird
import JanusAPI
import Logging
import NIOCore

/// The Janus HTTP transport: `POST <path>[/<session>[/<handle>]]`, `GET <path>/<session>` long
/// polls and `GET <path>/info`.
struct JanusHTTP {
    static let package = "janus.transport.http"

    let gateway: Gateway
    let path: String
    let maxBodySize: Int

    func register<Context: RequestContext>(on router: Router<Context>) {
        let base = RouterPath(path)
        router.post(base) { request, context in await post(request, context, session: nil, handle: nil) }
        router.post("\(path)/:session") { request, context in
            await post(request, context, session: context.parameters.get("session"), handle: nil)
        }
        router.post("\(path)/:session/:handle") { request, context in
            await post(request, context, session: context.parameters.get("session"), handle: context.parameters.get("handle"))
        }
        router.get("\(path)/info") { _, _ in Response.json(gateway.serverInfo(transaction: Self.randomTransaction())) }
        router.get("\(path)/:session") { request, context in
            await longPoll(request, session: context.parameters.get("session"))
        }
        for route in [base, "\(path)/:session", "\(path)/:session/:handle"] as [RouterPath] {
            router.on(route, method: .options) { _, _ in Response(status: .ok) }
        }
    }

    private func post<Context: RequestContext>(_ request: Request, _ context: Context, session: String?, handle: String?) async -> Response {
        guard let body = await JanusPost.read(request, maxBodySize: maxBodySize) else { return JanusPost.tooLarge(maxBodySize) }
        var origin = JanusPost.origin(transport: Self.package, session: session, handle: handle)
        origin.host = request.head.authority.map(ClientConfiguration.stripPort)
        let reply = await gateway.process(body.readableBytesView, origin: origin)
        if let after = reply.afterSending { Task { await after() } }
        return .json(reply.json)
    }

    /// The routed long poll; `LongPollHandler` parks most long polls before they get here.
    private func longPoll(_ request: Request, session sessionText: String?) async -> Response {
        guard let id = pathID(sessionText) else { return Response(status: .notFound) }
        let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { a, _ in a })
        let poll = LongPoll(sessionID: id, query: query)
        switch poll.check(with: gateway) {
        case .notFound: return Response(status: .notFound)
        case .forbidden: return Response(status: .forbidden)
        case .wait(let session):
            // As in Janus, a waiting long poll is not activity: clients send keepalives.
            let events = await session.nextEvents(max: poll.maxEvents, deadline: .now + LongPoll.timeout)
            return .json(poll.body(for: events))
        }
    }

    /// Janus answers `GET /janus/info` with a transaction id of its own.
    static func randomTransaction() -> String {
        String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! })
    }

}
