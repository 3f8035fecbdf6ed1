import Media
import Net
import Synchronization

/// The recorders of a recording publisher, by stream position (nil: that stream is not
/// recorded). Immutable: replaced, never changed, so the media path copies one reference.
final class RecorderSet: Sendable {
    let byPosition: [StreamRecorder?]
    init(_ byPosition: [StreamRecorder?]) { self.byPosition = byPosition }
    static let none = RecorderSet([])
    var all: [StreamRecorder] { byPosition.compactMap { $0 } }
}

/// Recording a publisher's streams (control path, except `record`, which the reader threads call).
extension PublisherFeed {
    var isRecording: Bool { !recorders.current.all.isEmpty }

    /// Starts recording each published stream to `<directory>/<baseName>-<audio|video>-<mindex>.mjr`
    /// (streams whose codec janus-pp-rec cannot convert are skipped). Already recording: nothing
    /// changes. Returns the files started and the errors of those that could not be created.
    @discardableResult
    func startRecording(directory: String, baseName: String) -> (paths: [String], errors: [String]) {
        let streams = self.streams
        guard !isRecording, let last = streams.map(\.position).max() else { return ([], []) }
        var byPosition = [StreamRecorder?](repeating: nil, count: last + 1)
        var errors: [String] = []
        for stream in streams {
            guard let codec = MJRFormat.codecName(stream.codecName) else { continue }
            let type: MJRFormat.StreamType = stream.kind == .audio ? .audio : .video
            let name = "\(baseName)-\(stream.kind.rawValue)-\(stream.media.mLineIndex)"
            do {
                byPosition[stream.position] = try StreamRecorder(
                    directory: directory, name: name, type: type, codec: codec,
                    slotCount: type == .audio ? Self.audioRecordingSlots : Self.videoRecordingSlots)
            } catch {
                errors.append(error.description)
            }
        }
        let set = RecorderSet(byPosition)
        for recorder in set.all { RecordingWriter.shared.add(recorder) }
        recorders.update { $0 = set }
        return (set.all.map(\.path), errors)
    }

    /// Stops recording; the writer thread finishes the files. Returns the recorders that were open.
    @discardableResult
    func stopRecording() -> [StreamRecorder] {
        let old = recorders.update { set -> RecorderSet in
            defer { set = .none }
            return set
        }
        for recorder in old.all { recorder.close() }
        return old.all
    }

    /// Ring sizes: over a second of a stream (audio ~50 packets/s, video up to several hundred),
    /// while the writer drains every 20 ms.
    static let audioRecordingSlots = 256
    static let videoRecordingSlots = 1024

    /// The packet into the stream's recorder, if recording (simulcast: the lowest layer, as
    /// rtp_forward). `shard`: the calling reader thread's (`MediaSendContext.shardIndex`).
    func record(_ packet: UnsafeRawBufferPointer, route: InboundRoute, shard: Int?) {
        guard !route.isRTX, route.layer == 0 else { return }
        let set = recorders.read(on: shard)
        guard set.byPosition.indices.contains(route.stream), let recorder = set.byPosition[route.stream] else { return }
        recorder.record(packet, now: MonotonicClock.nanoseconds())
    }
}
