import Foundation
import Glibc

extension DHCPResponder {
    /// `CLONE_NEWNET` from `<sched.h>`, which the Glibc module does not export.
    static let cloneNewNet: Int32 = 0x4000_0000
    /// The server port.
    static let serverPort: UInt16 = 67
    /// `IFNAMSIZ` less the terminating NUL.
    static let maximumDeviceNameLength = 15

    /// `setns(2)`, looked up at run time: the Glibc module does not export it.
    private static let setNamespace: (@convention(c) (Int32, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "setns") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    /// A UDP socket bound to `0.0.0.0:67` on `device` inside the network namespace at `namespacePath`,
    /// made on a thread of its own: a network namespace is a per-thread setting, so no thread of Swift
    /// concurrency or of NIO ever enters the pod's namespace. The thread goes back to its own namespace
    /// and ends; the socket stays in the pod's namespace for its whole life.
    static func openSocket(device: String, namespacePath: String) async throws(DHCPError) -> Int32 {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int32, DHCPError>, Never>) in
            let thread = Thread {
                continuation.resume(returning: socketInNamespace(device: device, namespacePath: namespacePath))
            }
            thread.name = "swiftvirt-dhcp-socket"
            thread.start()
        }
        return try result.get()
    }

    /// Runs on the dedicated thread only.
    private static func socketInNamespace(device: String, namespacePath: String) -> Result<Int32, DHCPError> {
        guard let setNamespace else {
            return .failure(.namespaceUnusable(path: namespacePath, reason: "this C library has no setns(2)"))
        }
        let target = open(namespacePath, O_RDONLY | O_CLOEXEC)
        guard target >= 0 else {
            let code = errno
            return .failure(code == ENOENT ? .namespaceMissing(path: namespacePath) : .namespaceUnusable(path: namespacePath, reason: describe(code)))
        }
        defer { close(target) }
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else {
            return .failure(.namespaceUnusable(path: namespacePath, reason: "cannot open /proc/thread-self/ns/net to return to afterwards: \(describe(errno))"))
        }
        defer { close(original) }
        guard setNamespace(target, cloneNewNet) == 0 else {
            let code = errno
            return .failure(.namespaceUnusable(path: namespacePath, reason: code == EINVAL ? "it is not a network namespace" : describe(code)))
        }
        let made = boundSocket(device: device, namespacePath: namespacePath)
        guard setNamespace(original, cloneNewNet) == 0 else {
            let reason = describe(errno)
            if case .success(let fd) = made { close(fd) }
            return .failure(.restoreFailed(reason: reason))
        }
        return made
    }

    /// The socket, made in the namespace the calling thread is in.
    private static func boundSocket(device: String, namespacePath: String) -> Result<Int32, DHCPError> {
        func failure(_ step: String, _ code: Int32) -> Result<Int32, DHCPError> {
            .failure(.socketFailed(step: step, device: device, namespacePath: namespacePath, reason: describe(code)))
        }
        let name = Array(device.utf8)
        guard !name.isEmpty, name.count <= maximumDeviceNameLength, !name.contains(0), !name.contains(UInt8(ascii: "/")) else {
            return .failure(.socketFailed(step: "SO_BINDTODEVICE", device: device, namespacePath: namespacePath,
                                          reason: "\"\(device)\" is not a network device name (1…15 bytes, no '/')"))
        }
        guard if_nametoindex(device) != 0 else { return .failure(.deviceMissing(device: device, namespacePath: namespacePath)) }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return failure("socket(AF_INET, SOCK_DGRAM)", errno) }
        var on: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, size) == 0 else { return closing(fd, failure("SO_REUSEADDR", errno)) }
        guard setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, size) == 0 else { return closing(fd, failure("SO_BROADCAST", errno)) }
        let bound = (name + [0]).withUnsafeBytes { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0.baseAddress, socklen_t($0.count)) }
        guard bound == 0 else {
            let code = errno
            return closing(fd, code == ENODEV ? .failure(.deviceMissing(device: device, namespacePath: namespacePath)) : failure("SO_BINDTODEVICE", code))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = serverPort.bigEndian
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bindResult = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bindResult == 0 else { return closing(fd, failure("bind 0.0.0.0:67", errno)) }
        return .success(fd)
    }

    private static func closing(_ fd: Int32, _ result: Result<Int32, DHCPError>) -> Result<Int32, DHCPError> {
        close(fd)
        return result
    }

    private static func describe(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
