"""Optimistic concurrency, watch resume, persistence across kill -9, authentication."""
import json
import threading
import time

import requests

from conftest import vm_manifest

VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"


def test_stale_update_is_409(daemon):
    created = daemon.request("POST", VMS, vm_manifest("cas")).json()
    rv = created["metadata"]["resourceVersion"]
    created["spec"]["runStrategy"] = "Manual"
    first = daemon.request("PUT", VMS + "/cas", created)
    assert first.status_code == 200
    assert first.json()["metadata"]["resourceVersion"] != rv
    created["spec"]["runStrategy"] = "Always"
    stale = daemon.request("PUT", VMS + "/cas", created)
    assert stale.status_code == 409
    body = stale.json()
    assert body["kind"] == "Status" and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    assert daemon.request("GET", VMS + "/cas").json()["spec"]["runStrategy"] == "Manual"


def test_watch_resume_sees_every_event_exactly_once(daemon):
    start_rv = daemon.request("GET", VMS).json()["metadata"]["resourceVersion"]
    expected = []
    for i in range(20):
        obj = daemon.request("POST", VMS, vm_manifest(f"w{i}")).json()
        expected.append(("ADDED", f"w{i}", obj["metadata"]["resourceVersion"]))
    for i in range(0, 20, 2):
        obj = daemon.request("PATCH", VMS + f"/w{i}", {"metadata": {"labels": {"x": "y"}}},
                             content_type="application/merge-patch+json").json()
        expected.append(("MODIFIED", f"w{i}", obj["metadata"]["resourceVersion"]))
    # Resume from the middle: exactly the later events, in order.
    middle_rv = expected[9][2]
    for rv, wanted in ((start_rv, expected), (middle_rv, expected[10:])):
        got = []
        with requests.get(daemon.server + VMS, params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "3"},
                          headers={"Authorization": "Bearer " + daemon.token}, verify=daemon.ca_path, stream=True,
                          timeout=30) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                event = json.loads(line)
                got.append((event["type"], event["object"]["metadata"]["name"], event["object"]["metadata"]["resourceVersion"]))
                if len(got) == len(wanted):
                    break
        assert got == wanted
    rvs = [int(e[2]) for e in expected]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs)


def test_data_survives_kill_9(daemon):
    for i in range(5):
        assert daemon.request("POST", VMS, vm_manifest(f"durable{i}")).status_code == 201
    before = daemon.request("GET", VMS).json()
    daemon.kill9()
    daemon.start()
    after = daemon.request("GET", VMS).json()
    assert [i["metadata"]["name"] for i in after["items"]] == [i["metadata"]["name"] for i in before["items"]]
    assert [i["metadata"]["resourceVersion"] for i in after["items"]] == [i["metadata"]["resourceVersion"] for i in before["items"]]
    assert int(after["metadata"]["resourceVersion"]) >= int(before["metadata"]["resourceVersion"])
    # The revision keeps counting up after restart.
    created = daemon.request("POST", VMS, vm_manifest("after-restart")).json()
    assert int(created["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])


def test_requests_without_token_are_401(daemon):
    response = daemon.request("GET", VMS, token=False)
    assert response.status_code == 401
    assert response.json()["reason"] == "Unauthorized"
    response = daemon.request("GET", VMS, token=False, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert daemon.request("GET", "/version", token=False).json()["minor"] == "32"


def test_finalizers_hold_deletion_until_removed(daemon):
    vm = vm_manifest("held")
    vm["metadata"]["finalizers"] = ["example.com/hold"]
    daemon.request("POST", VMS, vm)
    deleted = daemon.request("DELETE", VMS + "/held")
    assert deleted.status_code == 200
    still = daemon.request("GET", VMS + "/held").json()
    assert still["metadata"]["deletionTimestamp"]
    daemon.request("PATCH", VMS + "/held", {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
    assert daemon.request("GET", VMS + "/held").status_code == 404


def test_owner_deletion_collects_dependents(daemon):
    owner = daemon.request("POST", VMS, vm_manifest("owner")).json()
    vmis = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
    vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
           "metadata": {"name": "owner", "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                                              "name": "owner", "uid": owner["metadata"]["uid"],
                                                              "controller": True, "blockOwnerDeletion": True}]},
           "spec": vm_manifest()["spec"]["template"]["spec"]}
    assert daemon.request("POST", vmis, vmi).status_code == 201
    daemon.request("DELETE", VMS + "/owner", {"propagationPolicy": "Foreground"})
    deadline = time.time() + 10
    while time.time() < deadline and daemon.request("GET", VMS + "/owner").status_code != 404:
        time.sleep(0.1)
    assert daemon.request("GET", VMS + "/owner").status_code == 404
    assert daemon.request("GET", vmis + "/owner").status_code == 404


def test_sigterm_with_an_open_watch_ends_the_watch_and_exits_cleanly(daemon):
    assert daemon.request("POST", VMS, vm_manifest("before-stop")).status_code == 201
    lines = []
    with requests.get(daemon.server + VMS, params={"watch": "1"}, headers={"Authorization": "Bearer " + daemon.token},
                      verify=daemon.ca_path, stream=True, timeout=30) as response:
        assert response.status_code == 200
        reader = response.iter_lines()
        lines.append(json.loads(next(reader)))
        started = time.monotonic()
        daemon.proc.terminate()
        # The server ends the watch (a client resumes from the last resourceVersion it saw) and then exits.
        try:
            for line in reader:
                lines.append(line)
        except requests.exceptions.ChunkedEncodingError:
            pass
        ended = time.monotonic() - started
    code = daemon.proc.wait(10)
    assert lines[0]["type"] == "ADDED" and lines[0]["object"]["metadata"]["name"] == "before-stop"
    assert ended < 5, f"the watch stayed open {ended:.1f} s after SIGTERM"
    assert code == 0, open(daemon.log_path).read()[-2000:]
