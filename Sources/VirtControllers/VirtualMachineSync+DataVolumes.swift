import Foundation
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

extension VirtualMachineSync {
    /// The names of the DataVolumes the VM uses: its `spec.dataVolumeTemplates`, and the `dataVolume`
    /// volumes of its template.
    var dataVolumeNames: [String] {
        var names = (vm.spec.dataVolumeTemplates ?? []).compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        for volume in object[path: ["spec", "template", "spec", "volumes"]]?.arrayValue ?? [] {
            if let name = volume[path: ["dataVolume", "name"]]?.stringValue, !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// The phase of each DataVolume the VM uses (nil for one not there yet).
    var dataVolumePhases: [String?] {
        guard let cache = controller.dataVolumes else { return [] }
        return dataVolumeNames.map { cache.get(ObjectKey(namespace: key.namespace, name: $0))?[path: ["status", "phase"]]?.stringValue }
    }

    /// Creates each of `spec.dataVolumeTemplates` that is missing, owned by the VM (KubeVirt does this
    /// before it starts the VMI, whatever the run strategy).
    mutating func createDataVolumes() async throws {
        guard let cache = controller.dataVolumes, let uid = object.metadataUID else { return }
        for template in vm.spec.dataVolumeTemplates ?? [] {
            guard let name = template[path: ["metadata", "name"]]?.stringValue, !name.isEmpty,
                  cache.get(ObjectKey(namespace: key.namespace, name: name)) == nil
            else { continue }
            var metadata = template["metadata"]?.objectValue ?? [:]
            for field in ["uid", "resourceVersion", "creationTimestamp", "ownerReferences", "finalizers", "managedFields"] { metadata[field] = nil }
            if let namespace = key.namespace { metadata["namespace"] = .string(namespace) }
            metadata["ownerReferences"] = [ownerReference(uid: uid)]
            let body: JSONValue = [
                "apiVersion": .string(CDINames.apiVersion), "kind": "DataVolume", "metadata": .object(metadata),
                "spec": template["spec"] ?? .object([:]),
            ]
            do {
                _ = try await client.create(DataVolumeController.path.inNamespace(key.namespace), body: body)
                await controller.recorder.record(object, .normal, reason: "SuccessfulDataVolumeCreate", message: "Created DataVolume \(name)")
            } catch {
                if error.code == .exists { continue }
                await controller.recorder.record(object, .warning, reason: "FailedDataVolumeCreate", message: "Error creating DataVolume \(name): \(error.message)")
                syncError = ("FailedCreate", "Failure while creating DataVolume \(name): \(error.message)", error.code == .invalid)
            }
        }
    }
}
