"""`swiftvirt dv wait` and watching DataVolumes, on the real daemon with the real kubectl: a loopback HTTP
server sends the test guest slowly, so the import is seen in progress; `swiftvirt dv wait` follows it to
Succeeded (exit 0) with a progress line per change (a redrawn bar on a terminal), fails with the HTTP status
on a 404 and with its phase at its timeout; `kubectl get dv -w` and `swiftvirt get dv -w` print a row per
change of PHASE/PROGRESS."""
import functools
import http.server
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import KUBECTL
from test_datavolume import FlakyHandler, cluster, images  # noqa: F401 (fixtures)
from test_vms import GUEST, wait_for

DVS = "/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes"


class SlowHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files in 256 KiB pieces, a quarter of a second apart (the guest's qcow2 takes about 11 s), so
    an import is in progress long enough for the node agent to report it several times."""

    def copyfile(self, source, outputfile):
        while True:
            piece = source.read(256 * 1024)
            if not piece:
                return
            outputfile.write(piece)
            outputfile.flush()
            time.sleep(0.25)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_images():
    root = tempfile.mkdtemp(prefix="swiftvirt-dv-slow-")
    shutil.copy(f"{GUEST}/disk.qcow2", os.path.join(root, "disk.qcow2"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SlowHandler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    shutil.rmtree(root, ignore_errors=True)


def http_dv(name, url):
    # The shared class binds at once: the import starts without a consumer.
    return {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": name},
            "spec": {"source": {"http": {"url": url}},
                     "storage": {"storageClassName": "shared", "resources": {"requests": {"storage": "64Mi"}}}}}


def percents(lines, phase):
    """The progress percentages of the `dv wait` lines showing `phase`."""
    found = []
    for line in lines:
        m = re.search(r"\]\s+([0-9.]+)%\s+(\S+)$", line)
        if m and m.group(2) == phase:
            found.append(float(m.group(1)))
    return found


def start_watch(command, env):
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop_watch(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out.splitlines()


def test_dv_wait_follows_the_import_to_succeeded_and_the_watches_print_each_change(cluster, slow_images):
    d = cluster
    env = dict(d.env(), HOME=os.path.join(d.data_dir, "home"))
    assert d.request("POST", DVS, http_dv("slow", f"{slow_images}/disk.qcow2")).status_code == 201
    kubectl_watch = start_watch([KUBECTL, "get", "dv", "-w"], env)
    swiftvirt_watch = start_watch([d.bin("swiftvirt"), "get", "dv", "-w"], env)

    waited = d.swiftvirt("dv", "wait", "slow", "--timeout", "5m", timeout=330)
    lines = waited.stdout.splitlines()
    assert "\r" not in waited.stdout, "not a terminal: plain lines, no redrawn bar"
    assert lines[-1].endswith("100.00%  Succeeded"), lines
    in_progress = percents(lines, "ImportInProgress")
    assert any(0 < p < 100 for p in in_progress), lines
    assert in_progress == sorted(in_progress), "progress only grows"

    for proc, name in ((kubectl_watch, "kubectl"), (swiftvirt_watch, "swiftvirt")):
        rows = [line.split() for line in stop_watch(proc)]
        assert rows[0][:4] == ["NAME", "PHASE", "PROGRESS", "RESTARTS"], (name, rows)
        slow_rows = [row for row in rows[1:] if row and row[0] == "slow"]
        progress_while_importing = {row[2] for row in slow_rows if row[1] == "ImportInProgress"}
        assert any(re.fullmatch(r"[0-9.]+%", p) and 0 < float(p[:-1]) < 100 for p in progress_while_importing), (name, slow_rows)
        assert len(progress_while_importing) >= 2, (name, slow_rows)
        assert slow_rows[-1][1:3] == ["Succeeded", "100.0%"], (name, slow_rows)


def test_dv_wait_on_a_terminal_redraws_one_bar(cluster):
    d = cluster
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "empty"},
            "spec": {"source": {"blank": {}}, "storage": {"storageClassName": "shared", "resources": {"requests": {"storage": "16Mi"}}}}}
    assert d.request("POST", DVS, body).status_code == 201
    master, slave = pty.openpty()
    proc = subprocess.Popen([d.bin("swiftvirt"), "dv", "wait", "empty", "--timeout", "2m"], env=d.env(),
                            stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert proc.wait(150) == 0, proc.stderr.read()
    os.close(master)
    text = output.decode()
    assert text.startswith("\r["), text
    assert text.rstrip().endswith("100.00%  Succeeded"), text
    assert text.count("\n") == 1, "one line, redrawn in place"


def test_dv_wait_fails_with_the_http_status_on_a_404(cluster, images):
    d = cluster
    assert d.request("POST", DVS, http_dv("missing", f"{images}/missing.qcow2")).status_code == 201
    result = d.swiftvirt("dv", "wait", "missing", "--timeout", "3m", check=False, timeout=200)
    assert result.returncode != 0
    assert "DataVolume missing failed" in result.stderr
    assert "404" in result.stderr, result.stderr
    assert result.stdout.splitlines()[-1].endswith("Failed"), result.stdout


def test_dv_wait_gives_up_at_its_timeout_saying_where_the_import_is(cluster, images):
    d = cluster
    # The server holds the download: the import stays in progress.
    assert d.request("POST", DVS, http_dv("held", f"{images}/held/disk.qcow2")).status_code == 201
    wait_for(lambda: d.request("GET", f"{DVS}/held").json().get("status", {}).get("phase") == "ImportInProgress", 60,
             "the import to start")
    result = d.swiftvirt("dv", "wait", "held", "--timeout", "2s", check=False, timeout=60)
    assert result.returncode != 0
    assert "timed out after 2s waiting for DataVolume held to reach Succeeded (phase ImportInProgress" in result.stderr, result.stderr
    FlakyHandler.release.set()

    unknown = d.swiftvirt("dv", "wait", "held", "--for", "Done", check=False)
    assert unknown.returncode != 0
    assert "--for Done" in unknown.stderr and "Succeeded" in unknown.stderr
    gone = d.swiftvirt("dv", "wait", "nope", check=False)
    assert gone.returncode != 0 and "not found" in gone.stderr
