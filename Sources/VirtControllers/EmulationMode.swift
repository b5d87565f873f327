/// Whether launcher pods ask for the KVM device (`devices.kubevirt.io/kvm: 1`), i.e. whether VMs need a
/// node where KVM works (KubeVirt's `useEmulation` setting).
public enum EmulationMode: String, Sendable, Equatable, CaseIterable {
    /// Always ask for KVM: a VM only runs where KVM works (KubeVirt's default).
    case disabled
    /// Never ask for KVM: every VM runs under TCG (`swiftvirtd --emulation`).
    case enabled
    /// Ask for KVM when at least one node advertises it, otherwise run under TCG: an all-in-one daemon
    /// on a machine without working KVM still runs VMs.
    case auto
}
