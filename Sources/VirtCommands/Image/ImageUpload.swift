import ArgumentParser
import Foundation
import Synchronization
import VirtAPI
import VirtClient
import VirtError
#if canImport(Glibc)
import Glibc
#endif

/// `swiftvirt image-upload dv|pvc NAME --image-path FILE --size 1Gi`: virtctl's image-upload. Creates the
/// DataVolume (`source.upload`) or the claim (CDI's upload-target annotation) unless `--no-create`, waits
/// until it is ready to receive, asks for an upload token (`UploadTokenRequest`), streams the file to the
/// upload proxy (the API server's `/v1beta1/upload-async`) with a progress bar, and waits until the image
/// is complete.
///
/// A class that binds on first consumer (the default class, `local`, does) would leave an upload waiting
/// for a VM; such a target is bound at once (CDI's `cdi.kubevirt.io/storage.bind.immediate.requested`, as
/// `--force-bind` asks for any class).
public struct ImageUpload: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "image-upload", abstract: "Upload a disk image into a DataVolume or a PersistentVolumeClaim.",
        discussion: "Examples:\n  swiftvirt image-upload dv fedora --image-path fedora.qcow2 --size 10Gi\n  swiftvirt image-upload pvc disk --image-path disk.raw --size 1Gi --no-create")
    @OptionGroup public var global: GlobalOptions
    @Argument(help: "dv NAME or pvc NAME.") public var target: [String]
    @Option(help: "The image to upload (raw, qcow2, vmdk, vdi, vhd(x), also gzip or xz compressed).") public var imagePath: String
    @Option(help: "The size of the volume to create (e.g. 1Gi); needed unless --no-create.") public var size: String?
    @Option(help: "The storage class of the volume to create (default: the cluster's default class).") public var storageClass: String?
    @Option(help: "The access mode of the volume to create (ReadWriteOnce, ReadWriteMany, ReadOnlyMany).") public var accessMode: String?
    @Option(help: "The volume mode of the volume to create (filesystem or block).") public var volumeMode: String?
    @Flag(help: "Upload into an existing DataVolume or claim instead of creating one.") public var noCreate = false
    @Flag(help: "Do not check the upload proxy's certificate.") public var insecure = false
    @Option(help: "The upload proxy's URL (default: the API server of the kubeconfig, which serves CDI's upload paths).") public var uploadproxyURL: String?
    @Option(help: "How long to wait for the volume to be ready to receive, in seconds.") public var waitSecs: Int = 300
    @Flag(help: "Bind the claim now even when its class binds on first consumer.") public var forceBind = false

    public init() {}

    enum Kind: String { case dv, pvc }

    public func validate() throws {
        guard target.count == 2, Kind(rawValue: target[0].lowercased()) != nil else {
            throw ValidationError("name the target as dv NAME or pvc NAME, e.g. swiftvirt image-upload dv disk --image-path disk.qcow2 --size 1Gi")
        }
        if !noCreate, size == nil { throw ValidationError("--size is needed to create the \(target[0]) (e.g. --size 1Gi); or pass --no-create to upload into an existing one") }
        if let size { _ = try Quantity(size) }
        if let volumeMode, !["filesystem", "block"].contains(volumeMode.lowercased()) {
            throw ValidationError("--volume-mode \(volumeMode): use filesystem or block")
        }
        if let accessMode, !["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"].contains(accessMode) {
            throw ValidationError("--access-mode \(accessMode): use ReadWriteOnce, ReadWriteMany, ReadOnlyMany or ReadWriteOncePod")
        }
    }

    public func run() async throws {
        let kind = Kind(rawValue: target[0].lowercased()) ?? .dv
        let name = target[1]
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: imagePath, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: imagePath)
        else {
            throw VirtError(.notFound, "the image \(imagePath) does not exist or cannot be read; check --image-path")
        }
        let fileSize = (try FileManager.default.attributesOfItem(atPath: imagePath)[.size] as? NSNumber)?.int64Value ?? 0
        guard fileSize > 0 else { throw VirtError(.invalid, "the image \(imagePath) is empty; nothing to upload") }

        try await CommandContext.with(global) { context in
            let uploader = Uploader(command: self, context: context, kind: kind, name: name)
            try await uploader.prepare()
            try await uploader.waitUntilReady()
            let token = try await uploader.requestToken()
            try await uploader.send(token: token, fileSize: fileSize)
            try await uploader.waitUntilComplete()
        }
    }
}

/// One image-upload's steps.
struct Uploader {
    let command: ImageUpload
    let context: CommandContext
    let kind: ImageUpload.Kind
    let name: String

    var client: KubeClient { context.client }
    var namespace: String { context.namespace }
    var dataVolumePath: ResourcePath {
        ResourcePath(group: "cdi.kubevirt.io", version: "v1beta1", resource: "datavolumes", namespace: namespace, name: name)
    }
    var claimPath: ResourcePath { ResourcePath.core("persistentvolumeclaims").inNamespace(namespace).named(name) }
    var what: String { kind == .dv ? "DataVolume \(namespace)/\(name)" : "PersistentVolumeClaim \(namespace)/\(name)" }

    /// Finds or creates the target; an existing one must be an upload target that is not complete.
    func prepare() async throws {
        let path = kind == .dv ? dataVolumePath : claimPath
        let existing: JSONValue?
        do {
            existing = try await client.get(path)
        } catch {
            if error.code != .notFound { throw error }
            existing = nil
        }
        if let existing {
            try check(existing)
            if !command.noCreate { Terminal.print("Using the existing \(what)") }
            return
        }
        if command.noCreate { throw VirtError(.notFound, "\(what) does not exist and --no-create was given; drop --no-create to create it") }
        let bindNow = try await bindsImmediately()
        let storage = storageSpec()
        var annotations: JSONValue = [:]
        if bindNow { annotations[CDINames.Upload.bindImmediateAnnotation] = "true" }
        switch kind {
        case .dv:
            let body: JSONValue = [
                "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                "metadata": ["name": .string(name), "namespace": .string(namespace), "annotations": annotations],
                "spec": ["source": ["upload": [:]], "storage": storage],
            ]
            _ = try await client.create(ResourcePath(group: "cdi.kubevirt.io", version: "v1beta1", resource: "datavolumes", namespace: namespace), body: body)
        case .pvc:
            annotations[CDINames.Upload.targetAnnotation] = ""
            var spec = storage
            if spec["accessModes"] == nil { spec["accessModes"] = ["ReadWriteOnce"] }
            let body: JSONValue = [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": ["name": .string(name), "namespace": .string(namespace), "annotations": annotations],
                "spec": spec,
            ]
            _ = try await client.create(ResourcePath.core("persistentvolumeclaims").inNamespace(namespace), body: body)
        }
        Terminal.print("\(what) created")
    }

    func check(_ object: JSONValue) throws {
        switch kind {
        case .dv:
            let source = object[path: ["spec", "source"]]?.objectValue ?? [:]
            guard source["upload"] != nil else {
                let other = source.keys.sorted().first.map { "source.\($0)" } ?? (object[path: ["spec", "sourceRef"]] != nil ? "sourceRef" : "no source")
                throw VirtError(.conflict, "\(what) exists with \(other), not source.upload; delete it (swiftvirt delete dv \(name) -n \(namespace)) or upload into another name")
            }
            if object[path: ["status", "phase"]]?.stringValue == CDINames.Phase.succeeded {
                throw VirtError(.conflict, "\(what) has its image already (phase Succeeded); delete it to upload again")
            }
        case .pvc:
            guard object[path: ["metadata", "annotations", CDINames.Upload.targetAnnotation]] != nil else {
                throw VirtError(.conflict, "\(what) exists and is not an upload target (no \(CDINames.Upload.targetAnnotation) annotation); delete it or upload into another name")
            }
            if object[path: ["metadata", "annotations", CDINames.Annotation.podPhase]]?.stringValue == CDINames.PodPhase.succeeded {
                throw VirtError(.conflict, "\(what) has its image already; delete it to upload again")
            }
        }
    }

    /// `spec.storage` (or the claim's spec) from the flags.
    func storageSpec() -> JSONValue {
        var storage: JSONValue = ["resources": ["requests": ["storage": .string(command.size ?? "")]]]
        if let storageClass = command.storageClass { storage["storageClassName"] = .string(storageClass) }
        if let accessMode = command.accessMode { storage["accessModes"] = [.string(accessMode)] }
        if let volumeMode = command.volumeMode { storage["volumeMode"] = .string(volumeMode.lowercased() == "block" ? "Block" : "Filesystem") }
        return storage
    }

    /// `--force-bind`, or a class (the named one, else the default) that binds on first consumer.
    func bindsImmediately() async throws -> Bool {
        if command.forceBind { return true }
        let classes = (try? await client.listAll(ResourcePath(group: "storage.k8s.io", version: "v1", resource: "storageclasses")))?["items"]?.arrayValue ?? []
        let chosen = classes.first { item in
            if let wanted = command.storageClass { return item[path: ["metadata", "name"]]?.stringValue == wanted }
            return item[path: ["metadata", "annotations", "storageclass.kubernetes.io/is-default-class"]]?.stringValue == "true"
        }
        guard let chosen, chosen["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer" else { return false }
        let className = chosen[path: ["metadata", "name"]]?.stringValue ?? ""
        Terminal.print("Storage class \(className) binds on first consumer: binding the claim now to receive the upload (as --force-bind)")
        return true
    }

    /// Polls until the target is ready to receive (`UploadReady`), at most `--wait-secs`.
    func waitUntilReady() async throws {
        Terminal.print("Waiting for \(what) to be ready to receive the upload...")
        let deadline = ContinuousClock.now + .seconds(command.waitSecs)
        var last = ""
        polling: while true {
            switch kind {
            case .dv:
                let object = try await client.get(dataVolumePath)
                let phase = object[path: ["status", "phase"]]?.stringValue ?? "Pending"
                if phase == CDINames.Upload.phaseReady { break polling }
                if phase == CDINames.Phase.failed || phase == CDINames.Phase.succeeded {
                    throw VirtError(.invalidState, "\(what) is \(phase), not waiting for an upload; delete it to upload again")
                }
                last = phase
            case .pvc:
                let object = try await client.get(claimPath)
                let annotations = object[path: ["metadata", "annotations"]]
                if annotations?[CDINames.Upload.readyAnnotation]?.stringValue == "true" { break polling }
                last = "claim \(object[path: ["status", "phase"]]?.stringValue ?? "Pending")"
            }
            if ContinuousClock.now >= deadline {
                throw VirtError(.timeout, "\(what) was not ready to receive within \(command.waitSecs) s (it is \(last)); see swiftvirt describe \(kind.rawValue) \(name) -n \(namespace), or wait longer with --wait-secs")
            }
            try await Task.sleep(for: .seconds(1))
        }
        Terminal.print("\(what) is ready to receive")
    }

    func requestToken() async throws -> String {
        let body: JSONValue = [
            "apiVersion": "upload.cdi.kubevirt.io/v1beta1", "kind": "UploadTokenRequest",
            "metadata": ["name": .string(name), "namespace": .string(namespace)], "spec": ["pvcName": .string(name)],
        ]
        let answer = try await client.create(
            ResourcePath(group: CDINames.Upload.tokenGroup, version: CDINames.Upload.tokenVersion, resource: "uploadtokenrequests", namespace: namespace),
            body: body)
        guard let token = answer[path: ["status", "token"]]?.stringValue, !token.isEmpty else {
            throw VirtError(.internal, "the server answered the UploadTokenRequest without status.token")
        }
        return token
    }

    func send(token: String, fileSize: Int64) async throws {
        var base = command.uploadproxyURL ?? client.serverURL
        while base.hasSuffix("/") { base.removeLast() }
        if !base.contains("://") { base = "https://" + base }
        let bar = UploadProgress(total: fileSize, onTerminal: isatty(STDOUT_FILENO) == 1)
        Terminal.print("Uploading \(command.imagePath) (\(UploadProgress.mebibytes(fileSize)))")
        try await client.uploadFile(command.imagePath, to: base + CDINames.Upload.asyncPath, token: token, insecure: command.insecure) { sent in
            bar.update(sent)
        }
        bar.done()
        Terminal.print("Uploading data completed successfully, waiting for processing to complete")
    }

    /// Polls until the image is complete; the agent reports it before it answers the upload, so this is the
    /// DataVolume controller catching up (bounded by `--wait-secs` all the same).
    func waitUntilComplete() async throws {
        let deadline = ContinuousClock.now + .seconds(max(command.waitSecs, 60))
        while true {
            if ContinuousClock.now >= deadline {
                throw VirtError(.timeout, "the upload finished but \(what) did not report its image within \(max(command.waitSecs, 60)) s; see swiftvirt describe \(kind.rawValue) \(name) -n \(namespace)")
            }
            switch kind {
            case .dv:
                let object = try await client.get(dataVolumePath)
                let phase = object[path: ["status", "phase"]]?.stringValue ?? ""
                if phase == CDINames.Phase.succeeded {
                    Terminal.print("Uploading \(command.imagePath) completed successfully: \(what) is Succeeded")
                    return
                }
                if phase == CDINames.Phase.failed { throw VirtError(.invalidState, "\(what) failed after the upload; see swiftvirt describe dv \(name) -n \(namespace)") }
            case .pvc:
                let object = try await client.get(claimPath)
                if object[path: ["metadata", "annotations", CDINames.Annotation.podPhase]]?.stringValue == CDINames.PodPhase.succeeded {
                    Terminal.print("Uploading \(command.imagePath) completed successfully: \(what) holds the image")
                    return
                }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// The upload's progress on the shared ``ProgressBar``: redrawn at each whole percent on a terminal, else a
/// plain line every 10%.
final class UploadProgress: Sendable {
    let total: Int64
    private let state: Mutex<(bar: ProgressBar, shown: Int)>
    private let step: Int

    init(total: Int64, onTerminal: Bool) {
        self.total = max(total, 1)
        step = onTerminal ? 1 : 10
        state = Mutex((ProgressBar(configuration: .init(interactive: onTerminal)), -1))
    }

    static func mebibytes(_ bytes: Int64) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    func update(_ sent: Int64) {
        let percent = Int(min(100, sent * 100 / total)) / step * step
        let status = "\(Self.mebibytes(sent)) of \(Self.mebibytes(total))"
        state.withLock { state in
            guard percent != state.shown else { return }
            state.shown = percent
            state.bar.update(fraction: Double(percent) / 100, status: status)
        }
    }

    func done() {
        state.withLock { state in state.bar.finish(fraction: 1, status: "\(Self.mebibytes(total)) of \(Self.mebibytes(total))") }
    }
}
