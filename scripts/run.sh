#!/usr/bin/env bash
# Starts the all-in-one daemon in the background and applies the example VM.
set -euo pipefail
data_dir=$1
listen=$2
mkdir -p "$data_dir"
guest/build.sh /var/lib/swiftvirt/guest >/dev/null
if [ -f "$data_dir/swiftvirtd.pid" ] && kill -0 "$(cat "$data_dir/swiftvirtd.pid")" 2>/dev/null; then
  echo "swiftvirtd is already running (pid $(cat "$data_dir/swiftvirtd.pid")); 'make stop' stops it"
else
  rm -f "$data_dir/kubeconfig"
  nohup .build/release/swiftvirtd --role all --data-dir "$data_dir" --listen "$listen" >"$data_dir/swiftvirtd.log" 2>&1 &
  echo $! >"$data_dir/swiftvirtd.pid"
  for _ in $(seq 1 100); do
    [ -s "$data_dir/kubeconfig" ] && break
    if ! kill -0 "$(cat "$data_dir/swiftvirtd.pid")" 2>/dev/null; then
      echo "swiftvirtd exited; its log:" >&2
      cat "$data_dir/swiftvirtd.log" >&2
      exit 1
    fi
    sleep 0.1
  done
fi
export KUBECONFIG="$data_dir/kubeconfig"
.build/release/swiftvirt apply -f examples/vm-tiny.yaml
printf 'waiting for vm-tiny to run'
for _ in $(seq 1 240); do
  phase=$(.build/release/swiftvirt get vmi vm-tiny -o jsonpath='{.status.phase}' 2>/dev/null || true)
  [ "$phase" = Running ] && break
  printf '.'
  sleep 0.5
done
echo
.build/release/swiftvirt get vms
cat <<MSG

swiftvirtd is running (log: $data_dir/swiftvirtd.log, stop: make stop).
  export KUBECONFIG=$data_dir/kubeconfig
  kubectl get vm,vmi,pods        # or: .build/release/swiftvirt get vms
  swiftvirt stop vm-tiny / swiftvirt start vm-tiny / swiftvirt restart vm-tiny
  .build/release/swiftvirt console vm-tiny   # the guest's serial console (login: root / swiftvirt; Ctrl-] leaves)
MSG
