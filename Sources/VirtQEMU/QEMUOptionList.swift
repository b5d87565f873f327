/// One comma-separated QEMU option value (`virtio-blk-pci,drive=root-fmt,id=ua-root`), with every
/// value escaped the way QEMU's option parser expects: a comma inside a value is written twice.
struct QEMUOptionList {
    private var parts: [String]

    /// Starts with a bare first element (a driver or machine name, `unix:PATH`…), escaped as well.
    init(_ head: String) {
        parts = [QEMUOptionList.escape(head)]
    }

    /// Starts empty: the first `add` gives the first element.
    init() {
        parts = []
    }

    mutating func add(_ key: String, _ value: String) {
        parts.append("\(key)=\(QEMUOptionList.escape(value))")
    }

    mutating func add(_ key: String, _ value: Int) {
        parts.append("\(key)=\(value)")
    }

    mutating func add(_ key: String, _ value: UInt) {
        parts.append("\(key)=\(value)")
    }

    /// A boolean as QEMU spells it: `on` / `off`.
    mutating func add(_ key: String, _ value: Bool) {
        parts.append("\(key)=\(value ? "on" : "off")")
    }

    var text: String { parts.joined(separator: ",") }

    /// Doubles every comma, so `a,b` stays one value.
    static func escape(_ value: String) -> String {
        guard value.utf8.contains(UInt8(ascii: ",")) else { return value }
        var out = ""
        for ch in value {
            out.append(ch)
            if ch == "," { out.append(",") }
        }
        return out
    }
}
