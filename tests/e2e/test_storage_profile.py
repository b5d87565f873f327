"""CDI's StorageProfiles on the real daemon, with the real kubectl: one per StorageClass, kept by the
StorageProfile controller (status from the provisioner's built-in claim property sets, or from the spec a
user edits), deleted with its class; the DataVolume controller completes `spec.storage` from the profile's
status, and a class whose profile has no claim property sets makes a DataVolume without access modes
report CDI's ErrClaimNotValid."""
import json

import pytest

from test_vms import run_cluster, wait_for

DVS = "/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes"
PROFILES = "/apis/cdi.kubevirt.io/v1beta1/storageprofiles"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
CLASSES = "/apis/storage.k8s.io/v1/storageclasses"


@pytest.fixture
def cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-sp-")


def get(d, path):
    r = d.request("GET", path)
    return r.json() if r.status_code == 200 else None


def profile_sets(d, name):
    return ((get(d, f"{PROFILES}/{name}") or {}).get("status") or {}).get("claimPropertySets")


def blank_dv(name, storage):
    return {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": name},
            "spec": {"source": {"blank": {}}, "storage": dict(storage, resources={"requests": {"storage": "32Mi"}})}}


def bound_condition(d, name):
    status = (get(d, f"{DVS}/{name}") or {}).get("status") or {}
    return next((c for c in status.get("conditions", []) if c["type"] == "Bound"), None)


def test_kubectl_lists_a_profile_per_class_with_its_claim_property_sets(cluster):
    d = cluster
    wait_for(lambda: profile_sets(d, "local") and profile_sets(d, "shared"), 60, "both profiles to get their status")
    table = d.kubectl("get", "storageprofile").stdout.splitlines()
    assert table[0].split() == ["NAME", "AGE"]
    assert sorted(line.split()[0] for line in table[1:]) == ["local", "shared"]

    listed = json.loads(d.kubectl("get", "storageprofiles", "-o", "json").stdout)["items"]
    by_name = {item["metadata"]["name"]: item for item in listed}
    local, shared = by_name["local"], by_name["shared"]
    assert local["status"]["storageClass"] == "local"
    assert local["status"]["provisioner"] == "swiftvirt.io/local"
    assert local["status"]["claimPropertySets"] == [
        {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}, {"accessModes": ["ReadWriteOnce"], "volumeMode": "Block"}]
    assert shared["status"]["provisioner"] == "swiftvirt.io/shared"
    assert shared["status"]["claimPropertySets"][0] == {"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}
    assert local["status"]["cloneStrategy"] == "copy"
    assert local["status"]["dataImportCronSourceFormat"] == "pvc"
    assert local["metadata"]["ownerReferences"][0]["kind"] == "StorageClass"

    # kubectl knows the kind from discovery and OpenAPI: cluster-scoped, explained, and custom columns work.
    resources = d.kubectl("api-resources", "--api-group=cdi.kubevirt.io", "--namespaced=false", "-o", "name").stdout.split()
    assert "storageprofiles.cdi.kubevirt.io" in resources
    assert "KIND:       StorageProfile" in d.kubectl("explain", "storageprofile").stdout
    columns = d.kubectl("get", "storageprofile", "local", "-o",
                        "custom-columns=NAME:.metadata.name,MODES:.status.claimPropertySets[*].volumeMode").stdout.splitlines()
    assert columns[1].split() == ["local", "Filesystem,Block"]


def test_an_edited_profile_gives_new_datavolumes_block_claims(cluster):
    d = cluster
    wait_for(lambda: profile_sets(d, "local"), 60, "the local profile's status")
    d.kubectl("patch", "storageprofile", "local", "--type=merge",
              "-p", json.dumps({"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Block"}]}}))
    wait_for(lambda: profile_sets(d, "local") == [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Block"}], 30,
             "the status to reflect the edited spec")

    d.kubectl("apply", "-f", "-", input=json.dumps(blank_dv("block-disk", {})))
    wait_for(lambda: get(d, f"{PVCS}/block-disk"), 30, "the DataVolume's claim")
    claim = get(d, f"{PVCS}/block-disk")
    assert claim["spec"]["storageClassName"] == "local"
    assert claim["spec"]["volumeMode"] == "Block"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]

    # A spec that names an access mode but no volume mode is refused with the field to fix.
    refused = d.kubectl("patch", "storageprofile", "local", "--type=merge",
                        "-p", json.dumps({"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteOnce"]}]}}), check=False)
    assert refused.returncode != 0
    assert "spec.claimPropertySets[0].volumeMode" in refused.stderr


def test_a_class_the_profiles_do_not_know_needs_access_modes_and_its_profile_goes_with_it(cluster):
    d = cluster
    nfs = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "nfs"},
           "provisioner": "example.com/nfs", "volumeBindingMode": "Immediate"}
    d.kubectl("apply", "-f", "-", input=json.dumps(nfs))
    wait_for(lambda: ((get(d, f"{PROFILES}/nfs") or {}).get("status") or {}).get("provisioner") == "example.com/nfs", 30,
             "the nfs profile")
    assert profile_sets(d, "nfs") is None

    d.kubectl("apply", "-f", "-", input=json.dumps(blank_dv("nfs-disk", {"storageClassName": "nfs"})))
    wait_for(lambda: (bound_condition(d, "nfs-disk") or {}).get("reason") == "ErrClaimNotValid", 30, "ErrClaimNotValid")
    assert bound_condition(d, "nfs-disk")["message"].startswith("no accessMode specified in StorageProfile nfs")
    assert get(d, f"{DVS}/nfs-disk")["status"]["phase"] == "Pending"
    assert get(d, f"{PVCS}/nfs-disk") is None
    events = d.kubectl("get", "events", "--field-selector", "reason=ErrClaimNotValid", "-o", "json").stdout
    assert "no accessMode specified in StorageProfile nfs" in events

    # Claim property sets added to the profile let the waiting DataVolume make its claim.
    d.kubectl("patch", "storageprofile", "nfs", "--type=merge",
              "-p", json.dumps({"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}]}}))
    wait_for(lambda: get(d, f"{PVCS}/nfs-disk"), 30, "the claim once the profile has claim property sets")
    assert get(d, f"{PVCS}/nfs-disk")["spec"]["accessModes"] == ["ReadWriteMany"]

    d.kubectl("delete", "storageclass", "nfs")
    wait_for(lambda: get(d, f"{PROFILES}/nfs") is None, 30, "the profile to go with its class")


def labelled_claim(name, class_name, **spec):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "labels": {"cdi.kubevirt.io/applyStorageProfile": "true"}},
            "spec": dict(spec, storageClassName=class_name, resources={"requests": {"storage": "32Mi"}})}


def test_a_pvc_labelled_apply_storage_profile_gets_its_missing_modes_from_the_profile(cluster):
    d = cluster
    d.kubectl("apply", "-f", "-", input=json.dumps(labelled_claim("from-profile", "shared")))
    d.kubectl("apply", "-f", "-", input=json.dumps(labelled_claim("block-from-profile", "shared", volumeMode="Block")))
    wait_for(lambda: (get(d, f"{PVCS}/from-profile") or {}).get("status", {}).get("phase") == "Bound", 30, "the labelled claim to bind")
    wait_for(lambda: (get(d, f"{PVCS}/block-from-profile") or {}).get("status", {}).get("phase") == "Bound", 30, "the Block claim to bind")
    claim = json.loads(d.kubectl("get", "pvc", "from-profile", "-o", "json").stdout)
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["volumeMode"] == "Filesystem"
    block = json.loads(d.kubectl("get", "pvc", "block-from-profile", "-o", "json").stdout)
    assert block["spec"]["accessModes"] == ["ReadWriteMany"]
    assert block["spec"]["volumeMode"] == "Block"

    # A class whose profile has no claim property sets: the claim stays Pending with the DataVolume's error.
    nfs = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "nfs"},
           "provisioner": "example.com/nfs", "volumeBindingMode": "Immediate"}
    d.kubectl("apply", "-f", "-", input=json.dumps(nfs))
    d.kubectl("apply", "-f", "-", input=json.dumps(labelled_claim("nfs-claim", "nfs")))

    def refused():
        events = json.loads(d.kubectl("get", "events", "--field-selector", "involvedObject.name=nfs-claim,reason=ErrClaimNotValid",
                                      "-o", "json").stdout)["items"]
        return [e["message"] for e in events]
    wait_for(refused, 30, "the ErrClaimNotValid event on the claim")
    assert refused()[0].startswith("no accessMode specified in StorageProfile nfs; set spec.accessModes")
    assert json.loads(d.kubectl("get", "pvc", "nfs-claim", "-o", "json").stdout)["status"]["phase"] == "Pending"
