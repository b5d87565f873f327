"""The OpenAPI documents (/openapi/v2 and /openapi/v3), the built-in CustomResourceDefinitions, and what
kubectl does with them: validation, `no matches for kind` for kinds we do not serve, `kind: List`; then a
bounded property-based fuzz of every operation of every document."""
import json
import os
import re

import pytest
import yaml

from conftest import vm_manifest

PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
# The kinds a KubeVirt cluster defines as CRDs that the registry serves (the README's table of kinds).
CUSTOM_KINDS = {
    "virtualmachines.kubevirt.io": ("kubevirt.io", "VirtualMachine", "Namespaced", ["vm", "vms"]),
    "virtualmachineinstances.kubevirt.io": ("kubevirt.io", "VirtualMachineInstance", "Namespaced", ["vmi", "vmis"]),
    "virtualmachineinstancemigrations.kubevirt.io": ("kubevirt.io", "VirtualMachineInstanceMigration", "Namespaced", ["vmim", "vmims"]),
    "migrationpolicies.migrations.kubevirt.io": ("migrations.kubevirt.io", "MigrationPolicy", "Cluster", None),
    "datavolumes.cdi.kubevirt.io": ("cdi.kubevirt.io", "DataVolume", "Namespaced", ["dv", "dvs"]),
    "datasources.cdi.kubevirt.io": ("cdi.kubevirt.io", "DataSource", "Namespaced", ["das"]),
    "storageprofiles.cdi.kubevirt.io": ("cdi.kubevirt.io", "StorageProfile", "Cluster", None),
    "network-attachment-definitions.k8s.cni.cncf.io": ("k8s.cni.cncf.io", "NetworkAttachmentDefinition", "Namespaced", ["net-attach-def"]),
    "nodenetworkconfigurationpolicies.nmstate.io": ("nmstate.io", "NodeNetworkConfigurationPolicy", "Cluster", ["nncp"]),
    "nodenetworkconfigurationenactments.nmstate.io": ("nmstate.io", "NodeNetworkConfigurationEnactment", "Cluster", ["nnce"]),
    "nodenetworkstates.nmstate.io": ("nmstate.io", "NodeNetworkState", "Cluster", ["nns"]),
}


def write(tmp_path, name, obj):
    path = os.path.join(tmp_path, name)
    with open(path, "w") as f:
        yaml.safe_dump(obj, f)
    return path


def documents(daemon):
    """Every OpenAPI document the daemon serves, by name: "v2" and each v3 group/version."""
    docs = {}
    v2 = daemon.request("GET", "/openapi/v2", headers={"Accept": "application/json"})
    assert v2.status_code == 200 and v2.headers["Content-Type"].startswith("application/json")
    docs["v2"] = v2.json()
    index = daemon.request("GET", "/openapi/v3").json()
    for name, entry in index["paths"].items():
        r = daemon.request("GET", entry["serverRelativeURL"])
        assert r.status_code == 200, (name, r.text)
        docs[name] = r.json()
    return docs


def test_every_document_is_valid_openapi_and_declares_its_parameters(daemon):
    from openapi_spec_validator import validate

    docs = documents(daemon)
    assert {"v2", "api/v1", "apis/kubevirt.io/v1", "apis/cdi.kubevirt.io/v1beta1", "apis/apiextensions.k8s.io/v1"} <= set(docs)
    for name, doc in docs.items():
        validate(doc)  # raises with the first error, naming the document's path
        for path, item in doc["paths"].items():
            declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), (name, path)
            for method in ("get", "put", "post", "patch", "delete"):
                if method not in item:
                    continue
                op = item[method]
                assert op["x-kubernetes-group-version-kind"]["kind"], (name, path, method)
                query = {p["name"] for p in op["parameters"] if p["in"] == "query"}
                if op["x-kubernetes-action"] == "list":
                    assert {"labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch", "timeoutSeconds"} <= query
                if method in ("put", "post", "patch"):
                    assert {"dryRun", "fieldManager", "fieldValidation"} <= query, (name, path, method)
                if op["x-kubernetes-action"] == "delete":
                    assert {"gracePeriodSeconds", "propagationPolicy", "dryRun"} <= query
                assert all(r["description"] for r in op["responses"].values())
    core = docs["api/v1"]["paths"]
    assert "patch" in core["/api/v1/namespaces/{namespace}/pods/{name}/status"]
    assert "get" in core["/api/v1/pods"]  # list across namespaces
    assert "patch" in docs["apis/kubevirt.io/v1"]["paths"]["/apis/kubevirt.io/v1/namespaces/{namespace}/virtualmachines/{name}/status"]
    gvks = {(g["group"], g["version"], g["kind"]) for d in docs["v2"]["definitions"].values()
            for g in d.get("x-kubernetes-group-version-kind", [])}
    assert {("kubevirt.io", "v1", "VirtualMachine"), ("", "v1", "Pod"), ("cdi.kubevirt.io", "v1beta1", "DataVolume")} <= gvks


def test_protobuf_v2_document_is_what_kubectl_reads(daemon):
    r = daemon.request("GET", "/openapi/v2", headers={"Accept": PROTOBUF_V2})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert r.content.startswith(b"\x0a\x032.0")  # Document.swagger = "2.0"
    # `explain --output plaintext-openapiv2` decodes that document with client-go and kube-openapi.
    out = daemon.kubectl("explain", "virtualmachines", "--output=plaintext-openapiv2").stdout
    assert "KIND:     VirtualMachine" in out and "VERSION:  kubevirt.io/v1" in out
    out = daemon.kubectl("explain", "pods", "--output=plaintext-openapiv2").stdout
    assert "KIND:     Pod" in out


def test_custom_resource_definitions_describe_our_kinds(daemon):
    out = daemon.kubectl("get", "crd").stdout.splitlines()
    assert out[0].split() == ["NAME", "CREATED", "AT"]
    assert sorted(line.split()[0] for line in out[1:]) == sorted(CUSTOM_KINDS)
    listed = json.loads(daemon.kubectl("get", "crd", "-o", "json").stdout)["items"]
    assert len(listed) == len(CUSTOM_KINDS)
    for crd in listed:
        group, kind, scope, short = CUSTOM_KINDS[crd["metadata"]["name"]]
        spec = crd["spec"]
        assert (spec["group"], spec["names"]["kind"], spec["scope"]) == (group, kind, scope)
        assert spec["names"]["listKind"] == kind + "List"
        assert spec["names"].get("shortNames") == short
        version = spec["versions"][0]
        assert version["served"] and version["storage"]
        assert version["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"]
        assert {c["type"]: c["status"] for c in crd["status"]["conditions"]} == {"NamesAccepted": "True", "Established": "True"}
    vm = yaml.safe_load(daemon.kubectl("get", "crd", "virtualmachines.kubevirt.io", "-o", "yaml").stdout)
    assert vm["apiVersion"] == "apiextensions.k8s.io/v1" and vm["kind"] == "CustomResourceDefinition"
    assert vm["spec"]["names"] == {"plural": "virtualmachines", "singular": "virtualmachine", "kind": "VirtualMachine",
                                   "listKind": "VirtualMachineList", "shortNames": ["vm", "vms"], "categories": ["all"]}
    assert vm["spec"]["versions"][0]["name"] == "v1"
    assert vm["spec"]["versions"][0]["subresources"] == {"status": {}}
    assert vm["status"]["storedVersions"] == ["v1"]
    assert "customresourcedefinitions" in daemon.kubectl("api-resources", "--api-group=apiextensions.k8s.io").stdout
    # Kubernetes' own kinds are not custom resources.
    missing = daemon.kubectl("get", "crd", "pods", check=False)
    assert missing.returncode != 0
    assert 'customresourcedefinitions.apiextensions.k8s.io "pods" not found' in missing.stderr


def test_custom_resource_definitions_are_read_only(daemon, tmp_path):
    crd = yaml.safe_load(daemon.kubectl("get", "crd", "virtualmachines.kubevirt.io", "-o", "yaml").stdout)
    crd["metadata"] = {"name": "widgets.example.com"}
    crd["spec"]["group"] = "example.com"
    crd["spec"]["names"] = {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"}
    del crd["status"]
    for args in (["create", "-f", write(tmp_path, "crd.yaml", crd)], ["delete", "crd", "virtualmachines.kubevirt.io"],
                 ["label", "crd", "virtualmachines.kubevirt.io", "a=b"]):
        result = daemon.kubectl(*args, check=False)
        assert result.returncode != 0, args
        assert "Error from server (MethodNotAllowed)" in result.stderr, result.stderr
        assert "built into SwiftVirt and read-only" in result.stderr
    r = daemon.request("PUT", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.kubevirt.io", body=crd)
    assert r.status_code == 405
    assert r.json()["kind"] == "Status" and r.json()["reason"] == "MethodNotAllowed"
    assert daemon.kubectl("get", "crd", "virtualmachines.kubevirt.io", "-o", "name").stdout.strip() == \
        "customresourcedefinition.apiextensions.k8s.io/virtualmachines.kubevirt.io"


@pytest.mark.parametrize("verb", ["create", "apply"])
def test_unserved_kind_says_no_matches_as_kubernetes_does(daemon, tmp_path, verb):
    manifests = [
        {"apiVersion": "instancetype.kubevirt.io/v1beta1", "kind": "VirtualMachineInstancetype",
         "metadata": {"name": "small"}, "spec": {"cpu": {"guest": 1}, "memory": {"guest": "128Mi"}}},
        {"apiVersion": "pool.kubevirt.io/v1alpha1", "kind": "VirtualMachinePool", "metadata": {"name": "pool"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}}},
        # A served group/version, an unserved kind: KubeVirt's operator CR.
        {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt", "metadata": {"name": "kubevirt", "namespace": "default"}, "spec": {}},
    ]
    for manifest in manifests:
        result = daemon.kubectl(verb, "-f", write(tmp_path, "m.yaml", manifest), check=False)
        assert result.returncode != 0
        version = manifest["apiVersion"]
        assert f'no matches for kind "{manifest["kind"]}" in version "{version}"' in result.stderr, result.stderr
        assert "failed to download openapi" not in result.stderr


def test_kind_list_goes_through_create_and_apply(daemon, tmp_path):
    items = [vm_manifest("listed-a"), vm_manifest("listed-b"),
             {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "listed-cm"}, "data": {"key": "value"}},
             {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "listed-secret"}, "type": "Opaque",
              "data": {"password": "c2VjcmV0"}}]
    path = write(tmp_path, "list.yaml", {"apiVersion": "v1", "kind": "List", "items": items})
    out = daemon.kubectl("create", "-f", path).stdout
    assert "virtualmachine.kubevirt.io/listed-a created" in out and "configmap/listed-cm created" in out
    assert "secret/listed-secret created" in out

    applied = [vm_manifest("applied-a"), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied-cm"},
                                          "data": {"key": "one"}}]
    path = write(tmp_path, "apply.yaml", {"apiVersion": "v1", "kind": "List", "items": applied})
    out = daemon.kubectl("apply", "-f", path).stdout
    assert "virtualmachine.kubevirt.io/applied-a created" in out and "configmap/applied-cm created" in out
    applied[0]["spec"]["runStrategy"] = "Manual"
    applied[1]["data"]["key"] = "two"
    path = write(tmp_path, "apply.yaml", {"apiVersion": "v1", "kind": "List", "items": applied})
    result = daemon.kubectl("apply", "-f", path)
    assert "virtualmachine.kubevirt.io/applied-a configured" in result.stdout
    assert "configmap/applied-cm configured" in result.stdout
    assert "warning" not in result.stderr.lower(), result.stderr
    vm = json.loads(daemon.kubectl("get", "vm", "applied-a", "-o", "json").stdout)
    assert vm["spec"]["runStrategy"] == "Manual"
    cm = json.loads(daemon.kubectl("get", "cm", "applied-cm", "-o", "json").stdout)
    assert cm["data"] == {"key": "two"}
    assert "unchanged" in daemon.kubectl("apply", "-f", path).stdout
    # Items of a List are still validated by the server: an unknown field is refused with its path.
    applied[0]["spec"]["bogusField"] = 1
    bad = daemon.kubectl("apply", "-f", write(tmp_path, "bad.yaml", {"apiVersion": "v1", "kind": "List", "items": applied}),
                         check=False)
    assert bad.returncode != 0
    assert "bogusField" in bad.stderr


# ---------------------------------------------------------------------------------------------------------
# Property-based fuzz: every operation of every document, a fixed seed and a bounded number of examples.

# Examples per operation, positive and negative; `make test` runs 6 (about a minute). Set
# SWIFTVIRT_FUZZ_EXAMPLES for a longer run.
FUZZ_EXAMPLES = int(os.environ.get("SWIFTVIRT_FUZZ_EXAMPLES", "6"))


def test_fuzz_every_operation_answers_without_server_errors(daemon):
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.generation.modes import GenerationMode

    docs = documents(daemon)
    session = requests.Session()
    session.verify = daemon.ca_path
    session.headers["Authorization"] = "Bearer " + daemon.token
    failures = []
    statuses = {}
    count = 0

    for name, doc in sorted(docs.items()):
        schema = schemathesis.openapi.from_dict(doc)
        for result in schema.get_all_operations():
            operation = result.ok()
            count += 1

            @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                                  operation.as_strategy(GenerationMode.NEGATIVE)))
            def run(case):
                query = case.query if isinstance(case.query, dict) else {}
                if str(query.get("watch", "")).lower() in ("true", "1", "yes"):
                    # A watch stays open until timeoutSeconds; keep each short.
                    query["timeoutSeconds"] = 1
                    case.query = query
                response = case.call(base_url=daemon.server, session=session, verify=daemon.ca_path, timeout=30)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{name}: {case.method} {case.formatted_path} query={case.query} "
                                    f"body={json.dumps(case.body, default=str)[:300]} -> {response.status_code} {response.text[:300]}")

            run()
    print("operations", count, "statuses", sorted(statuses.items()))
    assert count > 100, count
    # Some requests were valid enough to succeed (negative cases also send bad tokens: 401).
    assert sum(n for code, n in statuses.items() if 200 <= code < 300) > 100, statuses
    assert not failures, "\n".join(failures[:20])
    assert daemon.proc.poll() is None, "the daemon died during the fuzz"
    assert daemon.request("GET", "/healthz").status_code == 200
    assert daemon.kubectl("get", "crd", "-o", "name").stdout
