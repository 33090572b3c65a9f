"""Recording API server for capture_kubectl_fixtures.sh: legacy discovery + saves POST bodies.
Usage: capture_server.py PORT OUT_DIR"""
import json, sys, os
from http.server import BaseHTTPRequestHandler, HTTPServer
OUT = sys.argv[2]
def res(name, kind, namespaced=True, short=None):
    return {"name": name, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
            "verbs": ["create","delete","get","list","patch","update","watch"], "shortNames": short or []}
DOCS = {
 "/version": {"major":"1","minor":"32","gitVersion":"v1.32.0","gitCommit":"0","gitTreeState":"clean","buildDate":"2025-01-01T00:00:00Z","goVersion":"go1.23.4","compiler":"gc","platform":"linux/amd64"},
 "/api": {"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]},
 "/apis": {"kind":"APIGroupList","apiVersion":"v1","groups":[
    {"name":g,"versions":[{"groupVersion":f"{g}/{v}","version":v}],"preferredVersion":{"groupVersion":f"{g}/{v}","version":v}}
    for g,v in [("apps","v1"),("batch","v1"),("rbac.authorization.k8s.io","v1"),("policy","v1"),("networking.k8s.io","v1"),("scheduling.k8s.io","v1")]]},
 "/api/v1": {"kind":"APIResourceList","groupVersion":"v1","resources":[
    res("namespaces","Namespace",False,["ns"]), res("secrets","Secret"), res("configmaps","ConfigMap",short=["cm"]),
    res("services","Service",short=["svc"]), res("serviceaccounts","ServiceAccount",short=["sa"]), res("resourcequotas","ResourceQuota",short=["quota"]),
    res("pods","Pod",short=["po"])]},
 "/apis/apps/v1": {"kind":"APIResourceList","groupVersion":"apps/v1","resources":[res("deployments","Deployment",short=["deploy"])]},
 "/apis/batch/v1": {"kind":"APIResourceList","groupVersion":"batch/v1","resources":[res("jobs","Job"), res("cronjobs","CronJob",short=["cj"])]},
 "/apis/rbac.authorization.k8s.io/v1": {"kind":"APIResourceList","groupVersion":"rbac.authorization.k8s.io/v1","resources":[res("roles","Role"), res("rolebindings","RoleBinding"), res("clusterroles","ClusterRole",False), res("clusterrolebindings","ClusterRoleBinding",False)]},
 "/apis/policy/v1": {"kind":"APIResourceList","groupVersion":"policy/v1","resources":[res("poddisruptionbudgets","PodDisruptionBudget",short=["pdb"])]},
 "/apis/networking.k8s.io/v1": {"kind":"APIResourceList","groupVersion":"networking.k8s.io/v1","resources":[res("ingresses","Ingress",short=["ing"])]},
 "/apis/scheduling.k8s.io/v1": {"kind":"APIResourceList","groupVersion":"scheduling.k8s.io/v1","resources":[res("priorityclasses","PriorityClass",False,["pc"])]},
}
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send_json(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code); self.send_header("Content-Type","application/json"); self.send_header("Content-Length",str(len(b))); self.end_headers(); self.wfile.write(b)
    def do_GET(self):
        p = self.path.split("?")[0]
        if p in DOCS: return self.send_json(200, DOCS[p])
        self.send_json(404, {"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404})
    def do_POST(self):
        n = int(self.headers.get("Content-Length","0")); body = self.rfile.read(n)
        name = "last"
        open(os.path.join(OUT, name + ".pb"), "wb").write(body)
        open(os.path.join(OUT, name + ".ct"), "w").write(self.headers.get("Content-Type",""))
        self.send_json(201, {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"})
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
