import JanusAPI
import Synchronization

/// Each handle's media: the feed of a publisher handle, the subscription of a subscriber handle.
final class MediaRegistry: Sendable {
    private let feeds = Mutex<[PluginHandle: PublisherFeed]>([:])
    private let subscriptions = Mutex<[PluginHandle: Subscription]>([:])

    func feed(_ handle: PluginHandle) -> PublisherFeed? { feeds.withLock { $0[handle] } }
    func subscription(_ handle: PluginHandle) -> Subscription? { subscriptions.withLock { $0[handle] } }

    /// The handle's feed, made by `make` the first time.
    func feed(_ handle: PluginHandle, orMake make: () -> PublisherFeed) -> PublisherFeed {
        feeds.withLock { feeds in
            if let existing = feeds[handle] { return existing }
            let created = make()
            feeds[handle] = created
            return created
        }
    }

    var allSubscriptions: [Subscription] { subscriptions.withLock { Array($0.values) } }

    func setSubscription(_ subscription: Subscription, for handle: PluginHandle) {
        subscriptions.withLock { $0[handle] = subscription }
    }

    /// Forgets the handle's media (detach) and hands it back to be torn down.
    func remove(_ handle: PluginHandle) -> (PublisherFeed?, Subscription?) {
        (feeds.withLock { $0.removeValue(forKey: handle) }, subscriptions.withLock { $0.removeValue(forKey: handle) })
    }
}
