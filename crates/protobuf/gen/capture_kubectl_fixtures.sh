#!/usr/bin/env bash
# Regenerates tests/fixtures: runs the real kubectl against capture_server.py (which serves
# legacy discovery and records every POST body), then asks the same kubectl for Go's JSON
# of the same object with --dry-run=client -o json.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
FIXTURES="$HERE/../tests/fixtures"
WORK=$(mktemp -d)
PORT=${PORT:-18931}
mkdir -p "$WORK/captures"
python3 "$HERE/capture_server.py" "$PORT" "$WORK/captures" & SERVER=$!
trap 'kill $SERVER; rm -rf "$WORK"' EXIT
sleep 1
cat > "$WORK/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:$PORT"}}]
users: [{name: u, user: {}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
KC
K="kubectl --kubeconfig $WORK/kubeconfig --cache-dir $WORK/cache"
cd "$FIXTURES"
# run NAME ARGS... [-- COMMAND...]: flags go before "--", the container command after it.
run() {
  local name=$1; shift
  local args=() cmd=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ $# -gt 0 ] && { shift; cmd=(-- "$@"); }
  rm -f "$WORK/captures/last.pb"
  $K create "${args[@]}" "${cmd[@]}" >/dev/null
  cp "$WORK/captures/last.pb" "$name.pb"
  $K create "${args[@]}" --dry-run=client -o json "${cmd[@]}" > "$name.json"
}
run namespace namespace team-a
run secret_generic secret generic creds --from-literal=password=s3cr3t --from-file=blob=bin.dat --type=kubernetes.io/basic-auth
run secret_docker_registry secret docker-registry regcred --docker-server=reg.example --docker-username=u --docker-password=p
run configmap configmap settings --from-literal=a=1 --from-literal=empty= --from-file=bin=bin.dat
run deployment deployment web --image=busybox --replicas=2 --port=80
run deployment_zero_replicas deployment idle --image=nginx --image=busybox --replicas=0
run job job pi --image=perl -- perl -e 'print 1'
run cronjob cronjob tick --image=busybox --schedule='*/5 * * * *' -- date
run serviceaccount serviceaccount builder
run service_clusterip service clusterip web --tcp=80:8080 --tcp=443:https
run service_nodeport service nodeport np --tcp=80:8080 --node-port=30080
run service_loadbalancer service loadbalancer lb --tcp=80:8080
run service_externalname service externalname ext --external-name=example.com
run service_headless service clusterip hl --clusterip=None
run role role pod-reader --verb=get --verb=list --resource=pods --resource-name=a
run rolebinding rolebinding rb --role=pod-reader --user=alice --serviceaccount=default:builder
run clusterrole clusterrole reader --verb=get --non-resource-url=/logs
run clusterrolebinding clusterrolebinding crb --clusterrole=view --group=devs
run quota quota q --hard=cpu=1,memory=1Gi,pods=2 --scopes=BestEffort
run pdb poddisruptionbudget my-pdb --selector=app=web --min-available=50%
run priorityclass priorityclass high --value=1000 --description=important --preemption-policy=Never
run ingress ingress simple --rule="foo.com/bar*=svc1:8080" --rule="tls.example/=svc2:http,tls=my-cert" --annotation=a=b --class=nginx
echo "fixtures written to $FIXTURES"
