extension VirtualMachineInstance {
    /// The DataVolumes the VMI's `dataVolume` volumes name, in `spec.volumes` order.
    public var dataVolumeNames: [String] {
        (spec.volumes ?? []).compactMap { $0.dataVolume?.name }.filter { !$0.isEmpty }
    }

    /// The VMI with each `dataVolume` volume replaced by a `persistentVolumeClaim` volume of the
    /// DataVolume's PVC (same name, as CDI names it): once the DataVolume succeeded, the launcher pod and
    /// the node agent use it exactly as a PVC.
    public func resolvingDataVolumes() -> VirtualMachineInstance {
        guard var volumes = spec.volumes, volumes.contains(where: { $0.dataVolume != nil }) else { return self }
        for index in volumes.indices {
            guard let source = volumes[index].dataVolume else { continue }
            var claim = PersistentVolumeClaimVolumeSource(claimName: source.name)
            claim.hotpluggable = source.hotpluggable
            volumes[index].dataVolume = nil
            volumes[index].persistentVolumeClaim = claim
        }
        var resolved = self
        resolved.spec.volumes = volumes
        return resolved
    }
}
