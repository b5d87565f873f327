import VirtAPI

extension ResourceHandler {
    /// A `meta.k8s.io/v1` Table of objects with the kind's printer columns (`kubectl get`).
    func table(for type: ResourceType, objects: [JSONValue], revision: Int64?) -> JSONValue {
        var definitions: [JSONValue] = [
            ["name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0],
        ]
        for column in type.columns {
            definitions.append([
                "name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
                "description": .string(column.description), "priority": .int(Int64(column.priority)),
            ])
        }
        let rows: [JSONValue] = objects.map { object in
            var cells: [JSONValue] = [object[path: ["metadata", "name"]] ?? ""]
            // Kubernetes' printer marks the default StorageClass in its name cell.
            if type.group == "storage.k8s.io", type.kind == "StorageClass", let name = object[path: ["metadata", "name"]]?.stringValue,
               object[path: ["metadata", "annotations", StorageNames.defaultClassAnnotation]]?.stringValue == "true"
            {
                cells[0] = .string("\(name) (default)")
            }
            for column in type.columns {
                let value = column.cell(object)
                if column.type == "date", let text = value.stringValue {
                    cells.append(.string(Timestamp.age(since: text)))
                } else if value == .null {
                    cells.append(column.type == "string" ? "" : .null)
                } else {
                    cells.append(value)
                }
            }
            let partial: JSONValue = [
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": object["metadata"] ?? [:],
            ]
            return ["cells": .array(cells), "object": partial]
        }
        var metadata: [String: JSONValue] = [:]
        if let revision { metadata["resourceVersion"] = .string(String(revision)) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
            "columnDefinitions": .array(definitions), "rows": .array(rows),
        ]
    }
}
