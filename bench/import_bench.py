#!/usr/bin/env python3
"""Disk import throughput, each figure next to its baseline measured in the same run.

1. A 1 GiB qcow2 of random (non-zero) data, served over HTTP on loopback, imported into a raw file by
   swiftvirt-importer, against the raw pipeline `curl URL > tmp; qemu-img convert -f qcow2 -O raw tmp
   target; sync target` (qemu-img needs a seekable qcow2, hence the temporary file), and against
   qemu-img reading the URL itself through qemu-block-extra's curl driver (the alternative to the
   importer's scratch file: no temporary space, but ranged requests).
2. The same data as a 1 GiB raw image (the importer's streaming path, no scratch file) against
   `curl URL > target; sync target`.
3. Clone: the node agent's clone of a 1 GiB raw disk (`VirtBench clone`: FileClone, the code
   VolumeCloneHandler runs — FICLONE, else a copy of the data extents; grown, fsynced, renamed) against
   `cp --reflink=auto SRC DST; sync DST` of the same file, on a loop-mounted xfs made with reflink=1
   (both reflink) and on the plain --dir (whatever its filesystem does: on ext4 both copy); `--no-reflink`
   (our copy path on xfs) is printed too. The xfs part needs root and mkfs.xfs (xfsprogs); without them
   it says why and is skipped. The mount and its loop device are removed afterwards.

Each import figure is the best (and median) of --runs runs, the contenders interleaved run by run so
they share the background load; the page cache is not dropped (the source files stay cached for every
contender alike).

Usage: bench/import_bench.py [--runs 3] [--size-mib 1024] [--binary .build/release/swiftvirt-importer]
       [--bench-binary .build/release/VirtBench] [--dir /tmp] [--only import|clone] [--skip-curl-driver]
"""
import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class Handler(http.server.BaseHTTPRequestHandler):
    """Files of the served directory with Content-Length, HEAD and single ranges (for the curl driver),
    sent with sendfile(2) so the server costs little CPU."""
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.serve(body=False)

    def do_GET(self):
        self.serve(body=True)

    def serve(self, body):
        path = os.path.join(self.root, os.path.basename(self.path))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        start, end = 0, size - 1
        ranged = self.headers.get("Range", "").startswith("bytes=")
        if ranged:
            first, _, last = self.headers["Range"][6:].partition("-")
            start = int(first) if first else size - int(last)
            end = min(int(last), size - 1) if first and last else size - 1
        self.send_response(206 if ranged else 200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if body:
            with open(path, "rb") as f:
                self.wfile.flush()
                sent, count = 0, end - start + 1
                while sent < count:
                    n = os.sendfile(self.connection.fileno(), f.fileno(), start + sent, count - sent)
                    if n == 0:
                        break
                    sent += n


def serve(directory):
    handler = type("H", (Handler,), {"root": directory})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def timed(command, timeout=600, **kwargs):
    start = time.monotonic()
    subprocess.run(command, check=True, timeout=timeout, **kwargs)
    return time.monotonic() - start


def best(runs, fn):
    return min(fn() for _ in range(runs))


def interleaved(runs, *fns):
    """Each contender once per round, `runs` rounds, so all see the same background load (builds,
    writeback); the times of each, in run order."""
    times = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            times[i].append(fn())
    return times


def spread(times):
    """Best and median of a list of run times, as `best 1.23 s (median 1.45)`."""
    ordered = sorted(times)
    return ordered[0], ordered[len(ordered) // 2]


def rm(*paths):
    for p in paths:
        if os.path.exists(p):
            os.unlink(p)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "swiftvirt-importer"))
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--bench-binary", default=None, help="VirtBench (default: release, else debug build)")
    parser.add_argument("--only", choices=["import", "clone"], default=None)
    parser.add_argument("--skip-curl-driver", action="store_true", help="leave out qemu-img's curl driver (it can hang for its 120 s timeout)")
    args = parser.parse_args()
    if args.bench_binary is None:
        release = os.path.join(ROOT, ".build", "release", "VirtBench")
        args.bench_binary = release if os.path.exists(release) else os.path.join(ROOT, ".build", "debug", "VirtBench")
    work = tempfile.mkdtemp(prefix="swiftvirt-import-bench-", dir=args.dir)
    server = None
    try:
        raw, qcow2 = os.path.join(work, "src.raw"), os.path.join(work, "src.qcow2")
        size = args.size_mib << 20
        subprocess.run(["dd", "if=/dev/urandom", f"of={raw}", "bs=1M", f"count={args.size_mib}", "status=none"], check=True)
        mb = lambda seconds: size / seconds / 1e6
        if args.only != "clone":
            server = import_figures(args, work, raw, qcow2, size, mb)
        if args.only != "import":
            clone_figures(args, work, raw, size, mb)
    finally:
        if server:
            server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


def import_figures(args, work, raw, qcow2, size, mb):
    """Sections 1 and 2; returns the HTTP server (shut down by the caller)."""
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2], check=True)
    server, base = serve(work)
    target, tmp = os.path.join(work, "target.img"), os.path.join(work, "download.qcow2")

    def pipeline():
        rm(target, tmp)
        t = timed(["sh", "-c", f"curl -sf -o {tmp} {base}/src.qcow2 && qemu-img convert -f qcow2 -O raw {tmp} {target} && sync {target}"])
        rm(tmp)
        return t

    def importer(url, extra=()):
        rm(target, target + ".complete")
        return timed([args.binary, "--url", url, "--target", target, *extra], stdout=subprocess.DEVNULL)

    def curl_driver():
        rm(target)
        spec = json.dumps({"file.driver": "http", "file.url": f"{base}/src.qcow2", "file.readahead": 4 << 20})
        start = time.monotonic()
        subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", f"json:{spec}", target], check=True, timeout=120)
        subprocess.run(["sync", target], check=True)
        return time.monotonic() - start

    digest = subprocess.run(["sha256sum", qcow2], check=True, capture_output=True, text=True).stdout.split()[0]
    base_ts, imp_ts, sum_ts = interleaved(
        args.runs, pipeline, lambda: importer(f"{base}/src.qcow2"),
        lambda: importer(f"{base}/src.qcow2", ["--checksum", f"sha256:{digest}"]))
    subprocess.run(["qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", raw, target], check=True)
    (base_t, base_m), (imp_t, imp_m), (sum_t, sum_m) = spread(base_ts), spread(imp_ts), spread(sum_ts)
    curl_failure = None
    if args.skip_curl_driver:
        curl_t, curl_failure = None, "skipped (--skip-curl-driver)"
    else:
        try:
            curl_t = best(args.runs, curl_driver)
        except subprocess.CalledProcessError as error:
            curl_t, curl_failure = None, f"failed with exit code {error.returncode}"
        except subprocess.TimeoutExpired:
            curl_t, curl_failure = None, "hung (no progress in 120 s; killed)"
    print(f"Import of a {args.size_mib} MiB qcow2 (random data) over HTTP on loopback into a raw file, best (median) of {args.runs}, interleaved")
    print(f"  swiftvirt-importer:                   {imp_t:6.2f} s ({imp_m:4.2f})  {mb(imp_t):7.0f} MB/s  "
          f"({base_t / imp_t:.2f}x the raw pipeline, median {base_m / imp_m:.2f}x; target >= 0.9x)")
    print(f"  swiftvirt-importer, sha256 checksum:  {sum_t:6.2f} s ({sum_m:4.2f})  {mb(sum_t):7.0f} MB/s  ({base_t / sum_t:.2f}x, median {base_m / sum_m:.2f}x)")
    print(f"  baseline, curl > tmp; qemu-img convert: {base_t:4.2f} s ({base_m:4.2f})  {mb(base_t):7.0f} MB/s")
    if curl_t is not None:
        print(f"  qemu-img convert over the curl driver:  {curl_t:4.2f} s  {mb(curl_t):7.0f} MB/s  ({base_t / curl_t:.2f}x; no scratch file, no checksum, no progress)")
    else:
        print(f"  qemu-img convert over the curl driver: {curl_failure}")

    def curl_raw():
        rm(target)
        return timed(["sh", "-c", f"curl -sf -o {target} {base}/src.raw && sync {target}"])

    raw_base_ts, raw_imp_ts = interleaved(args.runs, curl_raw, lambda: importer(f"{base}/src.raw"))
    subprocess.run(["cmp", "-s", raw, target], check=True)
    (raw_base, raw_base_m), (raw_imp, raw_imp_m) = spread(raw_base_ts), spread(raw_imp_ts)
    print(f"Import of a {args.size_mib} MiB raw image (streamed, no scratch file), best (median) of {args.runs}, interleaved")
    print(f"  swiftvirt-importer:      {raw_imp:6.2f} s ({raw_imp_m:4.2f})  {mb(raw_imp):7.0f} MB/s  ({raw_base / raw_imp:.2f}x curl, median {raw_base_m / raw_imp_m:.2f}x)")
    print(f"  baseline, curl > target: {raw_base:6.2f} s ({raw_base_m:4.2f})  {mb(raw_base):7.0f} MB/s")
    rm(target, target + ".complete")
    return server


def clone_pair(args, directory, raw, size, mb, label):
    """Our clone and cp --reflink=auto of the same file in `directory`, each next to the other."""
    source, clone = os.path.join(directory, "clone-src.raw"), os.path.join(directory, "clone-dst.raw")
    shutil.copyfile(raw, source)
    subprocess.run(["sync", source], check=True)
    methods, inner = [], []

    def ours(extra=()):
        rm(clone)
        start = time.monotonic()
        out = subprocess.run([args.bench_binary, "clone", source, clone, str(size), *extra], check=True, capture_output=True, text=True, timeout=600).stdout
        elapsed = time.monotonic() - start
        report = json.loads(out)
        methods.append(report["method"])
        inner.append(report["seconds"])
        return elapsed

    def cp():
        rm(clone)
        return timed(["sh", "-c", f"cp --reflink=auto {source} {clone} && sync {clone}"])

    # Interleaved, so both see the same background (writeback, other load); the best of each.
    ours_t, cp_t = float("inf"), float("inf")
    for _ in range(args.runs):
        ours_t = min(ours_t, ours())
        subprocess.run(["cmp", "-s", source, clone], check=True)
        cp_t = min(cp_t, cp())
    method = methods[-1]
    print(f"Clone of a {args.size_mib} MiB raw disk (random data) on {label}, best of {args.runs}")
    inner_t = min(inner)
    print(f"  swiftvirt clone ({method}):     {ours_t:6.3f} s  {mb(ours_t):8.0f} MB/s  ({cp_t / ours_t:.2f}x cp; the process, as cp's figure is)")
    print(f"    the clone alone, in process: {inner_t:6.3f} s  {mb(inner_t):8.0f} MB/s  (without starting the debug/release VirtBench binary)")
    print(f"  baseline, cp --reflink=auto:   {cp_t:6.3f} s  {mb(cp_t):8.0f} MB/s")
    if method == "reflink":
        methods.clear()
        copy_t = best(args.runs, lambda: ours(["--no-reflink"]))
        subprocess.run(["cmp", "-s", source, clone], check=True)
        print(f"  swiftvirt clone, --no-reflink ({methods[-1]}): {copy_t:6.3f} s  {mb(copy_t):8.0f} MB/s  "
              "(the fallback path; copy_file_range on xfs shares extents itself)")
    rm(clone, source)


def clone_figures(args, work, raw, size, mb):
    """Section 3: on a loop-mounted xfs with reflink, then on the plain directory."""
    if not os.path.exists(args.bench_binary):
        print(f"Clone: skipped, {args.bench_binary} is missing (swift build --product VirtBench)")
        return
    if os.geteuid() != 0 or shutil.which("mkfs.xfs") is None:
        print("Clone on xfs: skipped (needs root and mkfs.xfs from xfsprogs)")
    else:
        image, mountpoint, loop = os.path.join(work, "xfs.img"), os.path.join(work, "xfs"), None
        os.mkdir(mountpoint)
        try:
            with open(image, "wb") as f:
                f.truncate(3 * size + (512 << 20))
            subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", image], check=True)
            loop = subprocess.run(["losetup", "--find", "--show", image], check=True, capture_output=True, text=True).stdout.strip()
            subprocess.run(["mount", loop, mountpoint], check=True)
            clone_pair(args, mountpoint, raw, size, mb, "a loop-mounted xfs with reflink=1")
        finally:
            subprocess.run(["umount", mountpoint], capture_output=True)
            if loop:
                subprocess.run(["losetup", "-d", loop], capture_output=True)
    fstype = subprocess.run(["stat", "-f", "-c", "%T", work], capture_output=True, text=True).stdout.strip()
    clone_pair(args, work, raw, size, mb, f"the plain directory {args.dir} ({fstype})")


if __name__ == "__main__":
    sys.exit(main())
