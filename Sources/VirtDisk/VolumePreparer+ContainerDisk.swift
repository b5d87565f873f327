import Foundation
import VirtAPI
import VirtError
import VirtRegistry

/// containerDisk volumes: the image's disk (a file, an OCI layout, or pulled from a registry with the
/// credentials of `imagePullSecret`) under a qcow2 overlay of the pod's own.
extension VolumePreparer {
    func prepareContainerDisk(_ source: ContainerDiskSource, name: String, field: String, disks: String, secrets: [String: Secret] = [:])
        async throws -> PreparedDisk
    {
        guard let image = source.image, !image.isEmpty else { throw FieldError.required("\(field).image", "the container image that holds the disk") }
        let store = ContainerDiskStore(cacheDirectory: configuration.containerDiskCache, runner: runner)
        let base: ContainerDiskImage
        do {
            let credentials = try Self.pullCredentials(source, image: image, secrets: secrets)
            base = try await store.resolve(image: image, path: source.path, credentials: credentials, pullPolicy: source.imagePullPolicy)
        } catch let error as ContainerDiskError {
            let message = error.description
            switch error {
            case .pullFailed, .neverPull:
                // The kubelet's words (`failed to pull image "…": …`), which the pod and the VMI repeat; the field as the cause.
                throw VirtError(.invalid, message, causes: [VirtError.Cause(message: message, field: "\(field).image")], cause: error)
            case .notFound: throw FieldError.notFound("\(field).image", message, cause: error)
            case .noDisk where source.path != nil: throw FieldError.invalid("\(field).path", message, cause: error)
            default: throw FieldError.invalid("\(field).image", message, cause: error)
            }
        } catch let error as QemuImgError {
            throw FieldError.invalid("\(field).image", "\(image): \(error)", cause: error)
        }
        let backing = QemuImg.Backing(path: base.path, format: base.format)
        let overlay = "\(disks)/\(name).qcow2"
        if try await !reusable(overlay, backing: backing) {
            try FileSystem.makeDirectory(disks)
            try await create(overlay, format: .qcow2, size: nil, backing: backing, field: field)
        }
        return PreparedDisk(volumeName: name, source: .containerDisk, path: overlay, format: .qcow2, readOnly: false, backing: backing)
    }

    /// The registry credentials `imagePullSecret` holds for `image`'s registry. A Secret that is not
    /// there is no credentials, as the kubelet pulls without a missing pull secret (the registry's
    /// refusal then says what is wrong); one that holds no Docker config is an error.
    static func pullCredentials(_ source: ContainerDiskSource, image: String, secrets: [String: Secret]) throws -> RegistryCredentials? {
        guard let name = source.imagePullSecret, !name.isEmpty, let secret = secrets[name],
              case .registry(let reference)? = try? ContainerDiskStore.parse(image)
        else { return nil }
        let key = secret.data?[".dockerconfigjson"] != nil ? ".dockerconfigjson" : ".dockercfg"
        guard let encoded = secret.data?[key] else {
            throw ContainerDiskError.pullFailed(image: image, error: .invalidCredentials(
                secret: name, detail: "it has no .dockerconfigjson key (type kubernetes.io/dockerconfigjson)"))
        }
        guard let bytes = Data(base64Encoded: encoded) else {
            throw ContainerDiskError.pullFailed(image: image, error: .invalidCredentials(secret: name, detail: "\(key) is not base64"))
        }
        do {
            return try DockerConfig.parse(Array(bytes), secret: name).credentials(for: reference)
        } catch {
            throw ContainerDiskError.pullFailed(image: image, error: error)
        }
    }
}
