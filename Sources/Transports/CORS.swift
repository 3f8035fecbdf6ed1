import HTTPTypes
import Hummingbird

/// CORS as Janus's HTTP transport does it: any origin (or the configured one), the methods and
/// headers the browser asks for, and preflights answered directly.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Empty allows the requesting origin, like Janus with no `allow_origin` set.
    let allowOrigin: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        var response: Response
        if request.method == .options {
            response = Response(status: .ok)
            response.headers[.accessControlAllowMethods] = "GET, POST, OPTIONS"
            response.headers[.accessControlAllowHeaders] =
                request.headers[.accessControlRequestHeaders] ?? "Content-Type"
            response.headers[.accessControlMaxAge] = "86400"
        } else {
            response = try await next(request, context)
        }
        response.headers[.accessControlAllowOrigin] = allowOrigin.isEmpty ? origin : allowOrigin
        response.headers[.vary] = "Origin"
        return response
    }
}
