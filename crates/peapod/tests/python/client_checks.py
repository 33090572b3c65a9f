"""The official Python client (`kubernetes` on PyPI, Debian's python3-kubernetes) against a
peapod server: each check is one scenario the client's own tests exercise. Prints `OK <check>`
on success; any exception fails the run with its traceback.

Usage: client_checks.py KUBECONFIG NAMESPACE CHECK [ARGS...]
"""

import sys
import time

from kubernetes import client, config
from kubernetes.stream import portforward, stream


def exec_stdin_text_frames(v1, ns, pod):
    # write_stdin sends a str, which the client puts in a WebSocket TEXT frame.
    resp = stream(
        v1.connect_get_namespaced_pod_exec, pod, ns,
        command=["sh", "-c", "read line; echo got:$line"],
        stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False,
    )
    resp.write_stdin("hello-from-python\n")
    out = ""
    deadline = time.time() + 20
    while resp.is_open() and time.time() < deadline:
        resp.update(timeout=1)
        out += resp.read_stdout() or ""
        if "got:" in out:
            break
    resp.close()
    assert "got:hello-from-python" in out, repr(out)


def port_forward(v1, ns, pod, port):
    port = int(port)
    pf = portforward(v1.connect_get_namespaced_pod_portforward, pod, ns, ports=str(port))
    sock = pf.socket(port)
    sock.setblocking(True)
    sock.settimeout(20)
    sock.sendall(b"GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n")
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert pf.error(port) is None, pf.error(port)
    assert b"200 OK" in data and b"served-through-portforward" in data, data


def delete_returns_typed_objects(v1, ns):
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="py-svc"),
        spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)]),
    )
    v1.create_namespaced_service(ns, svc)
    # The server answers with the deleted Service, as kube-apiserver does. Clients generated
    # for Kubernetes >= 1.23 type it V1Service; Debian's (1.22's API) still types the answer
    # V1Status, so look at what came, not at the class it was parsed into.
    deleted = v1.api_client.sanitize_for_serialization(
        v1.delete_namespaced_service("py-svc", ns))
    assert deleted.get("kind") == "Service", deleted
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm"), data={"a": "b"})
    v1.create_namespaced_config_map(ns, cm)
    status = v1.delete_namespaced_config_map("py-cm", ns)
    assert isinstance(status, client.V1Status), type(status)
    assert status.status == "Success" and status.details.name == "py-cm", status


def kubernetes_service(v1, ns):
    svc = v1.read_namespaced_service("kubernetes", "default")
    assert svc.spec.ports[0].name == "https" and svc.spec.ports[0].port == 443, svc.spec
    ep = v1.read_namespaced_endpoints("kubernetes", "default")
    assert ep.subsets[0].ports[0].name == "https", ep


def replication_controllers(v1, ns):
    rcs = v1.list_namespaced_replication_controller(ns)
    names = [rc.metadata.name for rc in rcs.items]
    assert "py-rc" in names, names
    rc = v1.read_namespaced_replication_controller("py-rc", ns)
    assert rc.spec.selector == {"app": "py-rc"}, rc.spec.selector


CHECKS = {
    "exec_stdin_text_frames": exec_stdin_text_frames,
    "port_forward": port_forward,
    "delete_returns_typed_objects": delete_returns_typed_objects,
    "kubernetes_service": kubernetes_service,
    "replication_controllers": replication_controllers,
}


def main():
    kubeconfig, ns, check, *args = sys.argv[1:]
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()
    CHECKS[check](v1, ns, *args)
    print("OK " + check)


if __name__ == "__main__":
    main()
