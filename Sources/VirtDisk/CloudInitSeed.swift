import Foundation
import VirtAPI
import VirtError

/// The files of a cloud-init seed disk for one `cloudInitNoCloud` / `cloudInitConfigDrive` volume, laid out
/// as KubeVirt's virt-launcher lays them out (`pkg/cloud-init`):
///
/// - NoCloud (volume label `cidata`): `meta-data`, `user-data`, and `network-config` only when network
///   data is given. `meta-data` is JSON (valid YAML): `{"instance-id":UUID,"local-hostname":HOST}`.
/// - ConfigDrive (label `config-2`): `openstack/latest/meta_data.json`, `openstack/latest/user_data`, and
///   `openstack/latest/network_data.json` when given. `meta_data.json` carries `instance_id`
///   (`<name>.<namespace>`), `hostname`, `uuid` and `name`, plus KubeVirt's legacy `instance-id`.
///
/// `user-data` is always written, empty when only network data is given: NoCloud readers (cloud-init
/// among them) require the file. The host name is `spec.hostname`, else the VMI's name up to its first dot
/// and cut to 63 characters. The UUID is `spec.domain.firmware.uuid`, else the UUID KubeVirt's VM controller
/// would set (SHA-1 name-based on the VMI's name), so the instance id is stable across restarts.
public struct CloudInitSeed: Sendable, Equatable {
    /// Which cloud-init datasource the disk serves.
    public enum DataSource: String, Sendable, Equatable {
        case noCloud
        case configDrive

        /// The ISO 9660 volume label guests look for.
        public var volumeLabel: String {
            switch self {
            case .noCloud: "cidata"
            case .configDrive: "config-2"
            }
        }

        /// The name of the volume source in the VMI spec.
        public var fieldName: String {
            switch self {
            case .noCloud: "cloudInitNoCloud"
            case .configDrive: "cloudInitConfigDrive"
            }
        }
    }

    /// One file on the seed disk.
    public struct File: Sendable, Equatable {
        /// Relative path on the disk, `/`-separated.
        public var path: String
        public var contents: [UInt8]

        public init(path: String, contents: [UInt8]) {
            self.path = path
            self.contents = contents
        }

        public init(path: String, text: String) {
            self.init(path: path, contents: Array(text.utf8))
        }

        public var text: String { String(decoding: contents, as: UTF8.self) }
    }

    public var dataSource: DataSource
    public var files: [File]

    public init(dataSource: DataSource, files: [File]) {
        self.dataSource = dataSource
        self.files = files
    }

    /// The file at `path`, if the seed has one.
    public func file(_ path: String) -> File? { files.first { $0.path == path } }

    /// Builds the seed of `vmi.spec.volumes[volumeIndex]`.
    ///
    /// - Parameter secrets: Secrets of the VMI's namespace by name; those named by `secretRef` and
    ///   `networkDataSecretRef` must be there (the caller fetches them).
    /// - Throws: `VirtError` naming the field (`spec.volumes[1].cloudInitNoCloud.userDataBase64: …`) when the
    ///   volume is not a cloud-init volume, data is missing or not base64, or a Secret or its key is missing.
    public init(vmi: VirtualMachineInstance, volumeIndex: Int, secrets: [String: Secret] = [:]) throws {
        let volumes = vmi.spec.volumes ?? []
        let volumeField = "spec.volumes[\(volumeIndex)]"
        guard volumes.indices.contains(volumeIndex) else {
            throw FieldError.notFound(volumeField, "the VMI has \(volumes.count) volume(s)")
        }
        let volume = volumes[volumeIndex]
        let dataSource: DataSource
        let source: CloudInitSource
        if let noCloud = volume.cloudInitNoCloud {
            (dataSource, source) = (.noCloud, noCloud)
        } else if let configDrive = volume.cloudInitConfigDrive {
            (dataSource, source) = (.configDrive, configDrive)
        } else {
            throw FieldError.invalid(volumeField, "volume \"\(volume.name)\" is not a cloudInitNoCloud or cloudInitConfigDrive volume")
        }
        let field = "\(volumeField).\(dataSource.fieldName)"
        let namespace = vmi.metadata?.namespace ?? "default"

        let userData = try Self.read(
            raw: source.userData, base64: source.userDataBase64, secretRef: source.secretRef, keys: ["userdata", "userData"],
            field: field, rawName: "userData", base64Name: "userDataBase64", secretName: "secretRef", secrets: secrets, namespace: namespace)
        let networkData = try Self.read(
            raw: source.networkData, base64: source.networkDataBase64, secretRef: source.networkDataSecretRef,
            keys: ["networkdata", "networkData"], field: field, rawName: "networkData", base64Name: "networkDataBase64",
            secretName: "networkDataSecretRef", secrets: secrets, namespace: namespace)
        if userData == nil, networkData == nil {
            throw FieldError.required(
                field, "set one of userData, userDataBase64, secretRef, networkData, networkDataBase64 or networkDataSecretRef")
        }

        let name = vmi.metadata?.name ?? ""
        let hostname = Self.hostname(of: vmi)
        let uuid = Self.firmwareUUID(of: vmi)
        let instanceType = Self.instanceType(of: vmi)
        var files: [File]
        switch dataSource {
        case .noCloud:
            var metaData: [(String, String)] = []
            if let instanceType { metaData.append(("instance-type", instanceType)) }
            metaData += [("instance-id", uuid), ("local-hostname", hostname)]
            files = [
                File(path: "meta-data", text: Self.jsonObject(metaData)),
                File(path: "user-data", contents: userData ?? []),
            ]
            if let networkData { files.append(File(path: "network-config", contents: networkData)) }
        case .configDrive:
            let instanceID = "\(name).\(namespace)"
            var metaData: [(String, String)] = []
            if let instanceType { metaData.append(("instance-type", instanceType)) }
            metaData.append(("instance-id", instanceID))
            if let instanceType { metaData.append(("instance_type", instanceType)) }
            metaData += [("instance_id", instanceID), ("hostname", hostname), ("uuid", uuid), ("name", name)]
            files = [
                File(path: "openstack/latest/meta_data.json", text: Self.jsonObject(metaData)),
                File(path: "openstack/latest/user_data", contents: userData ?? []),
            ]
            if let networkData { files.append(File(path: "openstack/latest/network_data.json", contents: networkData)) }
        }
        self.init(dataSource: dataSource, files: files)
    }

    /// The guest's host name as KubeVirt sets it: `spec.hostname`, else the VMI's name up to its first dot,
    /// at most 63 characters (a DNS label).
    public static func hostname(of vmi: VirtualMachineInstance) -> String {
        if let hostname = vmi.spec.hostname, !hostname.isEmpty { return hostname }
        let name = vmi.metadata?.name ?? ""
        let label = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return String(label.prefix(63))
    }

    /// `spec.domain.firmware.uuid`, else the UUID KubeVirt's VM controller gives a VMI of this name
    /// (version 5, SHA-1, in KubeVirt's firmware namespace `6a1a24a1-4061-4607-8bf4-a3963d0c5895`).
    public static func firmwareUUID(of vmi: VirtualMachineInstance) -> String {
        if let uuid = vmi.spec.domain.firmware?.uuid, !uuid.isEmpty { return uuid }
        return FirmwareUUID.forVirtualMachine(named: vmi.metadata?.name ?? "")
    }

    /// The instance type named by the VMI's annotations (cluster-wide first), which KubeVirt puts in the metadata.
    public static func instanceType(of vmi: VirtualMachineInstance) -> String? {
        let annotations = vmi.metadata?.annotations ?? [:]
        for key in ["kubevirt.io/cluster-instancetype-name", "kubevirt.io/instancetype-name"] {
            if let value = annotations[key], !value.isEmpty { return value }
        }
        return nil
    }

    /// Decodes standard base64 (with padding); line breaks are ignored, as Go's decoder does.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        let compact = text.filter { $0 != "\n" && $0 != "\r" }
        return Data(base64Encoded: compact).map { Array($0) }
    }

    /// One data item from its inline, base64 or Secret form (nil when none is set or it is empty,
    /// as KubeVirt treats empty strings).
    private static func read(
        raw: String?, base64: String?, secretRef: LocalObjectReference?, keys: [String], field: String,
        rawName: String, base64Name: String, secretName: String, secrets: [String: Secret], namespace: String
    ) throws -> [UInt8]? {
        if let secretRef {
            let refField = "\(field).\(secretName).name"
            guard let name = secretRef.name, !name.isEmpty else { throw FieldError.required(refField, "the name of a Secret") }
            guard let secret = secrets[name] else {
                throw FieldError.notFound(refField, "secret \"\(name)\" in namespace \"\(namespace)\" (create it, or fix the name)")
            }
            for key in keys {
                if let value = secret.stringData?[key] { return value.isEmpty ? nil : Array(value.utf8) }
                if let value = secret.data?[key] {
                    guard let bytes = decodeBase64(value) else {
                        throw FieldError.invalid(refField, "key \"\(key)\" of secret \"\(name)\" is not valid base64")
                    }
                    return bytes.isEmpty ? nil : bytes
                }
            }
            let present = (Array((secret.data ?? [:]).keys) + Array((secret.stringData ?? [:]).keys)).sorted()
            throw FieldError.invalid(
                refField,
                "secret \"\(name)\" has no key \(keys.map { "\"\($0)\"" }.joined(separator: " or "))"
                    + (present.isEmpty ? " (it is empty)" : " (it has \(present.joined(separator: ", ")))"))
        }
        if let raw, !raw.isEmpty { return Array(raw.utf8) }
        if let base64, !base64.isEmpty {
            guard let bytes = decodeBase64(base64) else {
                throw FieldError.invalid("\(field).\(base64Name)", "not valid base64 (RFC 4648 with = padding); use \(rawName) for plain text")
            }
            return bytes.isEmpty ? nil : bytes
        }
        return nil
    }

    /// A JSON object with string members in the given order (KubeVirt's Go structs fix the order).
    private static func jsonObject(_ members: [(String, String)]) -> String {
        "{" + members.map { "\(JSONValue.string($0.0).serialized()):\(JSONValue.string($0.1).serialized())" }.joined(separator: ",") + "}"
    }
}
