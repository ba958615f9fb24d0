#!/usr/bin/python3
"""Checks the deployment artefacts under deploy/ without a container engine or a cluster.

    check_deploy.py --source REPO [--server BIN --ctl BIN --lint BIN] CHECK...

CHECK is one or more of:
  nginx       `nginx -t` of the rendered template and of the production snippet; retry/failover directives.
  k8s         every manifest parses; probes, resources, security, drain, selectors, env names, PDB/HPA/NetPol.
  compose     deploy/compose.yaml parses; 2 instances, Redis 7 with the shipped config, health checks, secrets.
  cluster     deploy/compose.cluster.yaml parses: six cluster nodes from redis-cluster.conf, a one-shot create
              job, servers seeded with every node and a password file; a real three-node cluster forms from
              the shipped node config and, with --server and --ctl, tradein-server runs a claim's life on it
              as user `tradein` (--redis_cluster), nothing refused.
  configmap   the policies ConfigMap equals a fresh generation, holds exactly deploy/policies/*.textproto and
              loads with tradein-policy-lint through kubelet's symlink layout (--lint).
  dockerfile  stages, non-root user, health check, entry point, policies; every shared library `ldd` lists for
              the binaries (--server, --ctl, --lint) comes from a runtime package or debian:12-slim itself.
  redis       redis.conf settings and ACL template; the ACL grant equals what the client and the Redis quota
              store use; a real redis-server starts with the shipped file and enforces the users; with
              --server and --ctl, tradein-server runs a claim's life on it as user `tradein`, nothing refused.

Uses Debian's python3-yaml (run with /usr/bin/python3). Prints one line per assertion; exits 1 if any failed.
"""

import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import yaml

FAILURES = []

# Packages of debian:12-slim itself (apt and dpkg need them): not installed by the Dockerfile.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


def ok(message):
    print(f"ok    {message}")


def fail(message):
    FAILURES.append(message)
    print(f"FAIL  {message}")


def check(condition, message):
    if condition:
        ok(message)
    else:
        fail(message)
    return condition


def note(message):
    print(f"note  {message}")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def find_program(name, extra_dirs=("/usr/sbin", "/sbin", "/usr/bin")):
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def duration_seconds(text):
    """'15s', '1m', '500ms', '1m30s' (Go/absl durations) → seconds."""
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(text)):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def memory_bytes(text):
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|K|M|G)?", str(text))
    if not match:
        return None
    factor = {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "K": 1000, "M": 1000**2, "G": 1000**3}
    return int(match.group(1)) * factor[match.group(2)]


def absl_flags(paths):
    names = set()
    for path in paths:
        names.update(re.findall(r"ABSL_FLAG\(\s*[^,]+,\s*(\w+)\s*,", read(path)))
    return names


class EnvNames:
    """Checks TRADEIN_* / TRADEINCTL_* variable names against the flags they are meant to set."""

    def __init__(self, source):
        self.server = absl_flags([os.path.join(source, "services/server/flags.cc")])
        ctl_sources = glob.glob(os.path.join(source, "tools/tradeinctl/*.cc"))
        self.ctl = absl_flags(ctl_sources)

    def check(self, names, where):
        for name in sorted(set(names)):
            if name.startswith("TRADEINCTL_"):
                flag = name[len("TRADEINCTL_"):].lower()
                check(flag in self.ctl, f"{where}: {name} is a tradeinctl flag (--{flag})")
            elif name.startswith("TRADEIN_"):
                flag = name[len("TRADEIN_"):].lower()
                check(flag in self.server,
                      f"{where}: {name} is a tradein-server flag (--{flag}); the server ignores other names")


############################################################################################################
# nginx


def nginx_test(nginx, prefix, config):
    result = subprocess.run([nginx, "-t", "-q", "-p", prefix, "-c", config], capture_output=True, text=True)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def check_nginx_directives(text, where):
    directives = re.findall(r"^\s*grpc_next_upstream\s+([^;]*);", text, re.M)
    check(len(directives) == 1, f"{where}: one grpc_next_upstream")
    if directives:
        values = set(directives[0].split())
        check({"error", "timeout", "non_idempotent"} <= values and "off" not in values,
              f"{where}: retries on error and timeout, for POSTs too (non_idempotent): {directives[0]}")
    check(re.search(r"^\s*grpc_next_upstream_tries\s+\S+;", text, re.M) is not None,
          f"{where}: grpc_next_upstream_tries bounds the retries")
    check(re.search(r"^\s*grpc_next_upstream_timeout\s+\S+;", text, re.M) is not None,
          f"{where}: grpc_next_upstream_timeout bounds the time spent retrying")
    check(re.search(r"^\s*keepalive\s+\d+;", text, re.M) is not None, f"{where}: keepalive to the upstreams")
    upstream_servers = re.findall(r"^\s*server\s+([^\s{]+)([^;{]*);", text, re.M)
    check(bool(upstream_servers) or "@UPSTREAM_SERVERS@" in text, f"{where}: upstream servers listed")
    for address, options in upstream_servers:
        check("max_fails=" in options and "fail_timeout=" in options,
              f"{where}: server {address} has max_fails and fail_timeout (passive failover)")
    passes = re.findall(r"grpc_pass\s+([^;]+);", text)
    check(passes and all(p.strip() == "grpc://tradein_grpc" for p in passes),
          f"{where}: every grpc_pass goes to the tradein_grpc upstream")


def check_nginx(args):
    nginx = find_program("nginx")
    if not check(nginx is not None, "nginx is installed (tools/dev/debian-packages.txt)"):
        return
    deploy = os.path.join(args.source, "deploy/nginx")
    with tempfile.TemporaryDirectory(prefix="tradein-nginx-") as tmp:
        # The template, rendered the way the multi-instance test renders it.
        runtime = os.path.join(tmp, "lb")
        result = subprocess.run(
            [os.path.join(deploy, "render-template.sh"), "--dir", runtime, "--listen", "127.0.0.1:6000",
             "--upstream", "127.0.0.1:50051", "--upstream", "127.0.0.1:50052", "--upstream", "[::1]:50053"],
            capture_output=True, text=True)
        if check(result.returncode == 0, "render-template.sh renders the template"):
            rendered = read(os.path.join(runtime, "nginx.conf"))
            check("@" not in re.sub(r"#.*", "", rendered).replace("@tradein_unavailable", ""),
                  "rendered template has no placeholder left")
            good, output = nginx_test(nginx, runtime, os.path.join(runtime, "nginx.conf"))
            check(good, f"nginx -t accepts the rendered template {output}")
            check_nginx_directives(rendered, "tradein.conf.template")
            check(len(re.findall(r"^\s*server 127\.0\.0\.1:5005[12] |^\s*server \[::1\]:50053 ", rendered, re.M)) == 3,
                  "rendered template lists the three upstreams given")
            check(re.search(r"grpc_next_upstream_tries 3;", rendered) is not None,
                  "rendered template tries each upstream at most once")
        # The production snippet: wrapped in a minimal main config, certificates from a throwaway directory.
        tls = os.path.join(tmp, "tls")
        os.makedirs(tls)
        result = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", os.path.join(tls, "tradein.key"), "-out", os.path.join(tls, "tradein.crt"),
             "-subj", "/CN=tradein.test", "-days", "1"], capture_output=True, text=True)
        check(result.returncode == 0, "throwaway certificate for the production snippet")
        shutil.copyfile(os.path.join(tls, "tradein.crt"), os.path.join(tls, "tradein-gateway-ca.crt"))
        production = read(os.path.join(deploy, "tradein.conf"))
        check(production.count("/etc/nginx/tls/") >= 2, "tradein.conf reads its certificate from /etc/nginx/tls/")
        snippet = os.path.join(tmp, "tradein.conf")
        with open(snippet, "w", encoding="utf-8") as f:
            f.write(production.replace("/etc/nginx/tls/", tls + "/"))
        main = os.path.join(tmp, "main.conf")
        with open(main, "w", encoding="utf-8") as f:
            f.write(f"pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\nhttp {{\n"
                    f"  access_log off;\n  client_body_temp_path {tmp}/cb;\n  proxy_temp_path {tmp}/px;\n"
                    f"  fastcgi_temp_path {tmp}/fc;\n  uwsgi_temp_path {tmp}/uw;\n  scgi_temp_path {tmp}/sc;\n"
                    f"  include {snippet};\n}}\n")
        good, output = nginx_test(nginx, tmp, main)
        check(good, f"nginx -t accepts deploy/nginx/tradein.conf (http context) {output}")
        check_nginx_directives(production, "tradein.conf")
        check(re.search(r"location /v1/ \{[^}]*proxy_pass https://tradein_json;", production) is not None,
              "tradein.conf passes the JSON gateway's /v1/ to the tradein_json upstream over HTTPS")
        check(re.search(r"proxy_ssl_verify on;", production) is not None,
              "tradein.conf verifies the instances' gateway certificates")
        check("health_check" not in re.sub(r"#.*", "", production),
              "tradein.conf uses no NGINX Plus active health_check")


############################################################################################################
# Kubernetes


def load_yaml_documents(path):
    try:
        with open(path, encoding="utf-8") as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
        ok(f"{os.path.relpath(path)}: parses ({len(documents)} document(s))")
        return documents
    except yaml.YAMLError as error:
        fail(f"{os.path.relpath(path)}: YAML error: {error}")
        return []


def selects(selector, labels):
    match = (selector or {}).get("matchLabels", selector or {})
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def check_k8s(args):
    env_names = EnvNames(args.source)
    k8s = os.path.join(args.source, "deploy/k8s")
    objects = []
    for path in sorted(glob.glob(os.path.join(k8s, "*.yaml"))):
        for document in load_yaml_documents(path):
            document["__file"] = os.path.basename(path)
            objects.append(document)
    by_kind = {}
    for obj in objects:
        check(isinstance(obj, dict) and "apiVersion" in obj and "kind" in obj and "metadata" in obj,
              f"{obj.get('__file')}: {obj.get('kind')} {obj.get('metadata', {}).get('name')} has apiVersion, kind, metadata")
        by_kind.setdefault(obj.get("kind"), []).append(obj)
        if obj.get("kind") != "Namespace":
            check(obj["metadata"].get("namespace") == "tradein",
                  f"{obj['__file']}: {obj['kind']} {obj['metadata'].get('name')} is in namespace tradein")
    for kind in ("Namespace", "ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget",
                 "HorizontalPodAutoscaler", "NetworkPolicy"):
        check(kind in by_kind, f"a {kind} exists")
    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        fail("exactly one Deployment")
        return
    deployment = deployments[0]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    check(spec.get("replicas") == 3, "Deployment: 3 replicas")
    check(selects(spec.get("selector"), pod_labels), "Deployment: selector matches the pod labels")
    pod_security = pod.get("securityContext", {})
    check(pod_security.get("runAsNonRoot") is True, "pod: runAsNonRoot")
    check(pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod: seccomp RuntimeDefault")
    check(pod.get("automountServiceAccountToken") is False, "pod: no service account token (no API access needed)")
    containers = pod.get("containers", [])
    check(len(containers) == 1, "pod: one container")
    container = containers[0]
    ports = {p["containerPort"]: p.get("name") for p in container.get("ports", [])}
    port_names = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    env = {e["name"]: e for e in container.get("env", [])}
    env_names.check(env.keys(), "deployment.yaml")

    def probe(name):
        return container.get(name) or {}

    for name in ("readinessProbe", "livenessProbe", "startupProbe"):
        grpc = probe(name).get("grpc")
        if check(isinstance(grpc, dict), f"{name} is a native gRPC probe"):
            check(isinstance(grpc.get("port"), int) and grpc["port"] in ports,
                  f"{name}: numeric port {grpc.get('port')} declared by the container")
            for other in ("httpGet", "exec", "tcpSocket"):
                check(other not in probe(name), f"{name}: no {other}")
    check(probe("readinessProbe").get("grpc", {}).get("service") == "tradein.v1.SubsidyService",
          "readiness on tradein.v1.SubsidyService (a Redis outage does not pull every pod)")
    check(probe("livenessProbe").get("grpc", {}).get("service", "") == "",
          "liveness on \"\" (the server as a whole)")
    health_listen = env.get("TRADEIN_HEALTH_LISTEN", {}).get("value", "")
    probe_port = probe("readinessProbe").get("grpc", {}).get("port")
    if health_listen:
        check(health_listen.endswith(f":{probe_port}"),
              f"probes use the plaintext health port TRADEIN_HEALTH_LISTEN={health_listen}")
    listen = env.get("TRADEIN_LISTEN", {}).get("value", "")
    check(listen.endswith(f":{port_names.get('grpc')}"), f"TRADEIN_LISTEN={listen} is the grpc container port")
    metrics = env.get("TRADEIN_METRICS_LISTEN", {}).get("value", "")
    check(metrics.endswith(f":{port_names.get('metrics')}") and not metrics.startswith("127."),
          f"TRADEIN_METRICS_LISTEN={metrics} is the metrics port, reachable by Prometheus")
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            check(resource in resources.get(kind, {}), f"resources.{kind}.{resource} is set")
    request = memory_bytes(resources.get("requests", {}).get("memory"))
    check(request is not None and request <= 64 * 1024**2, "memory request <= 64Mi (the RSS target)")
    security = container.get("securityContext", {})
    check(security.get("readOnlyRootFilesystem") is True, "container: read-only root file system")
    check(security.get("allowPrivilegeEscalation") is False, "container: no privilege escalation")
    check(security.get("capabilities", {}).get("drop") == ["ALL"], "container: drops all capabilities")
    user = security.get("runAsUser", pod_security.get("runAsUser"))
    check(isinstance(user, int) and user != 0, f"container: numeric non-root user {user}")
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    sleep = 0.0
    if "exec" in pre_stop and pre_stop["exec"].get("command", [None])[0] == "sleep":
        sleep = float(pre_stop["exec"]["command"][1])
    elif "sleep" in pre_stop:
        sleep = float(pre_stop["sleep"]["seconds"])
    check(sleep > 0, f"preStop sleeps {sleep:g}s so endpoints drain before SIGTERM")
    grace = duration_seconds(env.get("TRADEIN_SHUTDOWN_GRACE", {}).get("value", "10s"))
    termination = pod.get("terminationGracePeriodSeconds", 30)
    check(termination > sleep + grace,
          f"terminationGracePeriodSeconds {termination} > preStop {sleep:g}s + shutdown_grace {grace:g}s")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
    configmaps = {c["metadata"]["name"] for c in by_kind.get("ConfigMap", [])}
    policy_volumes = [n for n, v in volumes.items() if "configMap" in v]
    check(len(policy_volumes) == 1 and volumes[policy_volumes[0]]["configMap"]["name"] in configmaps,
          "the policies volume is the policies ConfigMap")
    if policy_volumes:
        mount = mounts.get(policy_volumes[0], {})
        check(mount.get("mountPath") == env.get("TRADEIN_POLICY_DIR", {}).get("value"),
              f"the ConfigMap is mounted at TRADEIN_POLICY_DIR ({mount.get('mountPath')})")
    secrets = {s["metadata"]["name"]: s for s in by_kind.get("Secret", [])}
    for name, volume in volumes.items():
        if "secret" in volume:
            secret_name = volume["secret"]["secretName"]
            check(secret_name in secrets, f"volume {name}: Secret {secret_name} has an example")
            for item in volume["secret"].get("items", []):
                check(item["key"] in secrets.get(secret_name, {}).get("stringData", {}),
                      f"volume {name}: key {item['key']} is in the example Secret")
        check(name in mounts, f"volume {name} is mounted")
    for variable in env.values():
        ref = variable.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            check(ref["key"] in secrets.get(ref["name"], {}).get("stringData", {}),
                  f"{variable['name']} comes from Secret {ref['name']} key {ref['key']}")
        value = variable.get("value", "")
        if variable["name"].endswith("_FILE") or variable["name"] in ("TRADEIN_TLS_CERT", "TRADEIN_TLS_KEY",
                                                                     "TRADEIN_TLS_CLIENT_CA"):
            check(any(value.startswith(m["mountPath"] + "/") for m in mounts.values()),
                  f"{variable['name']}={value} is inside a mounted volume")
    for secret in secrets.values():
        for key, value in secret.get("stringData", {}).items():
            check("REPLACE" in value and not re.search(r"\b[0-9a-f]{32,}\b", value),
                  f"secret.example.yaml: {secret['metadata']['name']}/{key} is a placeholder")
        check("data" not in secret, f"secret.example.yaml: {secret['metadata']['name']} has no base64 data")
    for service in by_kind.get("Service", []):
        name = service["metadata"]["name"]
        check(selects(service["spec"].get("selector"), pod_labels), f"Service {name} selects the pods")
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            check(target in port_names or target in ports, f"Service {name}: targetPort {target} is declared")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        check(selects(pdb["spec"].get("selector"), pod_labels), "PodDisruptionBudget selects the pods")
        minimum = pdb["spec"].get("minAvailable")
        check(isinstance(minimum, int) and 0 < minimum < spec["replicas"],
              f"PodDisruptionBudget minAvailable {minimum} < replicas (drains can proceed)")
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        target = hpa["spec"]["scaleTargetRef"]
        check(target["kind"] == "Deployment" and target["name"] == deployment["metadata"]["name"],
              "HPA scales the Deployment")
        check(any(m.get("resource", {}).get("name") == "cpu" for m in hpa["spec"].get("metrics", [])),
              "HPA scales on CPU")
        check(hpa["spec"].get("minReplicas", 1) >= spec["replicas"] - 1 and hpa["spec"]["minReplicas"] >= 2,
              f"HPA minReplicas {hpa['spec'].get('minReplicas')} keeps redundancy")
    for policy in by_kind.get("NetworkPolicy", []):
        pspec = policy["spec"]
        check(selects(pspec.get("podSelector"), pod_labels), "NetworkPolicy selects the pods")
        check(set(pspec.get("policyTypes", [])) == {"Ingress", "Egress"}, "NetworkPolicy restricts both ways")
        ingress_ports = {p["port"] for rule in pspec.get("ingress", []) for p in rule.get("ports", [])}
        check(ingress_ports == {port_names.get("grpc"), port_names.get("metrics"), port_names.get("https")},
              f"NetworkPolicy ingress only on gRPC, JSON gateway and metrics ports {sorted(ingress_ports)}")
        check(all(rule.get("from") for rule in pspec.get("ingress", [])), "every ingress rule names its sources")
        egress_ports = {p["port"] for rule in pspec.get("egress", []) for p in rule.get("ports", [])}
        check(egress_ports == {6379, 53}, f"NetworkPolicy egress only to Redis and DNS {sorted(egress_ports)}")
    namespaces = by_kind.get("Namespace", [])
    check(any(n["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce") == "restricted"
              for n in namespaces), "namespace enforces Pod Security restricted")


############################################################################################################
# compose


def load_compose(args, file):
    """The compose file's top level, its services and those that run tradein-server (None when unparsable)."""
    documents = load_yaml_documents(os.path.join(args.source, "deploy", file))
    if not documents:
        return None, {}, {}
    compose = documents[0]
    services = compose.get("services", {})
    return compose, services, {n: s for n, s in services.items() if "tradein-server" in str(s.get("entrypoint", ""))}


def check_compose_secrets(compose):
    for name, secret in (compose.get("secrets") or {}).items():
        check("file" in secret and "TRADEIN_SECRETS_DIR" in secret["file"],
              f"secret {name} comes from a file under $TRADEIN_SECRETS_DIR (outside the repository)")


def check_compose(args):
    env_names = EnvNames(args.source)
    path = os.path.join(args.source, "deploy/compose.yaml")
    compose, services, tradein = load_compose(args, "compose.yaml")
    if compose is None:
        return
    redis = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("redis:")}
    check(len(tradein) >= 2, f"two or more tradein-server instances: {sorted(tradein)}")
    check(len(redis) == 1, "one Redis service")
    for name, service in redis.items():
        check(re.match(r"redis:7(\.|-|$)", service["image"]) is not None, f"{name}: Redis 7 ({service['image']})")
        entry = " ".join(service.get("entrypoint", [])) + " " + " ".join(service.get("command", []) or [])
        check("start-redis.sh" in entry, f"{name}: starts through deploy/redis/start-redis.sh")
        start = read(os.path.join(args.source, "deploy/redis/start-redis.sh"))
        check("redis.conf" in start, "start-redis.sh runs redis-server with deploy/redis/redis.conf")
        volumes = service.get("volumes", [])
        check(any(v.startswith("./redis:") for v in volumes), f"{name}: mounts deploy/redis")
        data = [v.split(":")[0] for v in volumes if v.split(":")[1] == "/data"]
        check(len(data) == 1 and data[0] in (compose.get("volumes") or {}),
              f"{name}: a named volume at /data (the AOF)")
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        check("redis-cli" in test and "ping" in test and "PONG" in test,
              f"{name}: health check redis-cli ping, looking for PONG")
        check("ports" not in service, f"{name}: publishes no port")
    for name, service in tradein.items():
        env = service.get("environment", {})
        env_names.check(env.keys(), f"compose {name}")
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        check("tradeinctl" in test and "health" in test and "curl" not in test,
              f"{name}: gRPC health check with tradeinctl")
        check(service.get("depends_on", {}).get(next(iter(redis), ""), {}).get("condition") == "service_healthy",
              f"{name}: waits for a healthy Redis")
        check("buyer_key" in service.get("secrets", []) and env.get("TRADEIN_BUYER_KEY_FILE") ==
              "/run/secrets/buyer_key", f"{name}: buyer key from the compose secret")
        check("redis_password" in service.get("secrets", []) and "/run/secrets/redis_password" in
              " ".join(service.get("entrypoint", [])), f"{name}: Redis password from the compose secret")
        check(not any("password" in str(v).lower() or "redis://" in str(v) for v in env.values()),
              f"{name}: no credentials in the environment block")
        grace = duration_seconds(env.get("TRADEIN_SHUTDOWN_GRACE", "10s"))
        check(duration_seconds(service.get("stop_grace_period", "10s")) > grace,
              f"{name}: stop_grace_period > TRADEIN_SHUTDOWN_GRACE ({grace:g}s)")
        check(service.get("read_only") is True, f"{name}: read-only file system")
        build = service.get("build", {})
        check(build.get("dockerfile") == "deploy/docker/Dockerfile" and
              os.path.isfile(os.path.join(os.path.dirname(path), build.get("context", "."), build["dockerfile"])),
              f"{name}: built from deploy/docker/Dockerfile")
    check_compose_secrets(compose)


############################################################################################################
# Redis Cluster


def check_cluster(args):
    env_names = EnvNames(args.source)
    compose, services, tradein = load_compose(args, "compose.cluster.yaml")
    if compose is None:
        return
    nodes = {n: s for n, s in services.items()
             if str(s.get("image", "")).startswith("redis:") and "--cluster" in s.get("entrypoint", [])}
    jobs = {n: s for n, s in services.items() if "--cluster create" in " ".join(map(str, s.get("entrypoint", [])))}
    check(len(nodes) == 6, f"six Redis Cluster nodes: {sorted(nodes)}")
    check(len(jobs) == 1, f"one job that creates the cluster: {sorted(jobs)}")
    check(len(tradein) >= 2, f"two or more tradein-server instances: {sorted(tradein)}")
    addresses = {}
    for name, node in nodes.items():
        check(re.match(r"redis:7(\.|-|$)", node["image"]) is not None, f"{name}: Redis 7 ({node['image']})")
        check("start-redis.sh" in " ".join(node["entrypoint"]), f"{name}: starts through start-redis.sh --cluster")
        volumes = node.get("volumes", [])
        check(any(v.startswith("./redis:") for v in volumes), f"{name}: mounts deploy/redis")
        data = [v.split(":")[0] for v in volumes if v.split(":")[1] == "/data"]
        check(len(data) == 1 and data[0] in (compose.get("volumes") or {}),
              f"{name}: its own named volume at /data (AOF and nodes.conf)")
        test = " ".join(node.get("healthcheck", {}).get("test", []))
        check("ping" in test and "PONG" in test, f"{name}: health check redis-cli ping, looking for PONG")
        check("ports" not in node, f"{name}: publishes no port")
        address = next(iter((node.get("networks") or {}).values()), {}).get("ipv4_address")
        check(address is not None, f"{name}: a fixed address (the cluster announces addresses, not names)")
        addresses[name] = f"{address}:6379"
    check(len(set(addresses.values())) == len(addresses), "every node has its own address")
    for name, job in jobs.items():
        script = " ".join(map(str, job["entrypoint"]))
        check(all(a in script for a in addresses.values()), f"{name}: creates the cluster of all six nodes")
        check("--cluster-replicas 1" in script, f"{name}: one replica per master")
        check("cluster_state:ok" in script, f"{name}: does nothing once the cluster is formed")
        check(set(job.get("depends_on", {})) == set(nodes) and all(
            d.get("condition") == "service_healthy" for d in job["depends_on"].values()),
              f"{name}: waits for every node to be healthy")
        check(str(job.get("restart")) == "no", f"{name}: runs once (restart: no)")
    job = next(iter(jobs), "")
    for name, service in tradein.items():
        env = service.get("environment", {})
        env_names.check(env.keys(), f"compose.cluster {name}")
        seeds = set(str(env.get("TRADEIN_REDIS_CLUSTER", "")).split(","))
        check(seeds == set(addresses.values()), f"{name}: TRADEIN_REDIS_CLUSTER seeds every node")
        check("TRADEIN_REDIS" not in env, f"{name}: no TRADEIN_REDIS beside TRADEIN_REDIS_CLUSTER")
        check(env.get("TRADEIN_REDIS_USER") == "tradein", f"{name}: as the tradein ACL user")
        check(env.get("TRADEIN_REDIS_PASSWORD_FILE") == "/run/secrets/redis_password" and
              "redis_password" in service.get("secrets", []), f"{name}: Redis password from the secret file")
        check("buyer_key" in service.get("secrets", []) and env.get("TRADEIN_BUYER_KEY_FILE") ==
              "/run/secrets/buyer_key", f"{name}: buyer key from the compose secret")
        check(not any("redis://" in str(v) for v in env.values()) and
              not any("PASSWORD" in k and not k.endswith("_FILE") for k in env),
              f"{name}: no credentials in the environment block")
        check(service.get("depends_on", {}).get(job, {}).get("condition") == "service_completed_successfully",
              f"{name}: starts once the cluster is formed")
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        check("tradeinctl" in test and "health" in test, f"{name}: gRPC health check with tradeinctl")
        check(service.get("read_only") is True, f"{name}: read-only file system")
    check_compose_secrets(compose)

    redis_dir = os.path.join(args.source, "deploy/redis")
    conf_text = read(os.path.join(redis_dir, "redis-cluster.conf"))
    directives = redis_directives(conf_text)
    check("/usr/local/etc/redis/redis.conf" in directives.get("include", []),
          "redis-cluster.conf includes redis.conf (persistence, memory, users)")
    for key, value in (("cluster-enabled", "yes"), ("cluster-require-full-coverage", "yes"),
                       ("cluster-allow-reads-when-down", "no")):
        check(directives.get(key, [None])[-1] == value, f"redis-cluster.conf: {key} {value}")
    check(str(directives.get("cluster-config-file", [""])[-1]).startswith("/data/"),
          "redis-cluster.conf: nodes.conf on the data volume")
    check("WAITAOF" in conf_text and "any one node" in conf_text, "redis-cluster.conf states the guarantee")
    start = read(os.path.join(redis_dir, "start-redis.sh"))
    check("redis-cluster.conf" in start and "masterauth" in start,
          "start-redis.sh --cluster starts redis-cluster.conf with the replication credentials")
    form_cluster_and_run_server(args, redis_dir)


def form_cluster_and_run_server(args, redis_dir):
    """Three nodes started from the shipped redis-cluster.conf (paths moved into a temporary directory),
    joined with redis-cli --cluster create as `admin`, then tradein-server on them as `tradein`."""
    redis_server = os.environ.get("TRADEIN_REDIS_SERVER") or find_program("redis-server")
    if not check(redis_server is not None and find_program("redis-cli") is not None,
                 "redis-server and redis-cli are installed"):
        return
    with tempfile.TemporaryDirectory(prefix="tradein-redis-cluster-") as tmp:
        for name, text in (("tradein.password", "tradein-password-for-the-check\n"),
                           ("admin.password", "admin-password-for-the-check")):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        acl = os.path.join(tmp, "users.acl")
        subprocess.run([os.path.join(redis_dir, "render-acl.sh"), os.path.join(tmp, "tradein.password"),
                        os.path.join(tmp, "admin.password"), acl], check=True)
        with open(os.path.join(tmp, "replication.conf"), "w") as f:
            f.write('masteruser admin\nmasterauth "admin-password-for-the-check"\n')
        shutil.copy(os.path.join(redis_dir, "redis.conf"), os.path.join(tmp, "redis.conf"))  # --dir per node
        admin = ("admin", "admin-password-for-the-check")
        service = ("tradein", "tradein-password-for-the-check")
        processes, ports = [], []
        try:
            for i in range(3):
                node_dir = os.path.join(tmp, f"node-{i}")
                os.makedirs(node_dir)
                conf = read(os.path.join(redis_dir, "redis-cluster.conf"))
                conf = conf.replace("/usr/local/etc/redis/redis.conf", os.path.join(tmp, "redis.conf"))
                conf = conf.replace("/run/redis/replication.conf", os.path.join(tmp, "replication.conf"))
                conf = conf.replace("/data/nodes.conf", os.path.join(node_dir, "nodes.conf"))
                with open(os.path.join(node_dir, "redis.conf"), "w") as f:
                    f.write(conf)
                port = free_port()
                ports.append(port)
                log = open(os.path.join(node_dir, "log"), "w")
                processes.append(subprocess.Popen(
                    [redis_server, os.path.join(node_dir, "redis.conf"), "--port", str(port), "--cluster-port",
                     str(free_port()), "--dir", node_dir, "--aclfile", acl, "--daemonize", "no"],
                    stdout=log, stderr=log))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not all(redis_cli(p, "probe", "x", "PING") == "PONG"
                                                          for p in ports):
                time.sleep(0.05)
            info = redis_cli(ports[0], *admin, "INFO", "cluster")
            if not check("cluster_enabled:1" in info, "the nodes start in cluster mode from redis-cluster.conf"
                         + ("" if "cluster_enabled:1" in info else ": " + read(os.path.join(tmp, "node-0", "log"))[-800:])):
                return
            create = subprocess.run(["redis-cli", "--user", admin[0], "--pass", admin[1], "--no-auth-warning",
                                     "--cluster", "create"] + [f"127.0.0.1:{p}" for p in ports] +
                                    ["--cluster-yes"], capture_output=True, text=True, timeout=60)
            check(create.returncode == 0, "redis-cli --cluster create (as admin) forms the cluster"
                  + ("" if create.returncode == 0 else ": " + create.stdout[-500:] + create.stderr[-500:]))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(
                    "cluster_state:ok" in redis_cli(p, *admin, "CLUSTER", "INFO") for p in ports):
                time.sleep(0.1)
            if not check(all("cluster_state:ok" in redis_cli(p, *admin, "CLUSTER", "INFO") for p in ports),
                         "cluster_state:ok on every node"):
                return
            if args.server and args.ctl:
                check_server_on_redis(args, ports[0], tmp, service, admin, store_args=[
                    "--redis_cluster=" + ",".join(f"127.0.0.1:{p}" for p in ports), "--redis_user=tradein",
                    f"--redis_password_file={os.path.join(tmp, 'tradein.password')}"], acl_ports=ports)
            else:
                note("no --server/--ctl: tradein-server not run against the cluster")
        finally:
            for process in processes:
                process.kill()
                process.wait()


############################################################################################################
# ConfigMap


def kubelet_layout(configmap_data, directory):
    """Writes the files the way kubelet mounts a ConfigMap: ..<timestamp>/, ..data -> it, file -> ..data/file."""
    stamp = "..2026_01_01_00_00_00.000000001"
    os.makedirs(os.path.join(directory, stamp))
    for name, content in configmap_data.items():
        with open(os.path.join(directory, stamp, name), "w", encoding="utf-8") as f:
            f.write(content)
    os.symlink(stamp, os.path.join(directory, "..data"))
    for name in configmap_data:
        os.symlink(os.path.join("..data", name), os.path.join(directory, name))


def check_configmap(args):
    k8s = os.path.join(args.source, "deploy/k8s")
    committed_path = os.path.join(k8s, "configmap-policies.yaml")
    committed = read(committed_path)
    result = subprocess.run([os.path.join(k8s, "generate-policies-configmap.sh")], capture_output=True,
                            text=True)
    check(result.returncode == 0, "generate-policies-configmap.sh runs")
    check(result.stdout == committed,
          "configmap-policies.yaml is up to date with deploy/policies/ (if not, run "
          "deploy/k8s/generate-policies-configmap.sh > deploy/k8s/configmap-policies.yaml)")
    documents = load_yaml_documents(committed_path)
    if not documents:
        return
    data = documents[0].get("data", {})
    policy_dir = os.path.join(args.source, "deploy/policies")
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(policy_dir, "*.textproto")))
    check(sorted(data) == files, f"the ConfigMap holds exactly {len(files)} files: deploy/policies/*.textproto")
    for name in files:
        check(data.get(name) == read(os.path.join(policy_dir, name)), f"{name}: byte-for-byte the same")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in data.items())
    check(size < 1024 * 1024 - 64 * 1024, f"ConfigMap data is {size} bytes, well under the 1 MiB limit")
    if not args.lint:
        note("no --lint: the ConfigMap is not loaded through tradein-policy-lint")
        return
    with tempfile.TemporaryDirectory(prefix="tradein-configmap-") as tmp:
        kubelet_layout(data, tmp)
        mounted = subprocess.run([args.lint, f"--policy_dir={tmp}"], capture_output=True, text=True)
        shipped = subprocess.run([args.lint, f"--policy_dir={policy_dir}"], capture_output=True, text=True)
        check(mounted.returncode == 0, "tradein-policy-lint loads the ConfigMap through kubelet's symlinks "
              + mounted.stdout.strip().splitlines()[-1] if mounted.stdout else mounted.stderr)

        def verdicts(output):
            return [line.split("  version")[0] for line in output.splitlines() if line.startswith("ok  ")]

        check(verdicts(mounted.stdout) == verdicts(shipped.stdout) and verdicts(shipped.stdout),
              f"the mounted ConfigMap loads the same {len(verdicts(shipped.stdout))} policies as deploy/policies")


############################################################################################################
# Dockerfile


def dockerfile_stages(text):
    text = re.sub(r"\\\n", " ", text)
    stages, current = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            current = {"from": rest.strip(), "lines": []}
            stages.append(current)
        elif current is not None:
            current["lines"].append((instruction, rest.strip()))
    return stages


def apt_packages(run_arguments):
    packages = []
    for command in re.split(r"&&|;", run_arguments):
        words = command.split()
        if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
            packages += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return packages


def package_known(package):
    query = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    if query.returncode == 0 and query.stdout:
        return True
    show = subprocess.run(["apt-cache", "show", package], capture_output=True, text=True)
    return show.returncode == 0 and "Package:" in show.stdout


def ldd_libraries(binary):
    result = subprocess.run(["ldd", binary], capture_output=True, text=True)
    libraries, missing = [], []
    for line in result.stdout.splitlines():
        if "not found" in line:
            missing.append(line.strip())
        match = re.search(r"=>\s+(/\S+)", line)
        if match:
            libraries.append(match.group(1))
    return result.returncode, libraries, missing


def owning_packages(paths):
    """Maps each library path to its Debian package: one batched `dpkg -S` per spelling of the paths (as ldd
    prints them, resolved, and with or without /usr, since Debian 12 merged /lib into /usr/lib)."""

    def spellings(path):
        real = os.path.realpath(path)
        for candidate in (path, real):
            yield candidate
            yield "/usr" + candidate if candidate.startswith("/lib") else candidate.replace("/usr/lib", "/lib", 1)

    owners = {}
    for attempt in range(4):
        pending = {}
        for path in paths:
            if path not in owners:
                candidate = list(spellings(path))[attempt]
                pending.setdefault(candidate, []).append(path)
        if not pending:
            break
        result = subprocess.run(["dpkg", "-S"] + sorted(pending), capture_output=True, text=True)
        for line in result.stdout.splitlines():
            package, _, owned = line.partition(": ")
            for path in pending.get(owned.strip(), []):
                owners[path] = package.split(":")[0].split(",")[0].strip()
    return owners


def check_dockerfile(args):
    env_names = EnvNames(args.source)
    path = os.path.join(args.source, "deploy/docker/Dockerfile")
    text = read(path)
    stages = dockerfile_stages(text)
    if not check(len(stages) == 2, "two stages (build, runtime)"):
        return
    build, runtime = stages
    check(re.fullmatch(r"debian:12(\s+AS\s+build)", build["from"], re.I) is not None,
          f"build stage FROM debian:12 ({build['from']})")
    check(runtime["from"].split()[0] == "debian:12-slim", f"runtime stage FROM debian:12-slim ({runtime['from']})")
    build_text = " ".join(rest for _, rest in build["lines"])
    check("tools/dev/debian-packages.txt" in build_text, "build stage installs tools/dev/debian-packages.txt")
    check("CMAKE_BUILD_TYPE=Release" in build_text, "build stage builds Release")
    for target in ("tradein-server", "tradeinctl", "tradein-policy-lint"):
        check(re.search(rf"ninja[^&]*\b{target}\b", build_text) is not None, f"build stage builds {target}")
    if args.build:
        for relative in re.findall(r"/build/(\S+)", build_text):
            if relative.startswith(("services/", "tools/")):
                check(os.path.isfile(os.path.join(args.build, relative)),
                      f"build output {relative} exists where the Dockerfile copies it from")
    installed = [p for instruction, rest in runtime["lines"] if instruction == "RUN" for p in apt_packages(rest)]
    check(bool(installed), f"runtime installs {len(installed)} packages")
    check(not [p for p in installed if p.endswith("-dev") or p in ("g++", "cmake", "ninja-build")],
          "runtime installs no -dev package or toolchain")
    check("--no-install-recommends" in " ".join(r for i, r in runtime["lines"] if i == "RUN"),
          "runtime installs without recommends")
    check("rm -rf /var/lib/apt/lists" in " ".join(r for i, r in runtime["lines"] if i == "RUN"),
          "runtime removes the apt lists")
    for package in installed:
        check(package_known(package), f"runtime package {package} exists in Debian 12")
    for required in ("tzdata", "ca-certificates", "libhiredis0.14", "libevent-core-2.1-7",
                     "libevent-pthreads-2.1-7", "libevent-extra-2.1-7", "libssl3"):
        check(required in installed, f"runtime installs {required}")
    users = [rest for instruction, rest in runtime["lines"] if instruction == "USER"]
    check(bool(users) and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]) is not None,
          f"runtime runs as a numeric non-root user ({users[-1] if users else None})")
    healthchecks = [rest for instruction, rest in runtime["lines"] if instruction == "HEALTHCHECK"]
    check(len(healthchecks) == 1 and "tradeinctl" in healthchecks[0] and "health" in healthchecks[0]
          and not re.search(r"\b(curl|wget)\b", healthchecks[0]), "HEALTHCHECK is gRPC health via tradeinctl")
    entrypoints = [rest for instruction, rest in runtime["lines"] if instruction == "ENTRYPOINT"]
    check(entrypoints == ['["tradein-server"]'], "ENTRYPOINT [\"tradein-server\"] (exec form: PID 1 gets signals)")
    env_text = " ".join(rest for instruction, rest in runtime["lines"] if instruction == "ENV")
    env = dict(re.findall(r"(\w+)=(\S+)", env_text))
    env_names.check(env.keys(), "Dockerfile ENV")
    check(env.get("TRADEIN_POLICY_DIR") == "/etc/tradein/policies", "TRADEIN_POLICY_DIR=/etc/tradein/policies")
    check("/etc/tradein/policies" in build_text and "deploy/policies/*.textproto" in build_text,
          "the shipped policies go to /etc/tradein/policies")
    ignore = os.path.join(args.source, "deploy/docker/Dockerfile.dockerignore")
    if check(os.path.isfile(ignore), "Dockerfile.dockerignore keeps the context small"):
        patterns = read(ignore).split()
        check(".git" in patterns and any(p.startswith("build") for p in patterns),
              "Dockerfile.dockerignore excludes .git and build trees")
    binaries = [b for b in (args.server, args.ctl, args.lint) if b]
    if not binaries:
        note("no binaries given: runtime libraries not compared with ldd")
        return
    needed = {}
    for binary in binaries:
        code, libraries, missing = ldd_libraries(binary)
        check(code == 0 and not missing, f"ldd {os.path.basename(binary)}: {len(libraries)} libraries, none missing")
        for library in libraries:
            needed.setdefault(library, set()).add(os.path.basename(binary))
    owners = owning_packages(sorted(needed))
    by_package = {}
    for library in sorted(needed):
        package = owners.get(library)
        if package is None:
            fail(f"{library} belongs to no Debian package (dpkg -S): built locally? the image cannot have it")
            continue
        by_package.setdefault(package, []).append(os.path.basename(library))
    ok(f"{len(needed)} shared libraries map to {len(by_package)} Debian packages (dpkg -S)")
    for package, libraries in sorted(by_package.items()):
        where = "installed by the runtime stage" if package in installed else (
            "in debian:12-slim" if package in BASE_IMAGE_PACKAGES else "MISSING from the runtime stage")
        check(package in installed or package in BASE_IMAGE_PACKAGES,
              f"{package} ({len(libraries)} lib(s), e.g. {libraries[0]}): {where}")


############################################################################################################
# Redis


def redis_directives(text):
    directives = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            directives.setdefault(key.lower(), []).append(value.strip())
    return directives


def used_redis_commands(source, all_commands):
    """Commands the Redis client and the Redis quota store send, and the commands their Lua scripts call."""
    used = set()
    lua = glob.glob(os.path.join(source, "services/quota/redis/lua/*.lua"))
    store = glob.glob(os.path.join(source, "services/quota/redis_quota_store*.cc")) + glob.glob(
        os.path.join(source, "services/quota/redis/*.cc"))
    client = glob.glob(os.path.join(source, "services/redis/*.cc")) + [
        os.path.join(source, "services/server/redis_connection.cc")]
    for path in lua:
        used.update(c.lower() for c in re.findall(r"redis\.p?call\(\s*['\"](\w+)['\"]", read(path)))
    for path in store + client:
        text = read(path)
        for command, sub in re.findall(r"(?:\{|push_back\()\s*\"([A-Z]+)\"(?:\s*,\s*\"([A-Z]+)\")?", text):
            command = command.lower()
            if command not in all_commands:
                continue
            if sub and f"{command}|{sub.lower()}" in all_commands:
                used.add(f"{command}|{sub.lower()}")
            else:
                used.add(command)
    return used, bool(store and lua)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cli(port, user, password, *command):
    arguments = ["redis-cli", "-p", str(port), "--no-auth-warning"]
    if user:
        arguments += ["--user", user, "--pass", password]
    result = subprocess.run(arguments + list(command), capture_output=True, text=True, timeout=10)
    return result.stdout.strip()


def readme_redis_command(source):
    """The `redis-server ...` line of the README's Redis section, as a word list (None when there is none)."""
    section = read(os.path.join(source, "README.md")).split("### Redis\n", 1)[-1].split("\n### ", 1)[0]
    for line in section.splitlines():
        if line.startswith("redis-server "):
            return line.split("#", 1)[0].split()
    return None


def check_redis(args):
    redis_dir = os.path.join(args.source, "deploy/redis")
    conf_text = read(os.path.join(redis_dir, "redis.conf"))
    directives = redis_directives(conf_text)

    def one(key):
        values = directives.get(key, [])
        return values[-1] if values else None

    for key, value in (("appendonly", "yes"), ("appendfsync", "always"), ("aof-use-rdb-preamble", "yes"),
                       ("maxmemory-policy", "noeviction"), ("protected-mode", "yes"),
                       ("no-appendfsync-on-rewrite", "no"), ("save", '""')):
        check(one(key) == value, f"redis.conf: {key} {value}")
    check(one("maxmemory") is not None, "redis.conf: maxmemory set (noeviction needs a bound to refuse at)")
    bind = one("bind") or ""
    check(bind and not re.search(r"(^|\s)(0\.0\.0\.0|\*|-?::\*)(\s|$)", bind),
          f"redis.conf: binds specific interfaces ({bind})")
    check(one("aclfile") is not None and "requirepass" not in directives, "redis.conf: users from an ACL file")
    for phrase in ("everysec", "acknowledg", "Watch"):
        check(phrase in conf_text, f"redis.conf explains appendfsync always ({phrase!r})")
    check("TLS" in conf_text and "hiredis 0.14" in conf_text, "redis.conf says why there is no TLS")

    template = read(os.path.join(redis_dir, "users.acl.template"))
    users = {}
    for line in template.splitlines():
        words = line.split()
        if words and words[0] == "user":
            users[words[1]] = words[2:]
    check(set(users) == {"default", "probe", "tradein", "admin"}, f"ACL users {sorted(users)}")
    check("off" in users.get("default", []) and "nopass" not in users.get("default", []),
          "ACL: the default user is off and has no nopass")
    check(users.get("probe", [])[-2:] == ["-@all", "+ping"] and not any(w.startswith("~") for w in users["probe"]),
          "ACL: probe may PING and nothing else")
    tradein = users.get("tradein", [])
    check("-@all" in tradein and not any(w.startswith("+@") for w in tradein), "ACL: tradein grants commands one by one")
    check([w for w in tradein if w.startswith("~") or w.startswith("%")] == ["~tq:*"], "ACL: tradein keys are tq:* only")
    check("nopass" not in tradein and any(w.startswith("#") for w in tradein), "ACL: tradein has a password hash")
    granted = {w[1:] for w in tradein if w.startswith("+")}
    dangerous = {"flushall", "flushdb", "config", "keys", "scan", "debug", "shutdown", "acl", "module", "eval_ro",
                 "migrate", "replicaof", "slaveof", "script|flush", "script|kill", "function", "monitor"}
    check(not (granted & dangerous), "ACL: tradein has no administrative or key-enumerating command")

    redis_server = os.environ.get("TRADEIN_REDIS_SERVER") or find_program("redis-server")
    if not check(redis_server is not None and find_program("redis-cli") is not None,
                 "redis-server and redis-cli are installed"):
        return
    with tempfile.TemporaryDirectory(prefix="tradein-redis-conf-") as tmp:
        with open(os.path.join(tmp, "tradein.password"), "w") as f:
            f.write("tradein-password-for-the-check\n")
        with open(os.path.join(tmp, "admin.password"), "w") as f:
            f.write("admin-password-for-the-check")
        acl = os.path.join(tmp, "users.acl")
        rendered = subprocess.run([os.path.join(redis_dir, "render-acl.sh"), os.path.join(tmp, "tradein.password"),
                                   os.path.join(tmp, "admin.password"), acl], capture_output=True, text=True)
        check(rendered.returncode == 0, f"render-acl.sh writes the ACL file {rendered.stderr.strip()}")
        acl_text = read(acl) if os.path.exists(acl) else ""
        check("password-for-the-check" not in acl_text and "@" not in acl_text.replace("+@all", "").replace("-@all", ""),
              "the ACL file holds hashes, no clear-text password or placeholder")
        check(oct(os.stat(acl).st_mode & 0o777) == "0o600" if os.path.exists(acl) else False,
              "the ACL file is readable by its owner only")
        check(one("dir") == "./", "redis.conf: dir ./ (a missing directory there stops Redis before --dir is read)")
        check("--dir /data" in read(os.path.join(redis_dir, "start-redis.sh")),
              "start-redis.sh passes --dir /data (the containers' volume)")
        # The README's own command line, run as written: the shipped file itself, its `--dir` (a directory the
        # README's mkdir makes, here moved into the temporary directory), plus only the port and the ACL file.
        command = readme_redis_command(args.source)
        data_dir = os.path.join(tmp, "data")
        if not check(command is not None and command[:2] == ["redis-server", "deploy/redis/redis.conf"]
                     and "--dir" in command, f"the README starts Redis with redis.conf and a local --dir {command}"):
            return
        os.mkdir(data_dir)
        arguments = [redis_server, os.path.join(args.source, command[1])] + [
            data_dir if previous == "--dir" else word for previous, word in zip(command[1:], command[2:])]
        port = free_port()
        log = open(os.path.join(tmp, "log"), "w")
        process = subprocess.Popen(arguments + ["--port", str(port), "--aclfile", acl, "--daemonize", "no"],
                                   stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 10
            while redis_cli(port, "probe", "x", "PING") != "PONG" and time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                time.sleep(0.05)
            up = check(process.poll() is None and redis_cli(port, "probe", "x", "PING") == "PONG",
                       "redis-server starts with the README's command line; probe PINGs without a secret"
                       + ("" if process.poll() is None else ": " + read(os.path.join(tmp, "log"))[-800:]))
            if up:
                admin = ("admin", "admin-password-for-the-check")
                service = ("tradein", "tradein-password-for-the-check")
                reply = redis_cli(port, *admin, "CONFIG", "GET", "dir").splitlines()
                check(reply[-1:] == [data_dir], f"running Redis: dir is the --dir given ({reply[-1:]})")
                check(os.path.isdir(os.path.join(data_dir, "appendonlydir")),
                      "the AOF (appendonlydir) is written in the --dir directory")
                for key, value in (("appendonly", "yes"), ("appendfsync", "always"),
                                   ("maxmemory-policy", "noeviction"), ("aof-use-rdb-preamble", "yes")):
                    reply = redis_cli(port, *admin, "CONFIG", "GET", key).splitlines()
                    check(reply[-1:] == [value], f"running Redis: {key} {value}")
                check("NOAUTH" in redis_cli(port, None, None, "GET", "tq:x"), "unauthenticated: NOAUTH")
                check("NOPERM" in redis_cli(port, "probe", "x", "GET", "tq:x"), "probe: GET refused")
                check(redis_cli(port, *service, "SET", "tq:check", "1", "NX", "GET", "PX", "60000") == "",
                      "tradein: SET tq:* NX GET PX (Redis >= 7.0)")
                check("NOPERM" in redis_cli(port, *service, "SET", "other:key", "1"), "tradein: keys outside tq:* refused")
                check("NOPERM" in redis_cli(port, *service, "FLUSHALL"), "tradein: FLUSHALL refused")
                check("NOPERM" in redis_cli(port, *service, "CONFIG", "GET", "dir"), "tradein: CONFIG refused")
                sha = redis_cli(port, *service, "SCRIPT", "LOAD", "return redis.call('HINCRBY', KEYS[1], 'u', 1)")
                check(re.fullmatch(r"[0-9a-f]{40}", sha) is not None, "tradein: SCRIPT LOAD")
                check(redis_cli(port, *service, "EVALSHA", sha, "1", "tq:{b:x}:q") == "1",
                      "tradein: EVALSHA of a script writing tq:* keys")
                denied = redis_cli(port, *service, "SCRIPT", "LOAD", "return redis.call('FLUSHALL')")
                check("can't run this command" in redis_cli(port, *service, "EVALSHA", denied, "0"),
                      "tradein: a script cannot run what the user may not")
                all_commands = set()
                for line in redis_cli(port, *admin, "COMMAND", "LIST").splitlines():
                    all_commands.add(line.strip().lower())
                for line in redis_cli(port, *admin, "COMMAND", "INFO", "script").splitlines():
                    if re.fullmatch(r"script\|\w+", line.strip()):
                        all_commands.add(line.strip())
                all_commands |= {"script|load", "script|exists", "script|flush", "script|kill"}
                check(granted <= all_commands, f"every command granted to tradein exists in Redis 7 "
                      f"{sorted(granted - all_commands)}")
                used, store_present = used_redis_commands(args.source, all_commands)
                used -= {"auth", "hello"}  # always allowed
                if store_present:
                    check(used <= granted, f"the tradein grant covers every command the client and store use "
                          f"(missing: {sorted(used - granted)})")
                    # Reported, not failed: a grant may run ahead of a store change in review (harmless
                    # commands only: the dangerous ones are refused above).
                    if granted - used:
                        note(f"granted to tradein but used by nothing in this tree: {sorted(granted - used)}")
                    else:
                        ok("every command granted to tradein is used by the client or the store")
                else:
                    note("services/quota has no Redis store sources yet: grant not compared with its commands")
                    check(used <= granted, f"the tradein grant covers the client's commands {sorted(used)}")
                if args.server and args.ctl:
                    check_server_on_redis(args, port, tmp, service, admin)
                else:
                    note("no --server/--ctl: tradein-server not run against this Redis")
        finally:
            process.kill()
            process.wait()
            log.close()


def check_server_on_redis(args, redis_port, tmp, service, admin, store_args=None, acl_ports=None):
    """tradein-server as the `tradein` ACL user of the shipped config: a claim's whole life, the sweeper, usage
    and budgets, with no command refused (ACL LOG stays empty). By default on the one Redis at `redis_port`
    (--redis); `store_args` instead (e.g. --redis_cluster), with the ACL LOG of every port in `acl_ports`."""
    acl_ports = acl_ports or [redis_port]
    store_args = store_args or [f"--redis=redis://{service[0]}:{service[1]}@127.0.0.1:{redis_port}"]
    for acl_port in acl_ports:
        redis_cli(acl_port, *admin, "ACL", "LOG", "RESET")  # forget the refusals the checks above provoked
    with open(os.path.join(tmp, "buyer.key"), "w") as f:
        f.write("0123456789abcdef" * 4)
    os.chmod(os.path.join(tmp, "buyer.key"), 0o600)
    port = free_port()
    address = f"127.0.0.1:{port}"
    log = open(os.path.join(tmp, "server.log"), "w")
    server = subprocess.Popen(
        [args.server, f"--listen={address}", f"--policy_dir={os.path.join(args.source, 'deploy/policies')}",
         *store_args, f"--buyer_key_file={os.path.join(tmp, 'buyer.key')}",
         "--simulated_now=2025-06-01T10:00:00+08:00",
         "--metrics_listen=", "--sweep_interval=100ms"], stdout=log, stderr=log)

    def ctl(*arguments):
        result = subprocess.run([args.ctl, f"--server={address}", "--deadline=5s"] + list(arguments),
                                capture_output=True, text=True, timeout=30)
        return result.returncode, result.stdout, result.stderr

    try:
        deadline = time.monotonic() + 15
        while ctl("health", "all")[0] != 0 and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.1)
        code, out, err = ctl("health", "all")
        if not check(code == 0, f"tradein-server {store_args[0].split('=')[0]} (user tradein) is SERVING, "
                     "ClaimService included"
                     + ("" if code == 0 else f": {err} {read(os.path.join(tmp, 'server.log'))[-800:]}")):
            return
        sale = ["--retailer=shop-1", "--buyer=330381199001011230", "--region=330381", "--date=2025-06-01"]
        code, out, err = ctl("--json", "claim", *sale, "--request_id=deploy-check-1", "--item",
                             "appliance.refrigerator:5000:grade=1", "--item", "ebike.new:3000:surrendered,certified")
        claim_id = re.search(r'"claimId":\s*"([^"]+)"', out)
        check(code == 0 and '"state": "RESERVED"' in out and claim_id is not None,
              f"claim reserved through Redis {err.strip()}")
        if claim_id:
            code, out, err = ctl("confirm", claim_id.group(1), "--invoice=INV-1", "--serials", "1:SN-1")
            check(code == 0 and "CONFIRMED" in out, f"claim confirmed through Redis {err.strip()}")
            code, out, err = ctl("refund", claim_id.group(1), "--line", "2", "--request_id=deploy-refund-1")
            check(code == 0 and "PARTIALLY_REFUNDED" in out, f"claim partly refunded through Redis {err.strip()}")
        code, out, err = ctl("--json", "claim", *sale, "--request_id=deploy-check-2", "--item",
                             "digital.phone:3000")
        other = re.search(r'"claimId":\s*"([^"]+)"', out)
        if other:
            code, out, err = ctl("cancel", other.group(1))
            check(code == 0 and "CANCELLED" in out, f"claim cancelled through Redis {err.strip()}")
        code, out, err = ctl("usage", "--buyer=330381199001011230", "--region=330381", "--date=2025-06-01")
        check(code == 0 and re.search(r"cn-2025 +1 +1 +0 ", out) is not None, f"usage read from Redis {err.strip()}")
        code, out, err = ctl("budget", "--region=330381", "--date=2025-06-01")
        check(code == 0 and "2,000,000.00" in out, f"budget read from Redis {err.strip()}")
        time.sleep(0.3)  # a few sweeps
        denied = "".join(redis_cli(acl_port, *admin, "ACL", "LOG") for acl_port in acl_ports)
        check(denied == "", "no command of the server or its sweeper was refused (ACL LOG is empty)"
              + ("" if denied == "" else ":\n" + denied[:1500]))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


############################################################################################################


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, help="repository root")
    parser.add_argument("--build", help="build tree (checks the Dockerfile's copy paths)")
    parser.add_argument("--server", help="tradein-server binary")
    parser.add_argument("--ctl", help="tradeinctl binary")
    parser.add_argument("--lint", help="tradein-policy-lint binary")
    parser.add_argument("checks", nargs="+",
                        choices=["nginx", "k8s", "compose", "cluster", "configmap", "dockerfile", "redis"])
    args = parser.parse_args()
    os.chdir(args.source)
    for name in args.checks:
        print(f"== {name}")
        globals()[f"check_{name}"](args)
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed:")
        for message in FAILURES:
            print(f"  {message}")
        return 1
    print("\nall deploy checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
