import Foundation
import VirtAPI

/// Prints ``ResourceTable``s like kubectl: upper-case headers, columns padded to their widest cell plus three
/// spaces (at least six), the last column unpadded.
public struct TablePrinter: Sendable {
    /// Show columns with priority > 0 (`-o wide`).
    public var wide: Bool
    /// Add a `NAMESPACE` column first (`-A`).
    public var withNamespace: Bool
    /// Leave out the header line (`--no-headers`).
    public var noHeaders: Bool
    /// Put before every name (`virtualmachine.kubevirt.io/`) when several types are printed.
    public var namePrefix: String?
    /// The time ages are computed against.
    public var now: Date

    /// Creates a printer.
    public init(wide: Bool = false, withNamespace: Bool = false, noHeaders: Bool = false, namePrefix: String? = nil, now: Date = Date()) {
        self.wide = wide
        self.withNamespace = withNamespace
        self.noHeaders = noHeaders
        self.namePrefix = namePrefix
        self.now = now
    }

    /// Which columns are shown.
    public func visibleColumns(of table: ResourceTable) -> [Int] {
        table.columns.indices.filter { wide || table.columns[$0].priority <= 0 }
    }

    /// The header cells.
    public func header(for table: ResourceTable) -> [String] {
        var cells = visibleColumns(of: table).map { table.columns[$0].name.uppercased() }
        if withNamespace { cells.insert("NAMESPACE", at: 0) }
        return cells
    }

    /// The text cells of one row.
    public func cells(for row: ResourceTable.Row, in table: ResourceTable) -> [String] {
        let nameIndex = table.nameColumnIndex
        var cells = visibleColumns(of: table).map { index -> String in
            let value = index < row.cells.count ? row.cells[index] : .null
            var text = cellText(value, column: table.columns[index])
            if index == nameIndex, let namePrefix { text = namePrefix + text }
            return text
        }
        if withNamespace { cells.insert(row.namespace ?? "", at: 0) }
        return cells
    }

    /// The whole table as text (header unless ``noHeaders``), each line ending in a newline.
    public func render(_ table: ResourceTable) -> String {
        var lines: [[String]] = []
        if !noHeaders { lines.append(header(for: table)) }
        lines += table.rows.map { cells(for: $0, in: table) }
        return TablePrinter.align(lines).text
    }

    /// How a cell reads: `<none>` for null, ages for RFC 3339 timestamps in `date` columns.
    public func cellText(_ value: JSONValue, column: ResourceTable.Column) -> String {
        switch value {
        case .null: return "<none>"
        case .string(let s):
            if column.type == "date", let age = HumanDuration.age(of: s, now: now) { return age }
            return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        case .array, .object: return value.serialized()
        }
    }

    /// Aligns rows of cells: every column but the last is padded to `max(widest + 3, 6)` characters, or to
    /// `minimumWidths` when that is wider. Returns the text and the widths used, so later rows (watch
    /// events) can line up with earlier ones.
    public static func align(_ rows: [[String]], minimumWidths: [Int] = []) -> (text: String, widths: [Int]) {
        let columnCount = max(rows.map(\.count).max() ?? 0, minimumWidths.count)
        var widths = [Int](repeating: 0, count: columnCount)
        for (index, width) in minimumWidths.enumerated() { widths[index] = width }
        for row in rows {
            for (index, cell) in row.enumerated() where index < row.count - 1 {
                widths[index] = max(widths[index], cell.count + 3, 6)
            }
        }
        var text = ""
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                if index < row.count - 1 {
                    line += cell + String(repeating: " ", count: max(widths[index] - cell.count, 3))
                } else {
                    line += cell
                }
            }
            text += line + "\n"
        }
        return (text, widths)
    }
}
