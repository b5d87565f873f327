import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// CDI's StorageProfile controller: one `StorageProfile` per StorageClass, of the class' name, created
/// with an empty spec and owned by the class; its `status` (the only writer) says what DataVolumes of the
/// class get — `storageClass`, `provisioner`, `claimPropertySets` (spec's when it has any, else the
/// built-in ones of SwiftVirt's provisioners, else none), `cloneStrategy`, `dataImportCronSourceFormat`
/// (``StorageProfile/status(of:storageClass:)``). A profile whose class is gone is deleted, as CDI does.
///
/// Keys are class names (cluster-scoped); both the class informer and the profile informer wake them.
public struct StorageProfileController: Reconciler {
    let client: any APIClient
    let classes: ObjectCache
    let profiles: ObjectCache
    let logger: Logger

    public init(client: any APIClient, classes: ObjectCache, profiles: ObjectCache, logger: Logger) {
        self.client = client
        self.classes = classes
        self.profiles = profiles
        self.logger = logger
    }

    /// The path StorageProfiles are served at.
    public static let path = ResourcePath(group: "cdi.kubevirt.io", version: "v1beta1", resource: "storageprofiles")

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let name = key.name
        let profilePath = Self.path.named(name)
        guard let classObject = classes.get(ObjectKey(namespace: nil, name: name)), classObject.metadataDeletionTimestamp == nil else {
            if let profile = profiles.get(ObjectKey(namespace: nil, name: name)), profile.metadataDeletionTimestamp == nil {
                do {
                    try await client.delete(profilePath, propagationPolicy: .background, gracePeriodSeconds: nil)
                    logger.info("deleted StorageProfile \(name): its StorageClass is gone")
                } catch {
                    if error.code != .notFound { throw error }
                }
            }
            return .done
        }
        let storageClass: StorageClass
        do {
            storageClass = try classObject.decoded()
        } catch {
            throw TerminalError("StorageClass \(name) does not decode", cause: error)
        }

        var object: JSONValue
        if let cached = profiles.get(ObjectKey(namespace: nil, name: name)) {
            guard cached.metadataDeletionTimestamp == nil else { return .done }
            object = cached
        } else {
            do {
                object = try await client.create(Self.path, body: Self.emptyProfile(for: classObject))
            } catch {
                if error.code != .exists { throw error }
                return .requeue(after: .seconds(1))
            }
            logger.info("created StorageProfile \(name)")
        }

        let profile: StorageProfile?
        do {
            profile = try object.decoded(as: StorageProfile.self)
        } catch {
            // Admission keeps a malformed spec out; an object that still does not decode is left alone.
            throw TerminalError("StorageProfile \(name) does not decode", cause: error)
        }
        let old = profile?.status
        let status = StorageProfile.status(of: profile, storageClass: storageClass)
        guard status != old else { return .done }
        let updated = try object.replacingStatus(from: old, to: status)
        _ = try await client.updateStatus(profilePath, body: updated)
        return .done
    }

    /// The profile CDI creates for a class: its name, an empty spec, owned by the class.
    static func emptyProfile(for storageClass: JSONValue) -> JSONValue {
        let name = storageClass.metadataName ?? ""
        let owner: JSONValue = [
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "name": .string(name),
            "uid": .string(storageClass.metadataUID ?? ""),
        ]
        return [
            "apiVersion": .string(CDINames.apiVersion), "kind": "StorageProfile",
            "metadata": ["name": .string(name), "labels": ["app": "containerized-data-importer"], "ownerReferences": [owner]],
            "spec": [:],
        ]
    }

    /// The claim property sets a DataVolume of class `className` is completed from: the profile's status
    /// when the controller wrote it, else what it will write (the built-in sets of the class' provisioner),
    /// so a DataVolume created with its class does not wait for the profile.
    static func claimPropertySets(className: String, profiles: ObjectCache?, classes: ObjectCache) -> [ClaimPropertySet] {
        if let profile = profiles?.get(ObjectKey(namespace: nil, name: className)),
           let status = try? profile["status"]?.decoded(as: StorageProfileStatus.self), status.provisioner != nil
        {
            return status.claimPropertySets ?? []
        }
        guard let storageClass = try? classes.get(ObjectKey(namespace: nil, name: className))?.decoded(as: StorageClass.self) else {
            return []
        }
        let spec = profiles?.get(ObjectKey(namespace: nil, name: className)).flatMap { try? $0.decoded(as: StorageProfile.self) }
        return StorageProfile.status(of: spec, storageClass: storageClass).claimPropertySets ?? []
    }
}
