/// The memory a launcher pod needs beyond the guest's own RAM, added to the pod's memory request so the
/// scheduler places VMs where they fit and the node's cgroup limit does not kill QEMU.
///
/// SwiftVirt runs no per-VM helper process (KubeVirt's virt-launcher, libvirtd and virtqemud cost it
/// ~240 MiB per VM): the pod holds QEMU alone, so the overhead is QEMU's own:
///
/// | part | size | why |
/// | --- | --- | --- |
/// | QEMU process | 30 MiB | binary and shared libraries mapped, heap, I/O buffers, QMP/monitor (RSS of `qemu-system-x86_64 -machine q35 -nographic` before the guest runs is 20–30 MiB) |
/// | per vCPU | 8 MiB | vCPU thread stack and KVM/TCG per-CPU state (KubeVirt counts 8 MiB too) |
/// | guest-proportional | 1 % of guest RAM, rounded up | page tables and QEMU's per-RAM structures (dirty bitmaps for migration, memory map); KubeVirt counts 0.2 % for page tables alone |
/// | graphics | 16 MiB | VGA video RAM, unless `autoattachGraphicsDevice: false` |
/// | TCG | 64 MiB | translation-block cache when running without KVM (grows with the guest code executed; a small Linux guest stays well under it) |
///
/// The sum is rounded up to a whole MiB. It is an estimate meant to be honest, not tight: the
/// benchmark in issue 3 measures the real figure per VM.
public enum LauncherOverhead {
    static let mebibyte: Int64 = 1 << 20
    /// QEMU's fixed cost.
    public static let qemuProcess: Int64 = 30 << 20
    /// Per virtual CPU.
    public static let perVCPU: Int64 = 8 << 20
    /// VGA video memory.
    public static let graphics: Int64 = 16 << 20
    /// TCG translation cache.
    public static let tcgTranslationCache: Int64 = 64 << 20

    /// The memory overhead in bytes.
    ///
    /// - Parameters:
    ///   - guestMemory: the guest's RAM in bytes.
    ///   - vcpus: virtual CPUs (sockets × cores × threads).
    ///   - graphics: whether a VGA device is attached.
    ///   - emulation: whether QEMU runs without KVM (TCG).
    public static func memory(guestMemory: Int64, vcpus: Int, graphics: Bool, emulation: Bool) -> Int64 {
        var total = qemuProcess
        total += perVCPU * Int64(max(1, vcpus))
        let guest = max(0, guestMemory)
        total += guest / 100 + (guest % 100 == 0 ? 0 : 1)
        if graphics { total += Self.graphics }
        if emulation { total += tcgTranslationCache }
        return (total + mebibyte - 1) / mebibyte * mebibyte
    }
}
