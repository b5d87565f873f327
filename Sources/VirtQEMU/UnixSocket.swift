#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A failed socket call: which one, and `errno`.
struct SocketError: Error, Sendable, CustomStringConvertible {
    var operation: String
    var code: Int32

    var description: String { "\(operation): \(String(cString: strerror(code)))" }

    /// The listener is not there yet (no socket file, nobody listening): worth retrying.
    var isNotListening: Bool { code == ENOENT || code == ECONNREFUSED || code == EAGAIN }
}

/// A connected `AF_UNIX` stream socket with blocking I/O: QEMU's QMP, serial and VNC sockets.
///
/// One thread reads; any thread writes (writes are serialised) or calls `shutdown`, which wakes the
/// reader with end of file and makes later writes fail. The descriptor is closed when the last
/// reference goes away, so no call can ever reach a descriptor number that was reused.
final class UnixSocket: Sendable {
    private let fd: Int32
    /// Serialises writers, so two messages never interleave.
    private let writing = Mutex(())
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit {
        _ = systemClose(fd)
    }

    /// The longest path `sockaddr_un` holds, without its terminating NUL.
    static var maxPathLength: Int {
        MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
    }

    /// Connects once; throws `SocketError` (see `isNotListening` for the retryable ones).
    static func connect(path: String) throws(SocketError) -> UnixSocket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count <= maxPathLength, !bytes.isEmpty else { throw SocketError(operation: "connect", code: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        #if canImport(Darwin)
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #else
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                systemConnect(fd, sa, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 {
            let code = errno
            _ = systemClose(fd)
            throw SocketError(operation: "connect", code: code)
        }
        return UnixSocket(fd: fd, path: path)
    }

    /// Reads what is there (blocking until something is); 0 at end of file.
    func read(into buffer: inout [UInt8]) throws(SocketError) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in
                systemRead(fd, raw.baseAddress, raw.count)
            }
            if n >= 0 { return n }
            let code = errno
            if code == EINTR { continue }
            throw SocketError(operation: "read", code: code)
        }
    }

    /// Writes all of `bytes`; fails once the socket is shut down. Never raises SIGPIPE.
    func write(_ bytes: [UInt8]) throws(SocketError) {
        let failure: SocketError? = writing.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { raw in
                    send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
                }
                if n < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    return SocketError(operation: "write", code: code)
                }
                offset += n
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Ends both directions: a blocked `read` returns end of file, blocked and later writes fail.
    /// Does not wait for a writer, so it works even when the peer stopped reading.
    /// A second descriptor for the same connection (close-on-exec), for an event loop to read from; it
    /// closes its own copy, and `shutdown()` on either ends the connection for both.
    func duplicate() throws(SocketError) -> Int32 {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw SocketError(operation: "dup", code: errno) }
        return copy
    }

    func shutdown() {
        _ = systemShutdown(fd, Int32(SHUT_RDWR))
    }
}

// The libc calls under names that do not clash with the methods above.
private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemShutdown(_ fd: Int32, _ how: Int32) -> Int32 { shutdown(fd, how) }
