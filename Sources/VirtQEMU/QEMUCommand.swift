import VirtAPI
import VirtError

/// The QEMU command line that runs one VMI: a pure function of the VMI spec and the `LaunchContext`.
///
/// `build` reads no files and starts nothing; the same inputs always give the same arguments, one
/// argument per element (no shell quoting). Whatever the spec asks for that SwiftVirt cannot do is
/// refused with a `VirtError` whose causes name each field, never silently dropped:
/// `.unsupported` for features SwiftVirt does not have, `.invalid` for settings that cannot work
/// together, `.internal` when the context lacks something the agent should have prepared.
///
/// The converter expects a spec that went through API admission (defaults applied), but tolerates the
/// defaults being absent (a disk without a target is a virtio disk, and so on).
public struct QEMUCommand: Sendable, Equatable {
    /// The program to run (`qemu-system-x86_64`).
    public var executable: String
    /// The arguments after the program name.
    public var arguments: [String]

    public init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }

    /// The command line for `vmi`; the guest is named `<namespace>_<name>` as KubeVirt names domains.
    public static func build(vmi: VirtualMachineInstance, context: LaunchContext) throws(VirtError) -> QEMUCommand {
        var guestName: String?
        if let name = vmi.metadata?.name, !name.isEmpty {
            guestName = "\(vmi.metadata?.namespace ?? "default")_\(name)"
        }
        return try build(spec: vmi.spec, guestName: guestName, context: context)
    }

    /// The command line for a VMI spec. `guestName` becomes `-name guest=…` (QEMU's process and
    /// thread names) when given.
    public static func build(spec: VirtualMachineInstanceSpec, guestName: String? = nil, context: LaunchContext) throws(VirtError) -> QEMUCommand {
        var builder = QEMUCommandBuilder(spec: spec, context: context)
        let arguments = try builder.build(guestName: guestName)
        return QEMUCommand(executable: context.executable, arguments: arguments)
    }

    /// The MAC address an interface gets when it does not set `macAddress`.
    ///
    /// The rule: take the 64-bit FNV-1a hash of the UTF-8 text `<vmiUID>/<interfaceName>`; the address is
    /// `02` followed by the hash's five most significant bytes. `02` marks a locally administered
    /// unicast address, so it never collides with a vendor's. Seeded with the machine's stable identity
    /// (the firmware UUID), the address stays the same across restarts of the VM, re-adoption and
    /// migration, and differs between interfaces and VMs.
    /// The MAC address the guest's NIC for `interface` has: its `macAddress` (normalized), else the
    /// generated one; nil when the given one is not a unicast MAC (the command builder refuses those).
    public static func guestMACAddress(of interface: Interface, vmiUID: String) -> String? {
        guard let given = interface.macAddress else { return generatedMACAddress(vmiUID: vmiUID, interfaceName: interface.name) }
        return QEMUCommandBuilder.normalizedMAC(given)
    }

    /// `02-00-00-AA-BB-CC` or `02:00:00:aa:bb:cc` → `02:00:00:aa:bb:cc`; nil for anything else.
    public static func normalizedMAC(_ text: String) -> String? { QEMUCommandBuilder.normalizedMAC(text) }

    public static func generatedMACAddress(vmiUID: String, interfaceName: String) -> String {
        let hash = QEMUNames.fnv1a64("\(vmiUID)/\(interfaceName)")
        var octets: [UInt8] = [0x02]
        for shift in stride(from: 56, through: 24, by: -8) {
            octets.append(UInt8(truncatingIfNeeded: hash >> UInt64(shift)))
        }
        return octets.map { octet in
            let hex = String(octet, radix: 16)
            return octet < 0x10 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}
