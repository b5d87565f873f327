import VirtError

/// Validation of cdi.kubevirt.io/v1beta1 `DataSource`: `spec.source` names exactly one PVC by namespace and
/// name. A `snapshot` source is refused (restoring VolumeSnapshots is not served yet), never run as something else.
enum DataSourceAdmission {
    static func validate(_ dataSource: DataSource, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        let field = "spec.source"
        let source = dataSource.spec.source
        if source.snapshot != nil {
            return [FieldErrors.forbidden(
                "\(field).snapshot", "a DataSource of a VolumeSnapshot is not supported yet; name a PVC with \(field).pvc")]
        }
        guard let pvc = source.pvc else {
            return [FieldErrors.required("\(field).pvc", "the namespace and name of the PVC this DataSource names")]
        }
        var causes: [VirtError.Cause] = []
        if pvc.namespace.isEmpty { causes.append(FieldErrors.required("\(field).pvc.namespace", "the namespace of the PVC")) }
        if pvc.name.isEmpty { causes.append(FieldErrors.required("\(field).pvc.name", "the name of the PVC")) }
        return causes
    }
}
