/// The core and the plugins share one handle object: its identity plus the way to reach its client.
public typealias Handle = PluginHandle
