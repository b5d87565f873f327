import VirtAPI

/// Resource amounts as the scheduler counts them: every resource in thousandths of its unit
/// (millicores for `cpu`, millibytes for `memory`, milli-devices for extended resources), so one integer
/// type covers them all.
public struct ResourceAmounts: Sendable, Equatable {
    /// Resource name → amount in thousandths.
    public var milli: [String: Int64]

    public init(_ milli: [String: Int64] = [:]) {
        self.milli = milli
    }

    /// The amounts of a `ResourceList`.
    public init(_ list: ResourceList?) {
        milli = (list ?? [:]).mapValues(\.milliValue)
    }

    /// The amount of one resource (0 when absent).
    public subscript(_ name: String) -> Int64 {
        get { milli[name, default: 0] }
        set { milli[name] = newValue }
    }

    /// Adds another set of amounts.
    public mutating func add(_ other: ResourceAmounts) {
        for (name, value) in other.milli { milli[name, default: 0] += value }
    }

    /// The element-wise maximum with another set.
    public mutating func formMax(_ other: ResourceAmounts) {
        for (name, value) in other.milli { milli[name] = max(milli[name, default: 0], value) }
    }
}
