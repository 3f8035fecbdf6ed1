#if canImport(FoundationEssentials)
import FoundationEssentials
import Glibc
#else
import Foundation
#endif

/// Replaces a file so that a crash or power cut leaves either the old contents or the new, never a
/// half-written file: the text goes to a temporary file in the same directory (so `rename` stays on
/// one file system), is flushed to disk, then renamed over the old one, and the directory is flushed
/// so the rename itself survives.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// `permissions` apply to the new file (the rooms file holds room secrets and pins: 0600).
    public static func write(_ text: String, to path: String, permissions: mode_t = 0o600) throws(WriteError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        func failure(_ what: String, _ file: String = path) -> WriteError {
            WriteError(path: file, message: "\(what): \(String(cString: strerror(errno)))")
        }

        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, permissions)
        guard descriptor >= 0 else { throw failure("cannot create", temporary) }
        var written = true
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { written = false; return }
                offset += count
            }
        }
        if !written {
            let error = failure("cannot write", temporary)
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard fsync(descriptor) == 0 else {
            let error = failure("cannot flush", temporary)
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename \(temporary) over it")
            unlink(temporary)
            throw error
        }
        // Best effort: some file systems refuse fsync on a directory, and the data is in place anyway.
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}

extension RoomsFile {
    /// Writes the rooms file atomically (see `AtomicFile`).
    public func write(to path: String) throws(AtomicFile.WriteError) {
        try AtomicFile.write(text, to: path)
    }
}
