import Foundation
import VirtOS

/// `qemu-img`: creates, inspects and converts disk images.
///
/// A value type over an injectable `CommandRunner`, so tests can see the exact command lines. Failures of
/// qemu-img itself throw `QemuImgError`; a runner that cannot start the program throws its own error
/// (`ProcessRunner`: "qemu-img is not installed: …").
public struct QemuImg: Sendable {
    /// A backing image under a copy-on-write overlay.
    public struct Backing: Sendable, Equatable {
        /// Absolute path of the backing image; it is recorded in the overlay's header as given.
        public var path: String
        /// The backing image's format, recorded too, so that QEMU never probes it.
        public var format: ImageFormat

        public init(path: String, format: ImageFormat) {
            self.path = path
            self.format = format
        }
    }

    /// Options of `qemu-img convert`.
    public struct ConvertOptions: Sendable, Equatable {
        /// The source's format (`-f`); nil lets qemu-img probe it. Name it for data you do not trust.
        public var sourceFormat: ImageFormat?
        /// Compress the target (`-c`, qcow2 only).
        public var compress: Bool
        /// The target exists already and has the right size (`-n`), e.g. a block device or a PVC's file.
        public var skipTargetCreation: Bool
        /// `-o preallocation=` of the target: `off`, `metadata`, `falloc`, `full`.
        public var preallocation: String?
        /// Cache mode of the target (`-t`), e.g. `none` to bypass the page cache on large imports.
        public var cacheMode: String?
        /// Cache mode of the source (`-T`).
        public var sourceCacheMode: String?
        /// Let writes land out of order (`-W`): faster, fine for a raw target nobody reads meanwhile.
        public var outOfOrderWrites: Bool

        public init(
            sourceFormat: ImageFormat? = nil, compress: Bool = false, skipTargetCreation: Bool = false,
            preallocation: String? = nil, cacheMode: String? = nil, sourceCacheMode: String? = nil,
            outOfOrderWrites: Bool = false
        ) {
            self.outOfOrderWrites = outOfOrderWrites
            self.sourceFormat = sourceFormat
            self.compress = compress
            self.skipTargetCreation = skipTargetCreation
            self.preallocation = preallocation
            self.cacheMode = cacheMode
            self.sourceCacheMode = sourceCacheMode
        }
    }

    /// The program to run: a name looked up on PATH, or an absolute path.
    public var executable: String
    let runner: any CommandRunner

    public init(executable: String = "qemu-img", runner: any CommandRunner = ProcessRunner()) {
        self.executable = executable
        self.runner = runner
    }

    /// Creates an image (`qemu-img create`). Images are sparse: raw files get a hole, qcow2 grows on write.
    ///
    /// - Parameters:
    ///   - size: virtual size in bytes; may be nil only with `backing`, whose size the overlay then takes.
    ///   - backing: makes a copy-on-write overlay; the backing image is only ever read.
    public func create(path: String, format: ImageFormat, size: Int64?, backing: Backing? = nil) async throws {
        var arguments = ["create", "-q", "-f", format.rawValue]
        if let backing {
            guard !backing.path.isEmpty else { throw QemuImgError.invalidArgument("the backing image of \(path) has an empty path") }
            arguments += ["-b", backing.path, "-F", backing.format.rawValue]
        }
        arguments.append(path)
        if let size {
            guard size > 0 else { throw QemuImgError.invalidArgument("cannot create \(path) with size \(size): the size must be positive") }
            arguments.append(String(size))
        } else if backing == nil {
            throw QemuImgError.invalidArgument("cannot create \(path) without a size: give a size or a backing image")
        }
        try await run(arguments, operation: "create", path: path)
    }

    /// Describes an image (`qemu-img info --output=json`).
    ///
    /// - Parameters:
    ///   - format: the format to open it as; nil lets qemu-img probe, which is what you want to learn
    ///     the format, but never hand a probed format of an untrusted image to QEMU without checking it.
    ///   - forceShare: read an image a running QEMU holds locked (`-U`); the answer may be stale.
    public func info(path: String, format: ImageFormat? = nil, forceShare: Bool = false) async throws -> ImageInfo {
        var arguments = ["info", "--output=json"]
        if let format { arguments += ["-f", format.rawValue] }
        if forceShare { arguments.append("-U") }
        arguments.append(path)
        let result = try await run(arguments, operation: "info", path: path)
        return try ImageInfo(json: result.stdout, path: path)
    }

    /// Copies `source` into `destination` in `format` (`qemu-img convert`), e.g. for imports into a volume.
    public func convert(source: String, destination: String, format: ImageFormat, options: ConvertOptions = ConvertOptions()) async throws {
        var arguments = ["convert", "-q"]
        if let sourceFormat = options.sourceFormat { arguments += ["-f", sourceFormat.rawValue] }
        arguments += ["-O", format.rawValue]
        if options.compress { arguments.append("-c") }
        if options.skipTargetCreation { arguments.append("-n") }
        if let preallocation = options.preallocation { arguments += ["-o", "preallocation=\(preallocation)"] }
        if let cacheMode = options.cacheMode { arguments += ["-t", cacheMode] }
        if let sourceCacheMode = options.sourceCacheMode { arguments += ["-T", sourceCacheMode] }
        if options.outOfOrderWrites { arguments.append("-W") }
        arguments += [source, destination]
        try await run(arguments, operation: "convert", path: source)
    }

    /// Grows an image to `size` bytes (`qemu-img resize`). Never shrinks: a smaller size is refused
    /// before qemu-img runs, as data past it would be lost.
    public func resize(path: String, format: ImageFormat, size: Int64, currentSize: Int64? = nil) async throws {
        guard size > 0 else { throw QemuImgError.invalidArgument("cannot resize \(path) to \(size): the size must be positive") }
        if let currentSize, size < currentSize {
            throw QemuImgError.invalidArgument("will not shrink \(path) from \(currentSize) to \(size) bytes: the data past \(size) would be lost")
        }
        try await run(["resize", "-q", "-f", format.rawValue, path, String(size)], operation: "resize", path: path)
    }

    @discardableResult
    func run(_ arguments: [String], operation: String, path: String) async throws -> CommandResult {
        let result = try await runner.run(executable, arguments, environment: nil, input: nil)
        guard result.exitCode == 0 else {
            let stderr = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            if operation == "info" || operation == "convert", stderr.contains("No such file or directory"),
                stderr.contains(path)
            {
                throw QemuImgError.imageNotFound(path: path)
            }
            throw QemuImgError.failed(operation: operation, path: path, exitCode: result.exitCode, stderr: stderr)
        }
        return result
    }
}
