/// A message of Kubernetes' protobuf encoding as far as SwiftVirt reads it: each field number with the
/// JSON member it becomes and its type. Fields not listed are skipped.
///
/// kubectl's typed clients send some built-in kinds this way (`kubectl create namespace|configmap|secret`,
/// evictions from `kubectl drain`); a kind that may arrive so carries its message in its `ResourceType`.
public struct ProtobufMessage: Sendable {
    public var fields: [Int: (name: String, type: FieldType)]

    public init(_ fields: [Int: (name: String, type: FieldType)]) {
        self.fields = fields
    }

    /// How a field's bytes become JSON.
    public indirect enum FieldType: Sendable {
        /// UTF-8 text.
        case string
        /// Bytes, as base64 text (Kubernetes' `[]byte`).
        case bytes
        /// A varint, as a (signed) JSON integer.
        case int
        case bool
        /// A `metav1.Time`, as RFC 3339 text.
        case time
        case message(ProtobufMessage)
        /// `map<string, string>`.
        case stringMap
        /// `map<string, bytes>`, values as base64 text.
        case bytesMap
        case repeated(FieldType)
    }

    /// `metav1.OwnerReference`.
    public static let ownerReference = ProtobufMessage([
        1: ("kind", .string), 3: ("name", .string), 4: ("uid", .string), 5: ("apiVersion", .string),
        6: ("controller", .bool), 7: ("blockOwnerDeletion", .bool),
    ])

    /// `metav1.ObjectMeta`: field 1 of every kind's message.
    public static let objectMeta = ProtobufMessage([
        1: ("name", .string), 2: ("generateName", .string), 3: ("namespace", .string), 5: ("uid", .string),
        6: ("resourceVersion", .string), 7: ("generation", .int), 8: ("creationTimestamp", .time),
        9: ("deletionTimestamp", .time), 10: ("deletionGracePeriodSeconds", .int), 11: ("labels", .stringMap),
        12: ("annotations", .stringMap), 13: ("ownerReferences", .repeated(.message(ownerReference))),
        14: ("finalizers", .repeated(.string)),
    ])
}
