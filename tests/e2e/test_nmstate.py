"""nmstate on the node: a NodeNetworkConfigurationPolicy makes a Linux bridge over a veth whose peer sits
in a test host, with an address of the node's on it; a NetworkAttachmentDefinition puts a VM on that
bridge; the policy's enactment, its status and the NodeNetworkState say what happened. A policy that
would cut the node off from the API server is rolled back and reported Failing; one the kernel refuses
is rolled back too."""
import json
import os
import subprocess
import uuid

import pytest
import yaml

from test_multus import LanHost, bridged_vm, create_nad, probe_script, sh, links
from test_network import pod_namespaces
from test_vms import VMS, run_cluster, serial_log, wait_for

POLICIES = "/apis/nmstate.io/v1/nodenetworkconfigurationpolicies"
ENACTMENTS = "/apis/nmstate.io/v1beta1/nodenetworkconfigurationenactments"
STATES = "/apis/nmstate.io/v1beta1/nodenetworkstates"
PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture
def nmstate_cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-nmstate-")


def condition(obj, kind):
    for c in (obj or {}).get("status", {}).get("conditions", []):
        if c["type"] == kind:
            return c
    return None


def get(d, path):
    r = d.request("GET", path)
    return r.json() if r.status_code == 200 else None


def policy(name, interfaces, selector=None):
    body = {"apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy", "metadata": {"name": name},
            "spec": {"desiredState": {"interfaces": interfaces}}}
    if selector is not None:
        body["spec"]["nodeSelector"] = selector
    return body


def finished(d, name, generation=None):
    enactment = get(d, f"{ENACTMENTS}/node-a.{name}")
    if not enactment or (generation and enactment["status"].get("policyGeneration") != generation):
        return None
    for kind in ("Available", "Failing"):
        c = condition(enactment, kind)
        if c and c["status"] == "True":
            return enactment
    return None


def test_a_policy_makes_a_bridge_that_a_vm_and_a_test_host_share(nmstate_cluster, tmp_path):
    d = nmstate_cluster
    bridge = f"svnm{uuid.uuid4().hex[:6]}"
    host = LanHost("n", "192.168.91.1")
    name = f"{bridge}-policy"
    try:
        # Applied with kubectl, as a user would.
        path = os.path.join(tmp_path, "nncp.yaml")
        with open(path, "w") as f:
            body = policy(name, [
                {"name": bridge, "type": "linux-bridge", "state": "up",
                 "ipv4": {"enabled": True, "address": [{"ip": "192.168.91.254", "prefix-length": 24}]},
                 "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": host.host_side}]}},
            ], selector={"kubernetes.io/hostname": "node-a"})
            # A static route through the test host, as policies for a storage or migration network have.
            body["spec"]["desiredState"]["routes"] = {"config": [
                {"destination": "192.168.191.0/24", "next-hop-address": "192.168.91.1", "next-hop-interface": bridge, "metric": 150}]}
            yaml.safe_dump(body, f)
        d.kubectl("apply", "-f", path)
        wait_for(lambda: finished(d, name), 60, "the policy's enactment")
        enactment = finished(d, name)
        assert condition(enactment, "Available")["status"] == "True", enactment["status"]
        assert condition(enactment, "Available")["reason"] == "SuccessfullyConfigured"
        assert enactment["metadata"]["labels"] == {"nmstate.io/node": "node-a", "nmstate.io/policy": name}
        wait_for(lambda: condition(get(d, f"{POLICIES}/{name}"), "Available")["status"] == "True", 30, "the policy's status")
        assert condition(get(d, f"{POLICIES}/{name}"), "Available")["message"] == "1/1 nodes successfully configured"
        out = d.kubectl("get", "nncp", name).stdout
        assert "True" in out and "SuccessfullyConfigured" in out, out
        assert "Available" in d.kubectl("get", "nnce").stdout

        # The node has it, and its NodeNetworkState shows it.
        master = json.loads(sh("ip", "-j", "link", "show", host.host_side).stdout)[0].get("master")
        assert master == bridge
        assert "192.168.91.254/24" in sh("ip", "-o", "addr", "show", "dev", bridge).stdout
        route = sh("ip", "-o", "route", "show", "192.168.191.0/24").stdout
        assert f"via 192.168.91.1 dev {bridge}" in route and "metric 150" in route, route

        def state_shows_bridge():
            state = get(d, f"{STATES}/node-a")
            interfaces = {i["name"]: i for i in state["status"]["currentState"]["interfaces"]}
            entry = interfaces.get(bridge)
            return entry and entry["type"] == "linux-bridge" and {"name": host.host_side} in entry["bridge"]["port"] and \
                {"ip": "192.168.91.254", "prefix-length": 24} in entry["ipv4"]["address"]
        wait_for(state_shows_bridge, 90, "the NodeNetworkState to show the bridge")
        running = get(d, f"{STATES}/node-a")["status"]["currentState"]["routes"]["running"]
        assert {"destination": "192.168.191.0/24", "next-hop-address": "192.168.91.1", "next-hop-interface": bridge, "metric": 150,
                "table-id": 254} in running, running
        assert host.ping("192.168.91.254")

        # A VM bridged onto it reaches the test host and the node's address, and the test host the VM.
        create_nad(d, "nm-lan", {"cniVersion": "1.0.0", "name": "nm-lan", "type": "bridge", "bridge": bridge,
                                 "ipam": {"type": "static", "addresses": [{"address": "192.168.91.10/24"}]}})
        assert d.request("POST", VMS, bridged_vm("nm-a", "nm-lan", probe_script({"host-counter": "http://192.168.91.1:8000/counter"}))).status_code == 201
        wait_for(lambda: "host-counter:" in serial_log(d, "nm-a"), 240, "the guest to fetch the test host's /counter")
        assert "host-counter: 4242" in serial_log(d, "nm-a")
        assert wait_for(lambda: (host.fetch("http://192.168.91.10/counter") or "").isdigit(), 60, "the test host to fetch the guest's /counter")
        d.request("DELETE", f"{VMS}/nm-a")
        wait_for(lambda: not d.request("GET", PODS).json()["items"], 90, "the pod to go")

        # A new generation removes the bridge again; the test host's veth is free.
        body = get(d, f"{POLICIES}/{name}")
        body["spec"]["desiredState"] = {"interfaces": [{"name": bridge, "type": "linux-bridge", "state": "absent"}],
                                        "routes": {"config": [{"destination": "192.168.191.0/24", "state": "absent"}]}}
        assert d.request("PUT", f"{POLICIES}/{name}", body).status_code == 200
        generation = get(d, f"{POLICIES}/{name}")["metadata"]["generation"]
        wait_for(lambda: finished(d, name, generation), 60, "the second generation's enactment")
        assert condition(finished(d, name, generation), "Available")["status"] == "True", finished(d, name, generation)["status"]
        assert bridge not in links()
        assert json.loads(sh("ip", "-j", "link", "show", host.host_side).stdout)[0].get("master") is None
        assert sh("ip", "-o", "route", "show", "192.168.191.0/24").stdout == ""

        # Deleting the policy deletes its enactment.
        assert d.request("DELETE", f"{POLICIES}/{name}").status_code == 200
        wait_for(lambda: get(d, f"{ENACTMENTS}/node-a.{name}") is None, 30, "the enactment to go")
    finally:
        host.remove()
        sh("ip", "link", "del", bridge, check=False)
    assert pod_namespaces() == []


def test_a_policy_for_other_nodes_is_not_applied(nmstate_cluster):
    d = nmstate_cluster
    name = f"svnx{uuid.uuid4().hex[:6]}"
    assert d.request("POST", POLICIES, policy(name, [{"name": name, "type": "dummy", "state": "up"}],
                                               selector={"kubernetes.io/hostname": "some-other-node"})).status_code == 201
    wait_for(lambda: condition(get(d, f"{POLICIES}/{name}"), "Available") is not None, 30, "the policy's status")
    assert get(d, f"{ENACTMENTS}/node-a.{name}") is None
    assert name not in links()
    d.request("DELETE", f"{POLICIES}/{name}")


def test_a_node_labelled_later_gets_the_policy_its_labels_now_pick(nmstate_cluster):
    d = nmstate_cluster
    name = f"svnl{uuid.uuid4().hex[:6]}"
    label = "swiftvirt.test/bridges"
    try:
        assert d.request("POST", POLICIES, policy(name, [{"name": name, "type": "linux-bridge", "state": "up"}],
                                                   selector={label: "yes"})).status_code == 201
        wait_for(lambda: condition(get(d, f"{POLICIES}/{name}"), "Available") is not None, 30, "the policy's status")
        assert get(d, f"{ENACTMENTS}/node-a.{name}") is None and name not in links()

        # Labelling the node (kubectl label node node-a swiftvirt.test/bridges=yes) makes the policy its own.
        r = d.request("PATCH", "/api/v1/nodes/node-a", {"metadata": {"labels": {label: "yes"}}}, content_type="application/merge-patch+json")
        assert r.status_code == 200, r.text
        enactment = wait_for(lambda: finished(d, name), 60, "the enactment after the label") and finished(d, name)
        assert condition(enactment, "Available")["status"] == "True", enactment
        assert name in links("bridge")

        # Taking the label away drops the enactment; the bridge stays (as nmstate leaves it).
        r = d.request("PATCH", "/api/v1/nodes/node-a", {"metadata": {"labels": {label: None}}}, content_type="application/merge-patch+json")
        assert r.status_code == 200, r.text
        wait_for(lambda: get(d, f"{ENACTMENTS}/node-a.{name}") is None, 60, "the enactment to go with the label")
        assert name in links("bridge")
    finally:
        d.request("DELETE", f"{POLICIES}/{name}")
        sh("ip", "link", "del", name, check=False)


def test_a_policy_that_cuts_the_node_off_is_rolled_back():
    # The API server listens on an address of a veth of its own, which the policy takes away.
    device = f"svap{uuid.uuid4().hex[:6]}"
    sh("ip", "link", "add", device, "type", "veth", "peer", "name", device + "p")
    sh("ip", "addr", "add", "10.99.77.1/32", "dev", device)
    sh("ip", "link", "set", device, "up")
    sh("ip", "link", "set", device + "p", "up")
    cluster = run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-cutoff-", listen="10.99.77.1:0")
    try:
        d = next(cluster)
        name = "cut-off"
        assert d.request("POST", POLICIES, policy(name, [{"name": device, "type": "veth", "state": "up", "ipv4": {"enabled": False}}])).status_code == 201
        wait_for(lambda: finished(d, name), 120, "the policy's enactment")
        enactment = finished(d, name)
        failing = condition(enactment, "Failing")
        assert failing["status"] == "True" and failing["reason"] == "FailedToConfigure", enactment["status"]
        assert "lost the API server" in failing["message"] and "rolled back to the previous state" in failing["message"], failing
        assert condition(enactment, "Available")["status"] == "False"
        # The address is back, and with it the API server.
        assert "10.99.77.1/32" in sh("ip", "-o", "addr", "show", "dev", device).stdout
        wait_for(lambda: condition(get(d, f"{POLICIES}/{name}"), "Degraded") and
                 condition(get(d, f"{POLICIES}/{name}"), "Degraded")["status"] == "True", 30, "the policy to be Degraded")
        assert condition(get(d, f"{POLICIES}/{name}"), "Degraded")["message"] == "1/1 nodes failed to configure"

        # What the kernel refuses (a VLAN: this node has no 802.1q) is rolled back the same way, the
        # bridge it made first included.
        bridge = f"svnv{uuid.uuid4().hex[:6]}"
        refused = "kernel-refuses"
        assert d.request("POST", POLICIES, policy(refused, [
            {"name": bridge, "type": "linux-bridge", "state": "up"},
            {"name": bridge[:10] + ".7", "type": "vlan", "state": "up", "vlan": {"base-iface": bridge, "id": 7}},
        ])).status_code == 201
        wait_for(lambda: finished(d, refused), 60, "the second policy's enactment")
        failing = condition(finished(d, refused), "Failing")
        if failing["status"] != "True":
            # A kernel with 802.1q takes it: then the policy is simply Available.
            assert condition(finished(d, refused), "Available")["status"] == "True"
        else:
            assert "rolled back" in failing["message"], failing
            assert bridge not in links(), "the bridge the failed policy made is gone"

        # A route the kernel refuses (its next hop is on none of the bridge's subnets): rolled back, the
        # bridge made for it and the route added before it (on a link the node had already) included.
        bridge = f"svnr{uuid.uuid4().hex[:6]}"
        body = policy("route-refused", [{"name": bridge, "type": "linux-bridge", "state": "up",
                                         "ipv4": {"enabled": True, "address": [{"ip": "192.168.92.254", "prefix-length": 24}]}}])
        body["spec"]["desiredState"]["routes"] = {"config": [
            {"destination": "192.168.192.0/24", "next-hop-interface": device},
            {"destination": "192.168.193.0/24", "next-hop-address": "172.31.255.1", "next-hop-interface": bridge}]}
        assert d.request("POST", POLICIES, body).status_code == 201
        wait_for(lambda: finished(d, "route-refused"), 60, "the route policy's enactment")
        failing = condition(finished(d, "route-refused"), "Failing")
        assert failing["status"] == "True" and "route add 192.168.193.0/24" in failing["message"], failing
        assert "rolled back to the previous state" in failing["message"], failing
        assert bridge not in links()
        assert sh("ip", "-o", "route", "show", "192.168.192.0/24").stdout == ""
    finally:
        for _ in cluster:
            pass
        sh("ip", "link", "del", device, check=False)
