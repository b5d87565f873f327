import Foundation
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

extension PersistentVolumeController {
    /// One pass over a claim: protection, the default class, binding or provisioning, and its status.
    func syncClaim(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var object = claims.get(key), let uid = object.metadataUID else { return .done }
        var claim: PersistentVolumeClaim
        do {
            claim = try object.decoded()
        } catch {
            throw TerminalError("PersistentVolumeClaim \(key) does not decode", cause: error)
        }
        let path = claimPath(key)

        if object.metadataDeletionTimestamp != nil {
            try await releaseProtection(object, key: key)
            return .done
        }
        if !object.metadataFinalizers.contains(StorageNames.pvcProtectionFinalizer) {
            object = try await client.patch(path, mergePatch: Self.finalizersPatch(object, adding: StorageNames.pvcProtectionFinalizer))
        }

        // A bound claim, or one that names its volume.
        if let volumeName = claim.spec?.volumeName, !volumeName.isEmpty {
            guard let volume = volumes.get(ObjectKey(namespace: nil, name: volumeName)) else {
                if claim.status?.phase == "Bound" {
                    _ = try await setClaimStatus(object, phase: "Lost", volume: nil)
                    await event(object, .warning, reason: "ClaimLost", message: "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
                }
                return .done  // the volume may still come; its informer wakes the claim
            }
            let ref = volume[path: ["spec", "claimRef"]]
            if ref == nil || ref == .null {
                let pv: PersistentVolume = try volume.decoded()
                if let mismatch = Self.mismatch(claim, className: className(of: claim), volume: pv) {
                    await event(object, .warning, reason: "VolumeMismatch", message: "Cannot bind to requested volume \"\(volumeName)\": \(mismatch)")
                    return .done
                }
                let bound = try await bindVolume(volume, to: object, byController: false)
                _ = try await setClaimStatus(object, phase: "Bound", volume: bound)
                return .done
            }
            guard Self.refers(ref, to: object) else {
                await event(object, .warning, reason: "FailedBinding", message: "volume \"\(volumeName)\" already bound to a different claim.")
                return .done
            }
            object = try await completeBinding(object, volumeName: volumeName, byController: object.annotation(StorageNames.boundByControllerAnnotation) == "yes")
            let grown = try await expand(volume, for: claim, object: object, className: className(of: claim))
            _ = try await setClaimStatus(object, phase: "Bound", volume: grown)
            return .done
        }

        // The default class, written back as Kubernetes does for claims that name none.
        let className = className(of: claim)
        if claim.spec?.storageClassName == nil, !className.isEmpty {
            object = try await client.patch(path, mergePatch: [
                "metadata": ["resourceVersion": .string(object.metadataResourceVersion ?? "")],
                "spec": ["storageClassName": .string(className)],
            ])
        }
        // CDI's applyStorageProfile label: the modes the claim left out, from its class' StorageProfile.
        if StorageProfile.wantsCompletion(object) {
            var spec = object["spec"] ?? [:]
            do {
                try StorageProfile.completeClaimModes(&spec, className: className, field: "spec",
                                                      sets: StorageProfileController.claimPropertySets(className: className, profiles: profiles, classes: classes))
            } catch {
                _ = try await setClaimStatus(object, phase: "Pending", volume: nil)
                await event(object, .warning, reason: DataVolumeController.claimNotValidReason, message: error.message)
                return .done
            }
            object = try await client.patch(path, mergePatch: [
                "metadata": ["resourceVersion": .string(object.metadataResourceVersion ?? "")],
                "spec": ["accessModes": spec["accessModes"] ?? .null, "volumeMode": spec["volumeMode"] ?? .null],
            ])
            claim = try object.decoded()
        }
        let storageClass = storageClass(className)
        let waits = storageClass?.volumeBindingMode == StorageNames.waitForFirstConsumer
        let selectedNode = object.annotation(StorageNames.selectedNodeAnnotation)
        if waits, selectedNode == nil {
            _ = try await setClaimStatus(object, phase: "Pending", volume: nil)
            await event(object, .normal, reason: "WaitForFirstConsumer", message: "waiting for first consumer to be created before binding")
            return .done
        }

        // A volume that is there already.
        let claimObject = object
        let candidates = volumes.list().compactMap { object -> (JSONValue, PersistentVolume)? in
            guard let pv = try? object.decoded(as: PersistentVolume.self) else { return nil }
            return (object, pv)
        }
        let match = candidates
            .filter { object, pv in
                let ref = object[path: ["spec", "claimRef"]]
                let free = (ref == nil || ref == .null) && (pv.status?.phase ?? "Available") == "Available" && object.metadataDeletionTimestamp == nil
                guard free || Self.refers(ref, to: claimObject) else { return false }
                guard Self.mismatch(claim, className: className, volume: pv) == nil else { return false }
                if waits, let node = selectedNode { return Self.volume(pv, reachableFrom: node) }
                return true
            }
            .min { ($0.1.spec?.capacity?["storage"]?.bytes ?? 0) < ($1.1.spec?.capacity?["storage"]?.bytes ?? 0) }
        if let (volume, _) = match {
            let bound = try await bindVolume(volume, to: object, byController: true)
            object = try await completeBinding(object, volumeName: bound.metadataName ?? "", byController: true)
            _ = try await setClaimStatus(object, phase: "Bound", volume: bound)
            return .done
        }

        // A volume to make.
        guard let storageClass else {
            _ = try await setClaimStatus(object, phase: "Pending", volume: nil)
            let message = className.isEmpty
                ? "no persistent volumes available for this claim and no storage class is set"
                : "storageclass.storage.k8s.io \"\(className)\" not found"
            await event(object, .warning, reason: "FailedBinding", message: message)
            return .done
        }
        guard [StorageNames.localProvisioner, StorageNames.sharedProvisioner].contains(storageClass.provisioner) else {
            _ = try await setClaimStatus(object, phase: "Pending", volume: nil)
            await event(object, .normal, reason: "ExternalProvisioning",
                        message: "Waiting for a volume to be created either by the external provisioner '\(storageClass.provisioner)' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
            return .done
        }
        if object.annotation(StorageNames.storageProvisionerAnnotation) == nil {
            object = try await client.patch(path, mergePatch: ["metadata": ["annotations": [
                StorageNames.storageProvisionerAnnotation: .string(storageClass.provisioner),
                StorageNames.betaStorageProvisionerAnnotation: .string(storageClass.provisioner),
            ]]])
        }
        let pv: PersistentVolume
        do {
            pv = try Self.provisionedVolume(for: claim, uid: uid, storageClass: storageClass, className: className, node: selectedNode)
        } catch {
            _ = try await setClaimStatus(object, phase: "Pending", volume: nil)
            await event(object, .warning, reason: "ProvisioningFailed", message: error.message)
            throw TerminalError("cannot provision a volume for \(key)", cause: error)
        }
        var created: JSONValue
        do {
            created = try await client.create(StorageNames.volumes, body: try JSONValue(encoding: pv))
            logger.info("provisioned volume", metadata: ["claim": "\(key)", "volume": "\(pv.metadata?.name ?? "")"])
            await event(object, .normal, reason: "ProvisioningSucceeded", message: "Successfully provisioned volume \(pv.metadata?.name ?? "")")
        } catch {
            guard error.code == .exists else { throw error }
            created = try await client.get(volumePath(pv.metadata?.name ?? ""))
        }
        created = try await setVolumePhase(created, "Bound")
        object = try await completeBinding(object, volumeName: created.metadataName ?? "", byController: true)
        _ = try await setClaimStatus(object, phase: "Bound", volume: created)
        return .done
    }

    // MARK: - Binding

    /// Why `volume` cannot hold `claim` (`nil`: it can): class, volume mode, access modes, size.
    static func mismatch(_ claim: PersistentVolumeClaim, className: String, volume: PersistentVolume) -> String? {
        let spec = volume.spec ?? PersistentVolumeSpec()
        if (spec.storageClassName ?? "") != className { return "storageClassName does not match" }
        if (spec.volumeMode ?? "Filesystem") != (claim.spec?.volumeMode ?? "Filesystem") { return "requested volume mode does not match" }
        let offered = Set(spec.accessModes ?? [])
        if !Set(claim.spec?.accessModes ?? []).isSubset(of: offered) { return "incompatible accessMode" }
        let wanted = claim.spec?.resources?.requests?["storage"]?.bytes ?? 0
        if (spec.capacity?["storage"]?.bytes ?? 0) < wanted { return "requested PV is too small" }
        return nil
    }

    /// Whether a volume's node affinity lets `node` use it (no affinity: any node).
    static func volume(_ volume: PersistentVolume, reachableFrom node: String) -> Bool {
        guard let terms = volume.spec?.nodeAffinity?[path: ["required", "nodeSelectorTerms"]]?.arrayValue else { return true }
        return SchedulerFilters.nodeNameMatches(terms: terms, nodeName: node, labels: [StorageNames.hostnameLabel: node])
    }

    /// Whether a PV's `claimRef` names this claim (by namespace and name, and UID when it has one).
    static func refers(_ ref: JSONValue?, to claim: JSONValue) -> Bool {
        guard let ref, ref != .null else { return false }
        guard ref["namespace"]?.stringValue == claim.metadataNamespace, ref["name"]?.stringValue == claim.metadataName else { return false }
        let uid = ref["uid"]?.stringValue ?? ""
        return uid.isEmpty || uid == claim.metadataUID
    }

    static func claimRef(_ claim: JSONValue) -> JSONValue {
        [
            "kind": "PersistentVolumeClaim", "apiVersion": "v1",
            "namespace": .string(claim.metadataNamespace ?? ""), "name": .string(claim.metadataName ?? ""),
            "uid": .string(claim.metadataUID ?? ""), "resourceVersion": .string(claim.metadataResourceVersion ?? ""),
        ]
    }

    /// Points a volume at the claim (`spec.claimRef`) and marks it `Bound`.
    func bindVolume(_ volume: JSONValue, to claim: JSONValue, byController: Bool) async throws(VirtError) -> JSONValue {
        var patch: JSONValue = [
            "metadata": ["resourceVersion": .string(volume.metadataResourceVersion ?? "")],
            "spec": ["claimRef": Self.claimRef(claim)],
        ]
        if byController { patch[path: ["metadata", "annotations"]] = [StorageNames.boundByControllerAnnotation: "yes"] }
        let bound = try await client.patch(volumePath(volume.metadataName ?? ""), mergePatch: patch)
        logger.info("bound volume", metadata: ["volume": "\(volume.metadataName ?? "")", "claim": "\(claim.metadataNamespace ?? "")/\(claim.metadataName ?? "")"])
        return try await setVolumePhase(bound, "Bound")
    }

    /// Writes the claim's side of a binding: `spec.volumeName` and the binding annotations.
    func completeBinding(_ claim: JSONValue, volumeName: String, byController: Bool) async throws(VirtError) -> JSONValue {
        var annotations: JSONValue = [StorageNames.bindCompletedAnnotation: "yes"]
        if byController { annotations[StorageNames.boundByControllerAnnotation] = "yes" }
        let done = claim[path: ["spec", "volumeName"]]?.stringValue == volumeName
            && claim.annotation(StorageNames.bindCompletedAnnotation) == "yes"
            && (!byController || claim.annotation(StorageNames.boundByControllerAnnotation) == "yes")
        if done { return claim }
        guard let key = ObjectKey(object: claim) else { return claim }
        return try await client.patch(claimPath(key), mergePatch: [
            "metadata": ["resourceVersion": .string(claim.metadataResourceVersion ?? ""), "annotations": annotations],
            "spec": ["volumeName": .string(volumeName)],
        ])
    }

    /// Writes the claim's `status`: its phase, and once bound the volume's capacity and access modes.
    func setClaimStatus(_ claim: JSONValue, phase: String, volume: JSONValue?) async throws(VirtError) -> JSONValue {
        var status: JSONValue = ["phase": .string(phase)]
        if phase == "Bound", let volume {
            if let modes = volume[path: ["spec", "accessModes"]] { status["accessModes"] = modes }
            if let capacity = volume[path: ["spec", "capacity"]] { status["capacity"] = capacity }
        }
        if let kept = claim[path: ["status", "conditions"]], phase == "Bound" { status["conditions"] = kept }
        guard claim["status"] != status, let key = ObjectKey(object: claim) else { return claim }
        var updated = claim
        updated["status"] = status
        return try await client.updateStatus(claimPath(key), body: updated)
    }

    // MARK: - Expansion

    /// A bound claim that asks for more than its volume holds: a class with `allowVolumeExpansion: true`
    /// and one of our provisioners grows the volume's `spec.capacity` (the node agent grows `disk.img` when a
    /// guest next starts on it), with events `Resizing` and `VolumeResizeSuccessful`; otherwise a
    /// `VolumeResizeFailed` warning says why. Returns the volume as it is afterwards.
    func expand(_ volume: JSONValue, for claim: PersistentVolumeClaim, object: JSONValue, className: String) async throws(VirtError) -> JSONValue {
        guard let wanted = claim.spec?.resources?.requests?["storage"] else { return volume }
        let pv: PersistentVolume = try volume.decoded()
        let held = pv.spec?.capacity?["storage"]?.bytes ?? 0
        guard wanted.bytes > held else { return volume }
        let name = volume.metadataName ?? ""
        guard let storageClass = storageClass(className), storageClass.allowVolumeExpansion == true else {
            await event(object, .warning, reason: "VolumeResizeFailed",
                        message: "cannot grow volume \(name) to \(wanted.text): storageclass \"\(className)\" does not set allowVolumeExpansion: true")
            return volume
        }
        guard [StorageNames.localProvisioner, StorageNames.sharedProvisioner].contains(storageClass.provisioner),
              volume.annotation(StorageNames.provisionedByAnnotation) == storageClass.provisioner
        else {
            await event(object, .warning, reason: "VolumeResizeFailed",
                        message: "cannot grow volume \(name): only volumes provisioned by \(StorageNames.localProvisioner) or \(StorageNames.sharedProvisioner) can be resized")
            return volume
        }
        await event(object, .normal, reason: "Resizing", message: "External resizer is resizing volume \(name)")
        let grown = try await client.patch(volumePath(name), mergePatch: [
            "metadata": ["resourceVersion": .string(volume.metadataResourceVersion ?? "")],
            "spec": ["capacity": ["storage": .string(wanted.text)]],
        ])
        logger.info("resized volume", metadata: ["volume": "\(name)", "size": "\(wanted.text)"])
        await event(object, .normal, reason: "VolumeResizeSuccessful", message: "Resize volume succeeded")
        return grown
    }

    // MARK: - Protection

    /// A deleted claim: drops `kubernetes.io/pvc-protection` once no pod uses it.
    func releaseProtection(_ object: JSONValue, key: ObjectKey) async throws(VirtError) {
        guard object.metadataFinalizers.contains(StorageNames.pvcProtectionFinalizer) else { return }
        if inUse(namespace: key.namespace, claimName: key.name) {
            logger.debug("claim in use; protection kept", metadata: ["claim": "\(key)"])
            return
        }
        let kept = object.metadataFinalizers.filter { $0 != StorageNames.pvcProtectionFinalizer }
        do {
            _ = try await client.patch(claimPath(key), mergePatch: [
                "metadata": ["resourceVersion": .string(object.metadataResourceVersion ?? ""),
                             "finalizers": kept.isEmpty ? .null : .array(kept.map { .string($0) })],
            ])
        } catch {
            if error.code != .notFound { throw error }
        }
    }

    static func finalizersPatch(_ object: JSONValue, adding finalizer: String) -> JSONValue {
        [
            "metadata": ["resourceVersion": .string(object.metadataResourceVersion ?? ""),
                         "finalizers": .array((object.metadataFinalizers + [finalizer]).map { .string($0) })],
        ]
    }
}

extension JSONValue {
    /// `metadata.annotations[name]`.
    func annotation(_ name: String) -> String? { self[path: ["metadata", "annotations", name]]?.stringValue }
}
