"""The streams of a running VM: the serial console and VNC websockets as KubeVirt serves them, `swiftvirt
console` and `swiftvirt vnc`, and exec into the launcher pod with swiftvirt, kubectl and the Python client."""
import json
import socket
import ssl
import subprocess
import time

import websocket

from test_vms import SUB, VMIS, VMS, cluster, phase, vm, wait_for  # noqa: F401 (cluster is a fixture)

VMI_SUB = "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances"


def open_ws(d, path, protocols=("plain.kubevirt.io",), token=True):
    url = d.server.replace("https://", "wss://") + path
    header = [f"Authorization: Bearer {d.token}"] if token else []
    return websocket.create_connection(url, header=header, subprotocols=list(protocols),
                                       sslopt={"ca_certs": d.ca_path, "cert_reqs": ssl.CERT_REQUIRED}, timeout=30)


def read_until(ws, marker, timeout):
    """Reads console bytes until `marker` shows up; returns everything read."""
    seen = b""
    deadline = time.time() + timeout
    while marker not in seen:
        if time.time() > deadline:
            raise AssertionError(f"no {marker!r} on the console within {timeout}s; last output: {seen[-400:]!r}")
        ws.settimeout(max(0.1, deadline - time.time()))
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            continue
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise AssertionError(f"the console closed before {marker!r}; output: {seen[-400:]!r}")
        seen += data
    return seen


def closed(ws):
    """True once the server has closed the websocket (reads what arrives meanwhile, for a second)."""
    try:
        ws.settimeout(1)
        opcode, _ = ws.recv_data(control_frame=True)
        return opcode == websocket.ABNF.OPCODE_CLOSE
    except websocket.WebSocketTimeoutException:
        return False
    except (websocket.WebSocketConnectionClosedException, OSError):
        return True


def launcher_pod(d, name):
    pods = d.request("GET", "/api/v1/namespaces/default/pods").json()["items"]
    running = [p for p in pods if p["metadata"]["name"].startswith(f"virt-launcher-{name}-")
               and p.get("status", {}).get("phase") == "Running"]
    assert running, f"no running launcher pod for {name}"
    return running[0]["metadata"]["name"]


def test_console_vnc_and_exec_of_a_running_vm(cluster):
    d = cluster
    assert d.request("POST", VMS, vm("cons", hostname="cons-host")).status_code == 201
    wait_for(lambda: phase(d, "cons") == "Running", 90, "the VMI to run")
    console = f"{VMI_SUB}/cons/console"

    # Interactive console over the websocket: login prompt with the cloud-init hostname, log in, run a command.
    ws = open_ws(d, console)
    assert ws.getsubprotocol() == "plain.kubevirt.io"
    deadline = time.time() + 120
    while True:
        ws.send_binary(b"\r")
        try:
            read_until(ws, b"cons-host login: ", 5)
            break
        except AssertionError:
            if time.time() > deadline:
                raise
    ws.send_binary(b"root\r")
    read_until(ws, b"Password: ", 20)
    ws.send_binary(b"swiftvirt\r")
    read_until(ws, b"# ", 20)
    ws.send_binary(b"echo marker-$((6*7)); hostname\r")
    out = read_until(ws, b"marker-42", 20)
    out += read_until(ws, b"cons-host", 20)
    ws.send_binary(b"exit\r")

    # A second console takes over; the first one is closed.
    ws2 = open_ws(d, console)

    wait_for(lambda: closed(ws), 20, "the first console to be closed when a second one connects")
    ws2.close()

    # `swiftvirt console` with piped input prints the guest's answer and returns.
    result = d.swiftvirt("console", "cons", "--linger", "3", input="\r", timeout=60)
    assert "cons-host login:" in result.stdout, result.stdout[-500:]

    # VNC: the websocket carries QEMU's RFB stream, which starts with the protocol version.
    vnc = open_ws(d, f"{VMI_SUB}/cons/vnc")
    opcode, data = vnc.recv_data()
    assert data.startswith(b"RFB 003.008\n"), data
    vnc.close()
    # `swiftvirt vnc --proxy-only` serves it on a local port.
    proxy = subprocess.Popen([d.bin("swiftvirt"), "vnc", "cons", "--proxy-only"], env=d.env(), stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(proxy.stdout.readline())["port"]
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            assert s.recv(12) == b"RFB 003.008\n"
    finally:
        proxy.kill()
        proxy.wait()

    # exec into the launcher pod: qemu-img is there, output and exit codes come back.
    pod = launcher_pod(d, "cons")
    info = d.swiftvirt("exec", pod, "--", "qemu-img", "info", "-U", "--output=json", "/var/run/swiftvirt/pod/disks/root.qcow2")
    assert json.loads(info.stdout)["format"] == "qcow2"
    failed = d.swiftvirt("exec", pod, "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 3", check=False)
    assert (failed.returncode, failed.stdout, failed.stderr) == (3, "to-out\n", "to-err\n")
    assert "qemu-img version" in d.kubectl("exec", pod, "--", "qemu-img", "--version").stdout
    assert d.kubectl("exec", pod, "--", "sh", "-c", "exit 4", check=False).returncode == 4
    # stdin reaches the command (v5 marks its end).
    assert d.swiftvirt("exec", "-i", pod, "--", "tr", "a-z", "A-Z", input="piped in\n").stdout == "PIPED IN\n"
    assert d.kubectl("exec", "-i", pod, "--", "cat", input="through kubectl\n").stdout == "through kubectl\n"

    from kubernetes import client as kclient, config as kconfig
    from kubernetes.stream import stream
    api = kclient.CoreV1Api(kconfig.new_client_from_config(config_file=d.kubeconfig))
    answer = stream(api.connect_get_namespaced_pod_exec, pod, "default", command=["qemu-nbd", "--version"],
                    stderr=True, stdin=False, stdout=True, tty=False)
    assert "qemu-nbd" in answer

    # Stopping the VM ends an open console.
    ws3 = open_ws(d, console)
    assert d.request("PUT", f"{SUB}/cons/stop").status_code == 202

    wait_for(lambda: closed(ws3), 60, "the console to end when the VM stops")


def test_streams_refuse_with_a_status_that_says_why(cluster):
    d = cluster
    # A VMI that cannot be scheduled never runs: its console says so, and no websocket opens.
    assert d.request("POST", VMS, vm("huge", memory="4000Gi")).status_code == 201
    wait_for(lambda: phase(d, "huge") in ("Scheduling", "Pending"), 30, "the VMI to wait for a node")
    r = d.request("GET", f"{VMI_SUB}/huge/console")
    assert r.status_code == 400, r.text
    assert "not Running" in r.json()["message"]
    # A refused upgrade is answered like any request: a Status that says why.
    try:
        open_ws(d, f"{VMI_SUB}/huge/console")
        raise AssertionError("a websocket opened to a VMI that is not running")
    except websocket.WebSocketBadStatusException as error:
        assert error.status_code == 400
        assert "not Running" in json.loads(error.resp_body)["message"]
    # `swiftvirt console` waits for a VMI that does not run yet, and says so.
    try:
        subprocess.run([d.bin("swiftvirt"), "console", "huge", "--timeout", "1"], env=d.env(), input=b"",
                       capture_output=True, timeout=5)
        raise AssertionError("swiftvirt console returned for a VMI that cannot run")
    except subprocess.TimeoutExpired as waited:
        assert b"VMI is Scheduling, not Running yet; waiting up to 1 min" in (waited.stderr or b""), waited.stderr
    assert d.request("GET", f"{VMI_SUB}/missing/vnc").status_code == 404
    result = d.swiftvirt("console", "missing", check=False, input="")
    assert result.returncode != 0 and 'virtualmachineinstances.kubevirt.io "missing" not found' in result.stderr
    result = d.swiftvirt("exec", "no-such-pod", "--", "true", check=False)
    assert result.returncode != 0 and 'pods "no-such-pod" not found' in result.stderr
    result = d.swiftvirt("exec", "no-such-pod", check=False)
    assert result.returncode != 0 and "give the command after --" in result.stderr
    # Without a token nothing upgrades.
    try:
        open_ws(d, f"{VMI_SUB}/huge/console", token=False)
        raise AssertionError("a websocket opened without a token")
    except websocket.WebSocketBadStatusException as error:
        assert error.status_code == 401
        assert json.loads(error.resp_body)["reason"] == "Unauthorized"
