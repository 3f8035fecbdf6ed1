import Hummingbird

/// Serves the static site only for requests no route answered, so API requests (long polls
/// above all) never pay for a file-system lookup.
struct SiteFallback<Context: RequestContext>: RouterMiddleware {
    let site: StaticSite<Context>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return try await site.handle(request, context: context) { _, _ in throw error }
        }
    }
}
