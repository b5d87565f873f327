/// Why a `qemu-img` call failed, worded so that whoever reads it knows what to do next.
public enum QemuImgError: Error, Sendable, Equatable, CustomStringConvertible {
    /// There is no file at `path`.
    case imageNotFound(path: String)
    /// The arguments cannot work (for example `create` with neither a size nor a backing image).
    case invalidArgument(String)
    /// qemu-img ran and exited with a non-zero status.
    case failed(operation: String, path: String, exitCode: Int32, stderr: String)
    /// qemu-img succeeded but its `--output=json` could not be read.
    case unreadableOutput(path: String, detail: String)

    public var description: String {
        switch self {
        case .imageNotFound(let path):
            return "qemu-img: no disk image at \(path): check the path and that it is a file on this node"
        case .invalidArgument(let detail):
            return "qemu-img: \(detail)"
        case .failed(let operation, let path, let exitCode, let stderr):
            var text = "qemu-img \(operation) \(path) failed with exit code \(exitCode)"
            if !stderr.isEmpty { text += ": \(stderr)" }
            if let hint = Self.hint(stderr) { text += " (\(hint))" }
            return text
        case .unreadableOutput(let path, let detail):
            return "qemu-img info \(path) printed JSON SwiftVirt cannot read (\(detail)); is qemu-img older than 2.x?"
        }
    }

    /// What to do about the common failures qemu-img reports.
    static func hint(_ stderr: String) -> String? {
        if stderr.contains("Failed to get") && stderr.contains("lock") {
            return "a running QEMU holds this image; stop the VM that uses it, or read it with info(forceShare: true)"
        }
        if stderr.contains("Permission denied") { return "the node agent cannot read or write this file: check its owner and mode" }
        if stderr.contains("No space left on device") { return "the file system is full: free space or use a smaller size" }
        if stderr.contains("Image is not in qcow2 format") || stderr.contains("Unknown driver") {
            return "the format given does not match the file: let qemu-img probe it with info first"
        }
        return nil
    }
}
