import ArgumentParser
import VirtClient
import VirtError

/// Renders errors the way kubectl does.
public enum ErrorReport {
    /// The line(s) to print on standard error for `error`.
    ///
    /// - Server refusals: `Error from server (NotFound): virtualmachines.kubevirt.io "x" not found`.
    /// - Failures to reach the server: the client's own message (`The connection to the server … was refused …`).
    /// - Everything else: `error: …`.
    public static func message(for error: any Error) -> String {
        if let virt = error as? VirtError {
            if let status = virt.cause as? ServerStatus {
                if status.reason == "Unauthorized" {
                    let detail = virt.message == "Unauthorized" ? "" : ": \(virt.message)"
                    return "error: You must be logged in to the server (Unauthorized)\(detail)"
                }
                return "Error from server (\(status.reason)): \(virt.message)"
            }
            if virt.cause is TransportFailure {
                // The client's message already names the server and what went wrong.
                return virt.message
            }
            return "error: \(virt.message)"
        }
        return "error: \(error)"
    }
}

/// A failure already reported on standard error: the command only needs to exit non-zero.
public struct AlreadyReported: Error, Sendable {
    /// The exit code to use.
    public var exitCode: Int32
    /// Creates the marker.
    public init(exitCode: Int32 = 1) { self.exitCode = exitCode }
}
