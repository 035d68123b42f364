#!/usr/bin/python3
# File: tests/deploy_config_test.py
#
# Static checks of the deployment files: docker-compose.yaml, deploy/Dockerfile and
# deploy/k8s/*.yaml. The development machines and CI have no Docker engine and no
# Kubernetes cluster, so nothing here is started; instead every name the files share
# with the code is checked against the code itself, by running the real binaries with
# --helpfull (each flag that has an environment variable ends its help with
# "Environment: NAME."). A renamed flag, topic or group therefore fails this test
# rather than a deployment. The secure variant (docker-compose.secure.yaml over
# docker-compose.yaml) gets the same checks, merged, and is checked against
# tools/kafka_secure.py, the local secure cluster it mirrors; its deploy/compose/make-secrets
# is the one thing run for real (openssl, into a scratch directory).
#
# Kafka UI's configuration (deploy/kafka-ui/config.yml) is checked the same way against
# proto/, the directory compose mounts for it: the files are compiled with protoc, and
# every topic and message type the configuration names must exist.
#
# Run by Bazel (//tests:deploy_config_test) from its runfiles, or by hand from the
# repository root after `bazel build //waiter //cook //manager //deploy/devbroker`:
#   python3 tests/deploy_config_test.py
# Debian's python3 with python3-yaml (tools/install_deps.sh installs both).

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    sys.exit("deploy_config_test: no PyYAML for " + sys.executable +
             "; install Debian's python3-yaml (tools/install_deps.sh does)")

# Where the binaries are: Bazel's runfiles (cook/cook), or a source tree (bazel-bin/...).
BIN_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where the deployment files are: beside the binaries if Bazel was given them as data,
# else the source tree this script lives in (its runfiles entry links there).
ROOT = BIN_ROOT
if not os.path.isfile(os.path.join(ROOT, "docker-compose.yaml")):
    ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
COMPOSE = "docker-compose.yaml"
SECURE_COMPOSE = "docker-compose.secure.yaml"
DOCKERFILE = "deploy/Dockerfile"
K8S_DIR = "deploy/k8s"
# The binaries the deployments run, each configured through its environment.
SERVICE_BINARIES = {
    "waiter": "waiter/waiter",
    "cook": "cook/cook",
    "manager": "manager/manager",
    "board": "board/board",
}
DEVBROKER = "deploy/devbroker/devbroker"
# Libraries every debian:12-slim image has (priority required), so the Dockerfile
# need not install them.
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"}
# What the runtime image offers a healthcheck or probe besides the binaries.
PROBE_TOOLS = {"sh", "test", "find", "grep", "cat", "["}

errors = []
checks = 0


def fail(where, message):
    errors.append(f"{where}: {message}")


def check(condition, where, message):
    global checks
    checks += 1
    if not condition:
        fail(where, message)
    return condition


# ---------------------------------------------------------------------------------
# The code's side: flags, environment variables and defaults of each binary.


def binary_path(relative):
    """The built binary: in Bazel's runfiles it sits at its package path; in a source
    tree, under bazel-bin."""
    for candidate in (os.path.join(BIN_ROOT, relative),
                      os.path.join(BIN_ROOT, "bazel-bin", relative)):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class Flags:
    """What `BINARY --helpfull` says: each flag's default and environment variable."""

    def __init__(self, name, text):
        self.name = name
        self.defaults = {}  # flag -> default value, unquoted
        self.env = {}  # environment variable -> flag
        flat = re.sub(r"\s+", " ", text)
        for flag, help_text, default in re.findall(
                r"--(\w+) \((.*?)\); default: (.*?);", flat):
            self.defaults[flag] = default.strip().strip('"')
            for env in re.findall(r"Environment: ([A-Z][A-Z0-9_]*)\.", help_text):
                self.env[env] = flag

    def default_for_env(self, env):
        return self.defaults.get(self.env.get(env, ""), None)


def read_flags(name, relative):
    path = binary_path(relative)
    if path is None:
        fail(relative, "binary not found (build it: bazel build //" +
             os.path.dirname(relative) + ")")
        return None
    # A clean environment: the defaults, not whatever the caller has set.
    result = subprocess.run([path, "--helpfull"], capture_output=True, text=True,
                            timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    text = result.stdout + result.stderr
    flags = Flags(name, text)
    if not check(flags.defaults, relative, "--helpfull listed no flags:\n" + text):
        return None
    return flags


# ---------------------------------------------------------------------------------
# Helpers for the files.


def load_yaml_documents(relative):
    path = os.path.join(ROOT, relative)
    try:
        with open(path) as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
    except OSError as e:
        fail(relative, f"cannot read it: {e.strerror}")
        return None
    except yaml.YAMLError as e:
        fail(relative, f"not valid YAML: {e}")
        return None
    global checks
    checks += 1
    return documents


def environment_dict(where, environment):
    """Compose's `environment`, as a mapping or as a list of NAME=value."""
    if environment is None:
        return {}
    if isinstance(environment, dict):
        for name, value in environment.items():
            check(value is None or (isinstance(value, (str, int, float)) and
                                    not isinstance(value, bool)),
                  where, f"environment {name}: {value!r} must be a string or a number "
                  "(quote it)")
        return {str(k): ("" if v is None else str(v)) for k, v in environment.items()}
    result = {}
    for item in environment:
        name, _, value = str(item).partition("=")
        result[name] = value
    return result


def as_argv(value):
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value]


def image_repository(image):
    """kitchen for kitchen:latest, registry.example.com/x/kitchen:1 and kitchen@sha256:..."""
    image = str(image).split("@")[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":")[0]


def host_ports(where, ports):
    """The published ports of a compose `ports` list: (host address, host port,
    protocol, container port) each."""
    published = []
    for entry in ports or []:
        if isinstance(entry, dict):
            if entry.get("published") is not None:
                published.append((str(entry.get("host_ip", "")), str(entry["published"]),
                                  entry.get("protocol", "tcp"), str(entry.get("target"))))
            continue
        text = str(entry)
        text, _, protocol = text.partition("/")
        parts = text.rsplit(":", 2)
        if len(parts) == 1:
            continue  # Only a container port: Docker picks a free host port.
        host_ip = parts[0] if len(parts) == 3 else ""
        published.append((host_ip, parts[-2], protocol or "tcp", parts[-1]))
    for _, port, _, _ in published:
        check(re.fullmatch(r"\d+(-\d+)?", port), where, f"published port {port!r} is not a number")
    return published


# ---------------------------------------------------------------------------------
# deploy/Dockerfile.


class Dockerfile:
    def __init__(self):
        self.targets = []  # Bazel labels built.
        self.binaries = {}  # Binary name -> bazel-bin path copied into the image.
        self.runtime_packages = set()
        self.user = None
        self.stages = []  # (base image, stage name)


def read_dockerfile():
    where = DOCKERFILE
    path = os.path.join(ROOT, DOCKERFILE)
    if not check(os.path.isfile(path), where, "missing: the kitchen services build from it"):
        return None
    with open(path) as f:
        text = f.read()
    # Instructions, with continuation lines joined and comments dropped.
    lines = []
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + line.strip()
        else:
            lines.append(line.strip())
    result = Dockerfile()
    run_in_stage = []  # RUN commands of each stage.
    for line in filter(None, lines):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            words = rest.split()
            stage = words[2] if len(words) >= 3 and words[1].upper() == "AS" else ""
            result.stages.append((words[0], stage))
            run_in_stage.append([])
        elif instruction == "RUN" and run_in_stage:
            run_in_stage[-1].append(rest)
        elif instruction == "USER":
            result.user = rest.strip()
    if not check(len(result.stages) >= 2, where,
                 "expected a multi-stage build (a build stage and a runtime stage)"):
        return result
    check(result.stages[0][0] == "debian:12", where,
          f"the build stage is FROM {result.stages[0][0]}, not debian:12 (the machines' system)")
    check(result.stages[-1][0] == "debian:12-slim", where,
          f"the runtime stage is FROM {result.stages[-1][0]}, not debian:12-slim")
    build_runs = " && ".join(" && ".join(runs) for runs in run_in_stage[:-1])
    check("tools/install_deps.sh" in build_runs, where,
          "the build stage does not run tools/install_deps.sh (the one dependency list)")
    build = re.search(r"bazel build ((?:\s*(?:-c \w+|--\S+|//\S+))+)", build_runs)
    if check(build, where, "the build stage runs no `bazel build //...`"):
        result.targets = re.findall(r"//\S+", build.group(1))
    for target in result.targets:
        package, _, name = target[2:].partition(":")
        name = name or package.rsplit("/", 1)[-1]
        relative = f"{package}/{name}"
        check(binary_path(relative) is not None, where,
              f"builds {target}, which is not a binary target this test knows (a real "
              "cc_binary belongs in the data of //tests:deploy_config_test)")
        copied = re.search(r"bazel-bin/" + re.escape(relative) + r"(?=\s|$)", build_runs)
        if check(copied, where, f"builds {target} but never copies bazel-bin/{relative}"):
            result.binaries[name] = relative
    for copied in re.findall(r"bazel-bin/(\S+)", build_runs):
        check(copied in result.binaries.values(), where,
              f"copies bazel-bin/{copied}, which `bazel build` does not build")
    for name in SERVICE_BINARIES:
        check(name in result.binaries, where, f"the image lacks the {name} binary")
    check(re.search(r"COPY --from=\S+ \S+ /usr/local/bin/?", text), where,
          "the binaries are not copied to /usr/local/bin")
    check(result.user and result.user.split(":")[0] not in ("root", "0"), where,
          f"the image must run as a non-root user (USER is {result.user!r})")
    for run in run_in_stage[-1]:
        for install in re.findall(r"apt-get install ([^&;|]*)", run):
            result.runtime_packages.update(
                word for word in install.split() if not word.startswith("-"))
    check(result.runtime_packages, where, "the runtime stage installs no packages")
    check_runtime_libraries(result)
    return result


def library_path_variants(library):
    """The paths dpkg may know a library by: as ldd found it and its real file, each
    under /lib and /usr/lib (Debian 12 merges them; dpkg keeps the installed path)."""
    variants = []
    for path in (library, os.path.realpath(library)):
        for variant in (path, re.sub(r"^/usr/lib/", "/lib/", path),
                        re.sub(r"^/lib/", "/usr/lib/", path)):
            if variant not in variants:
                variants.append(variant)
    return variants


def check_runtime_libraries(dockerfile):
    """Each library a binary is linked against directly comes from a package the
    runtime stage installs (or one debian:12-slim has)."""
    tools = [shutil.which(t) for t in ("readelf", "ldd", "dpkg-query")]
    if not all(tools):
        print("deploy_config_test: no readelf/ldd/dpkg-query; runtime libraries not checked")
        return
    needs = []  # (binary, soname, library path)
    for name, relative in sorted(dockerfile.binaries.items()):
        path = binary_path(relative)
        if path is None:
            continue
        dynamic = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic.stdout)
        ldd = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
        for soname in needed:
            if soname.startswith("ld-linux"):
                continue
            library = resolved.get(soname)
            if check(library and library != "not", DOCKERFILE,
                     f"{name} needs {soname}, which ldd cannot find"):
                needs.append((name, soname, library))
    # One dpkg-query for every path (it is slow to start): path -> package.
    paths = sorted({v for _, _, library in needs for v in library_path_variants(library)})
    search = subprocess.run(["dpkg-query", "-S"] + paths, capture_output=True, text=True)
    owners = {}
    for line in search.stdout.splitlines():
        package, _, path = line.partition(": ")
        owners[path.strip()] = package.split(":")[0].split(",")[0].strip()
    missing = {}  # Package -> the binaries (and libraries) that need it.
    for name, soname, library in needs:
        owner = next((owners[v] for v in library_path_variants(library) if v in owners), None)
        if not check(owner, DOCKERFILE, f"{name} needs {library}, which no Debian package "
                     "provides: the runtime image would not have it"):
            continue
        if owner in dockerfile.runtime_packages or owner in BASE_IMAGE_PACKAGES:
            check(True, DOCKERFILE, "")
        else:
            missing.setdefault(owner, set()).add(f"{name} ({soname})")
    for owner, users in sorted(missing.items()):
        fail(DOCKERFILE, f"the runtime stage does not install {owner}, which "
             f"{len(users)} binary/library pair(s) need, e.g. {sorted(users)[0]}")


# ---------------------------------------------------------------------------------
# Checks shared by compose and Kubernetes: one kitchen service's environment.


def check_service_environment(where, binary, env, flags_by_binary, health_commands):
    """`env`: NAME -> value (None when it comes from elsewhere, e.g. a Secret)."""
    flags = flags_by_binary.get(binary)
    if flags is None:
        return
    for name in sorted(env):
        check(name in flags.env, where,
              f"environment variable {name} is not read by {binary} (it reads "
              f"{', '.join(sorted(flags.env))})")
    # Names shared with the code must be the code's own: the topics and the group.
    for name in ("TOPIC", "DEAD_LETTER_TOPIC", "STATUS_TOPIC", "GROUP"):
        if env.get(name) is not None and name in flags.env:
            default = flags.default_for_env(name)
            check(env[name] == default, where,
                  f"{name}={env[name]} but {binary} --{flags.env[name]} defaults to "
                  f"{default!r}; the deployment must use the code's name")
    check("KAFKA_BOOTSTRAP_SERVERS" in env or "KAFKA_CONFIG_FILE" in env, where,
          f"{binary} is not told where Kafka is (KAFKA_BOOTSTRAP_SERVERS or "
          "KAFKA_CONFIG_FILE)")
    # A service with a health file must write one, and be probed on it.
    if "HEALTH_FILE" in flags.env:
        health = env.get("HEALTH_FILE")
        if check(health, where, f"{binary} writes a health file but HEALTH_FILE is not set"):
            for kind, command in health_commands.items():
                check(command and health in command, where,
                      f"the {kind} does not look at HEALTH_FILE {health}: {command!r}")
                if command:
                    check(re.search(r"-mmin -0?\.5\b", command), where,
                          f"the {kind} does not check that {health} was written within "
                          f"30 s (find {health} -mmin -0.5): {command!r}")
                    words = set(re.findall(r"(?:^|[|&;]\s*)([\w\[.-]+)", command))
                    check(words <= PROBE_TOOLS, where,
                          f"the {kind} uses {sorted(words - PROBE_TOOLS)}, which the "
                          f"runtime image lacks (it has {sorted(PROBE_TOOLS)})")
                # Readiness, and the end of startup, are what the file says: the
                # service writes `starting` before anything slow it does first (the
                # manager reads its ledger), so a file that exists is no sign.
                # Liveness is the file's age alone (a service between partitions is
                # alive).
                if command and kind != "liveness probe":
                    check(re.search(r"grep -qx ready", command), where,
                          f"the {kind} does not check that {health} says ready")
            # The manager reads its whole ledger before its loop first writes the
            # file: without a startup probe, liveness would kill it meanwhile.
            # (Compose's healthcheck kills nothing.)
            if binary == "manager" and "liveness probe" in health_commands:
                check("startup probe" in health_commands, where,
                      "the manager has no startup probe: liveness would kill a manager "
                      "still reading a long ledger")


def probe_command(probe):
    if not probe:
        return None
    command = (probe.get("exec") or {}).get("command")
    if not command:
        return None
    if len(command) >= 3 and command[0] in ("sh", "/bin/sh") and command[1] == "-c":
        return command[2]
    return " ".join(command)


# ---------------------------------------------------------------------------------
# docker-compose.yaml.


def kitchen_binary(argv, what, where, dockerfile):
    """The kitchen binary `argv` starts (checked to be one the image installs), or None."""
    binary = argv[0] if argv else None
    if not check(binary in SERVICE_BINARIES, where,
                 f"{what} {argv} does not start one of {sorted(SERVICE_BINARIES)}"):
        return None
    if dockerfile:
        check(binary in dockerfile.binaries, where,
              f"runs {binary}, which {DOCKERFILE} does not install")
    return binary


def check_compose(flags_by_binary, dockerfile, devbroker_flags, compose=None, where=COMPOSE):
    """`compose`: a configuration already loaded (the secure variant, merged), else
    docker-compose.yaml's."""
    if compose is None:
        documents = load_yaml_documents(COMPOSE)
        if not documents:
            return
        compose = documents[0]
    services = compose.get("services") or {}
    if not check(services, where, "defines no services"):
        return
    declared_volumes = set((compose.get("volumes") or {}).keys())
    used_volumes = set()
    published = {}
    kitchen_image = None
    brokers = {}  # service -> its environment
    advertised = set()  # host:port any broker advertises
    topic_setup = None
    kitchen_services = {}

    for name, service in services.items():
        at = f"{where}: service {name}"
        if not check(isinstance(service, dict), where, f"service {name} is not a mapping"):
            continue
        env = environment_dict(at, service.get("environment"))
        image = service.get("image")
        build = service.get("build")
        # Built from deploy/Dockerfile: a kitchen service.
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile_path = "Dockerfile" if isinstance(build, str) else build.get(
                "dockerfile", "Dockerfile")
            relative = os.path.normpath(os.path.join(context, dockerfile_path))
            check(relative == DOCKERFILE, at,
                  f"builds from {relative}, not {DOCKERFILE}")
            check(os.path.isfile(os.path.join(ROOT, relative)), at, f"{relative} is missing")
            kitchen_services[name] = (service, env)
            if image:
                check(kitchen_image in (None, image), at,
                      f"image {image} differs from the other kitchen services' {kitchen_image}")
                kitchen_image = image
        elif check(image, at, "has neither image nor build"):
            # Someone else's image: a pinned version, so that the file means one thing.
            check(re.search(r":[\w.-]+$", str(image)) and not str(image).endswith(":latest"),
                  at, f"image {image} has no pinned version tag")
        if image and str(image).startswith("apache/kafka") and "KAFKA_NODE_ID" in env:
            brokers[name] = env
        argv = as_argv(service.get("entrypoint")) + as_argv(service.get("command"))
        if any("kafka-topics.sh" in arg for arg in argv):
            topic_setup = (name, service, env, argv)
        for host_ip, port, protocol, target in host_ports(at, service.get("ports")):
            key = (port, protocol)
            check(key not in published, at,
                  f"publishes port {port}/{protocol}, already published by {published.get(key)}")
            published[key] = name
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
            kind = volume.get("type", "volume") if isinstance(volume, dict) else None
            if source and kind in (None, "volume") and not source.startswith((".", "/", "~", "$")):
                used_volumes.add(source)
                check(source in declared_volumes, at,
                      f"uses the named volume {source}, which the top-level volumes do not declare")
        depends_on = service.get("depends_on") or {}
        if isinstance(depends_on, list):
            depends_on = {d: {"condition": "service_started"} for d in depends_on}
        for other, condition in depends_on.items():
            if not check(other in services, at, f"depends on {other}, which is not a service"):
                continue
            condition = (condition or {}).get("condition", "service_started")
            check(condition in ("service_started", "service_healthy",
                                "service_completed_successfully"),
                  at, f"depends on {other} with an unknown condition {condition}")
            if condition == "service_healthy":
                check(services[other].get("healthcheck"), at,
                      f"waits for {other} to be healthy, but {other} has no healthcheck")
            if condition == "service_completed_successfully":
                check(str(services[other].get("restart", "no")) == "no", at,
                      f"waits for {other} to complete, but {other} restarts")
    for volume in sorted(declared_volumes - used_volumes):
        fail(where, f"declares the volume {volume}, which no service uses")

    # The brokers: KRaft, no ZooKeeper, a quorum of them all, advertised correctly.
    check(not any("zookeeper" in str(s.get("image", "")) for s in services.values()), where,
          "runs ZooKeeper; the cluster is KRaft")
    check(len(brokers) >= 3, where, f"has {len(brokers)} Kafka brokers, expected 3")
    node_ids = {}
    for name, env in brokers.items():
        at = f"{where}: service {name}"
        check("controller" in env.get("KAFKA_PROCESS_ROLES", ""), at,
              "is not a KRaft controller (KAFKA_PROCESS_ROLES)")
        check(env.get("CLUSTER_ID"), at, "has no CLUSTER_ID")
        node_id = env.get("KAFKA_NODE_ID")
        check(node_id not in node_ids, at,
              f"KAFKA_NODE_ID {node_id} is also {node_ids.get(node_id)}'s")
        node_ids[node_id] = name
        voters = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")
        check(f"{node_id}@{services[name].get('hostname', name)}:" in voters, at,
              f"is not among its own quorum voters {voters!r}")
        listeners = dict(re.findall(r"(\w+)://[^:,]*:(\d+)", env.get("KAFKA_LISTENERS", "")))
        service_ports = {port: target
                         for _, port, _, target in host_ports(at, services[name].get("ports"))}
        for listener, host, port in re.findall(r"(\w+)://([^:,]+):(\d+)",
                                               env.get("KAFKA_ADVERTISED_LISTENERS", "")):
            advertised.add(f"{host}:{port}")
            check(listener in listeners, at, f"advertises {listener}, which it does not listen on")
            if host in ("localhost", "127.0.0.1"):
                # For the host: the advertised port must be published to the listener.
                check(service_ports.get(port) == listeners.get(listener), at,
                      f"advertises {listener} as {host}:{port}, but publishes "
                      f"{port} to {service_ports.get(port)} instead of the listener's "
                      f"port {listeners.get(listener)}")
            else:
                check(host in (name, services[name].get("hostname")), at,
                      f"advertises {host}:{port}, not its own name")
    for setting in ("CLUSTER_ID", "KAFKA_CONTROLLER_QUORUM_VOTERS"):
        values = {env.get(setting) for env in brokers.values()}
        check(len(values) == 1, where, f"the brokers disagree on {setting}: {values}")

    # The topic setup: the code's topics, enough brokers for the replication factor.
    topics = set()
    if check(topic_setup, where, "no service creates the topics (kafka-topics.sh)"):
        name, service, env, argv = topic_setup
        at = f"{where}: service {name}"
        topics = set(env.get("TOPICS", "").split())
        partitions = env.get("PARTITIONS")
        replication = int(env.get("REPLICATION_FACTOR", "0") or 0)
        min_isr = int(env.get("MIN_INSYNC_REPLICAS", "0") or 0)
        for binary in ("cook", "manager", "waiter"):
            flags = flags_by_binary.get(binary)
            for variable in ("TOPIC", "DEAD_LETTER_TOPIC", "STATUS_TOPIC"):
                if flags and variable in flags.env:
                    default = flags.default_for_env(variable)
                    check(default in topics, at, f"does not create {default} ({binary}'s "
                          f"{variable}); TOPICS={sorted(topics)}")
        if devbroker_flags:
            check(partitions == devbroker_flags.defaults.get("partitions"), at,
                  f"PARTITIONS={partitions}, but the kitchen's topics have "
                  f"{devbroker_flags.defaults.get('partitions')} (devbroker --partitions)")
        check(3 <= replication <= len(brokers), at,
              f"REPLICATION_FACTOR={replication}: expected 3, at most the {len(brokers)} brokers")
        check(1 <= min_isr < replication, at,
              f"MIN_INSYNC_REPLICAS={min_isr} must be at least 1 and below the replication "
              f"factor {replication}, or one broker down stops every order")
        check(service.get("depends_on"), at, "does not wait for the brokers")
        script = argv[-1].replace("$$", "$")
        for variable in ("TOPICS", "PARTITIONS", "REPLICATION_FACTOR", "MIN_INSYNC_REPLICAS",
                         "BOOTSTRAP"):
            check("$" + variable in script, at, f"the script does not use ${variable}")
        if shutil.which("bash"):
            syntax = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
            check(syntax.returncode == 0, at, f"the script is not valid bash: {syntax.stderr}")
        for server in env.get("BOOTSTRAP", "").split(","):
            check(server in advertised, at,
                  f"BOOTSTRAP {server} is no broker's advertised listener")

    # The kitchen's own services.
    for binary in ("cook", "manager", "waiter"):
        check(binary in kitchen_services, where, f"has no {binary} service built from {DOCKERFILE}")
    for name, (service, env) in kitchen_services.items():
        at = f"{where}: service {name}"
        binary = kitchen_binary(as_argv(service.get("entrypoint")), "entrypoint", at,
                                dockerfile)
        if binary is None:
            continue
        healthcheck = service.get("healthcheck") or {}
        test = healthcheck.get("test")
        test_command = None
        if isinstance(test, list) and test and test[0] == "CMD-SHELL":
            test_command = " ".join(test[1:])
        elif isinstance(test, list) and test and test[0] == "CMD":
            test_command = " ".join(test[1:])
        elif isinstance(test, str):
            test_command = test
        health_commands = {"healthcheck": test_command} if name != "waiter" else {}
        check_service_environment(at, binary, env, flags_by_binary, health_commands)
        for server in env.get("KAFKA_BOOTSTRAP_SERVERS", "").split(","):
            check(server in advertised, at,
                  f"KAFKA_BOOTSTRAP_SERVERS {server} is no broker's advertised listener")
        for variable in ("TOPIC", "DEAD_LETTER_TOPIC", "STATUS_TOPIC"):
            if variable in env:
                check(env[variable] in topics, at,
                      f"{variable}={env[variable]} is not created by the topic setup")
        if binary != "waiter":
            check(topic_setup and (service.get("depends_on") or {}).get(topic_setup[0], {}).get(
                "condition") == "service_completed_successfully", at,
                "does not wait for the topic setup (depends_on ... service_completed_successfully)")
            check(service.get("stop_grace_period"), at,
                  "has no stop_grace_period for a graceful stop")
    if "cook" in kitchen_services:
        replicas = (kitchen_services["cook"][0].get("deploy") or {}).get("replicas")
        check(replicas == 2, f"{where}: service cook", f"deploy.replicas is {replicas}, expected 2")
    if "waiter" in kitchen_services:
        check("tools" in (kitchen_services["waiter"][0].get("profiles") or []),
              f"{where}: service waiter", "is not on demand (profiles: [tools])")
    if "manager" in kitchen_services:
        service, env = kitchen_services["manager"]
        ledger = env.get("LEDGER", "")
        mounts = [str(v).split(":")[1] for v in service.get("volumes") or [] if ":" in str(v)]
        check(any(ledger.startswith(m.rstrip("/") + "/") for m in mounts),
              f"{where}: service manager",
              f"the ledger {ledger} is not on a volume (mounted: {mounts})")


# ---------------------------------------------------------------------------------
# Kafka UI: docker-compose.yaml's kafka-ui, deploy/kafka-ui/config.yml and proto/.

# What the checks below know of Kafka UI is of this version's ProtobufFileSerde: its
# property names, that it reads every .proto under protobufFilesDir (recursively, an
# import being the path below it), and the well-known types it has built in.
KAFKA_UI_IMAGE = "provectuslabs/kafka-ui:v0.7.2"
# The well-known types v0.7.2's ProtobufFileSerde has built in (ProtoSchemaLoader's
# knownProtoFiles): an import of one resolves without it being in protobufFilesDir.
# protoc finds them in its own include directory (Debian's has exactly these), and an
# import that is neither mounted nor one of them fails the test. (v0.7.2 has googleapis'
# google/type/*.proto built in too; protoc here has not, so a file that imports one
# fails this test.)
KAFKA_UI_BUILTIN_PROTOS = {f"google/protobuf/{name}.proto" for name in (
    "any", "api", "descriptor", "duration", "empty", "field_mask", "source_context",
    "struct", "timestamp", "type", "wrappers")}
# The environment variable Spring Boot takes spring.config.additional-location from
# (any of its relaxed spellings).
SPRING_ADDITIONAL_LOCATION = ("SPRING_CONFIG_ADDITIONAL_LOCATION",
                              "SPRING_CONFIG_ADDITIONAL-LOCATION",
                              "SPRING_CONFIG_ADDITIONALLOCATION")


def compose_bind_mounts(service):
    """A compose service's host mounts: (host source, container target, read-only)."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "bind":
                mounts.append((str(volume.get("source")), str(volume.get("target")),
                               bool(volume.get("read_only"))))
            continue
        parts = str(volume).split(":")
        if len(parts) >= 2 and parts[0].startswith((".", "/", "~")):
            options = parts[2].split(",") if len(parts) > 2 else []
            mounts.append((parts[0], parts[1], "ro" in options))
    return mounts


def mounted_host_path(mounts, container_path):
    """The host path (relative to the compose file) that a container path is, and
    whether its mount is read-only; None if no mount holds it."""
    container_path = os.path.normpath(container_path)
    for source, target, read_only in mounts:
        target = os.path.normpath(target)
        if container_path == target or container_path.startswith(target + "/"):
            rest = os.path.relpath(container_path, target)
            return os.path.normpath(os.path.join(source, rest)), read_only
    return None


def parse_text_format(text):
    """protoc's text format (one field or brace per line) as nested dicts: field name
    -> list of values, a message's value being a dict again."""
    root = {}
    stack = [root]
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
        elif line.endswith("{") and ":" not in line:
            child = {}
            stack[-1].setdefault(line[:-1].strip(), []).append(child)
            stack.append(child)
        else:
            name, _, value = line.partition(":")
            value = value.strip()
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1]
            stack[-1].setdefault(name.strip(), []).append(value)
    return root


def message_names(prefix, messages):
    """The full names of the messages (and their nested messages) of a descriptor."""
    for message in messages:
        name = f"{prefix}.{message['name'][0]}" if prefix else message["name"][0]
        yield name
        yield from message_names(name, message.get("nested_type", []))


def compile_protos(protoc, directory, files):
    """protoc over `files` (paths below `directory`), with `directory` as the one
    include path besides protoc's own (Debian's well-known types): the files of the
    descriptor set, imports included, as parsed text format; or None and why not."""
    with tempfile.TemporaryDirectory() as scratch:
        descriptor_set = os.path.join(scratch, "descriptor_set.pb")
        compiled = subprocess.run(
            [protoc, "-I", ".", "--include_imports", "--descriptor_set_out=" + descriptor_set]
            + files, cwd=directory, capture_output=True, text=True, timeout=60)
        if compiled.returncode != 0:
            return None, ("protoc (with them and the well-known types only) cannot "
                          f"compile them:\n{compiled.stderr.strip()}")
        with open(descriptor_set, "rb") as f:
            decoded = subprocess.run(
                [protoc, "--decode=google.protobuf.FileDescriptorSet",
                 "google/protobuf/descriptor.proto"], stdin=f, capture_output=True,
                timeout=60)
        if decoded.returncode != 0:
            return None, ("protoc cannot decode the descriptor set (has it "
                          f"google/protobuf/descriptor.proto?): {decoded.stderr.decode()}")
    return parse_text_format(decoded.stdout.decode()).get("file", []), None


def read_only_mount(mounts, container_path, what, where):
    """The host path mounted at `container_path` (a file or a directory below a bind
    mount), which must be read-only; None (an error said) if none is."""
    mounted = mounted_host_path(mounts, container_path)
    if not check(mounted, where, f"{what} is in none of its volumes "
                 f"{[t for _, t, _ in mounts]}"):
        return None
    host_path, read_only = mounted
    check(read_only, where, f"mounts {host_path} writable; mount it read-only (:ro)")
    return host_path


def spring_value(value, env):
    """A config file's value as Spring resolves it: "${NAME:default}" is the variable
    NAME of the environment `env`, else the default."""
    match = re.fullmatch(r"\$\{([A-Z0-9_]+):(.*)\}", str(value))
    return env.get(match.group(1), match.group(2)) if match else value


def check_kafka_ui(flags_by_binary, compose=None, compose_where=COMPOSE):
    """Kafka UI shows every kitchen topic's records decoded: its configuration names
    the topics kafka-setup creates and message types that the .proto files it is given
    define, and those files resolve (imports included) as Kafka UI will resolve them.
    `compose`: a parsed compose model (the secure variant merged), else COMPOSE's.
    Returns the cluster's client properties and read-only flag as Kafka UI will see
    them (the file's ${NAME:default} resolved in kafka-ui's environment), or None."""
    if compose is None:
        documents = load_yaml_documents(COMPOSE)
        if not documents:
            return None
        compose = documents[0]
    services = compose.get("services") or {}
    where = f"{compose_where}: service kafka-ui"
    ui = services.get("kafka-ui")
    if not check(isinstance(ui, dict), compose_where, "has no kafka-ui service"):
        return None
    if not check(ui.get("image") == KAFKA_UI_IMAGE, where,
                 f"image {ui.get('image')}: these checks know {KAFKA_UI_IMAGE}'s protobuf "
                 "serde (its properties, its built-in .proto files); check them against the "
                 "new version's source and update KAFKA_UI_IMAGE"):
        return None
    env = environment_dict(where, ui.get("environment"))
    cluster_variables = sorted(n for n in env if n.upper().startswith("KAFKA_CLUSTERS"))
    check(not cluster_variables, where,
          f"sets {', '.join(cluster_variables)}: Spring binds the list kafka.clusters from "
          "one property source only, so these would replace the config file's cluster "
          "(its serdes too); put them in the file")
    location_variable = next((n for n in SPRING_ADDITIONAL_LOCATION if n in env), None)
    if not check(location_variable, where,
                 f"no {SPRING_ADDITIONAL_LOCATION[0]}: Kafka UI would not read its config "
                 "file, and would show no topic decoded"):
        return None
    location = env[location_variable]
    if not check(not location.startswith("optional:") and "," not in location, where,
                 f"{location_variable}={location}: expected one file, not optional (a "
                 "missing file must stop Kafka UI, not leave it undecoded)"):
        return None
    location = location[len("file:"):] if location.startswith("file:") else location
    mounts = compose_bind_mounts(ui)
    config_file = read_only_mount(mounts, location, f"{location} ({location_variable})",
                                  where)
    if not config_file:
        return None
    documents = load_yaml_documents(config_file)
    if not documents:
        return None
    at = config_file
    clusters = (documents[0].get("kafka") or {}).get("clusters") if isinstance(
        documents[0], dict) else None
    if not check(isinstance(clusters, list) and len(clusters) == 1 and
                 isinstance(clusters[0], dict), at,
                 f"expected kafka.clusters to be one cluster, found {clusters!r}"):
        return None
    cluster = clusters[0]
    check(cluster.get("name"), at, "the cluster has no name")
    # Client properties and readOnly: literal, or ${NAME:default} for the secure
    # variant to set in kafka-ui's environment (not KAFKA_CLUSTERS_0_*, above). A key
    # with a dot is bracketed, or Spring nests it.
    client = {}
    for key, value in (cluster.get("properties") or {}).items():
        key = str(key)
        if check(key.startswith("[") and key.endswith("]"), at,
                 f"cluster property {key}: write it \"[{key}]\", or Spring splits it at "
                 "the dot"):
            client[key[1:-1]] = str(spring_value(value, env))
    ui_read_only = str(spring_value(cluster.get("readOnly", False), env)).lower()
    cook_env = environment_dict(f"{compose_where}: service cook",
                                   (services.get("cook") or {}).get("environment"))
    check(cluster.get("bootstrapServers") == cook_env.get("KAFKA_BOOTSTRAP_SERVERS"), at,
          f"bootstrapServers {cluster.get('bootstrapServers')} differs from the kitchen "
          f"services' KAFKA_BOOTSTRAP_SERVERS {cook_env.get('KAFKA_BOOTSTRAP_SERVERS')}")
    check(cluster.get("defaultKeySerde") == "String", at,
          f"defaultKeySerde is {cluster.get('defaultKeySerde')!r}, expected String: every "
          "key is text (a table number, GROUP/MEMBER)")
    serdes = [s for s in cluster.get("serde") or [] if isinstance(s, dict)]
    serde_names = [s.get("name") for s in serdes]
    if cluster.get("defaultValueSerde") is not None:
        check(cluster["defaultValueSerde"] in serde_names + ["String"], at,
              f"defaultValueSerde {cluster['defaultValueSerde']} is not a configured serde "
              f"({serde_names}): Kafka UI would not start")
    protobuf = [s for s in serdes if s.get("name") == "ProtobufFile"]
    if not check(len(protobuf) == 1, at,
                 f"expected one ProtobufFile serde, found {len(protobuf)}"):
        return None
    properties = protobuf[0].get("properties") or {}
    for ignored in ("protobufFile", "protobufFiles"):
        check(ignored not in properties, at,
              f"sets {ignored}, which ProtobufFile ignores when protobufFilesDir is set")
    for key_property in ("protobufMessageNameForKey", "protobufMessageNameForKeyByTopic"):
        check(key_property not in properties, at,
              f"sets {key_property}: the kitchen's keys are text (String), not protobuf")
    files_dir = properties.get("protobufFilesDir")
    if not check(isinstance(files_dir, str) and files_dir, at, "no protobufFilesDir"):
        return None
    proto_dir = read_only_mount(mounts, files_dir, f"protobufFilesDir {files_dir}", where)
    if not proto_dir:
        return None
    by_topic = properties.get("protobufMessageNameByTopic")
    if not check(isinstance(by_topic, dict) and by_topic, at,
                 "no protobufMessageNameByTopic: no topic would be decoded"):
        return None
    types = {}  # topic -> message type of its values
    for key, message_type in by_topic.items():
        key = str(key)
        if key.startswith("[") and key.endswith("]"):
            topic = key[1:-1]
        else:
            topic = key
            check(re.fullmatch(r"[a-z0-9-]+", key), at,
                  f"protobufMessageNameByTopic key {key}: write it \"[{key}]\"; unbracketed, "
                  "Spring splits a map key at a dot and drops other punctuation")
        types[topic] = str(message_type)
    # The topics: exactly those kafka-setup creates, each one decoded.
    created = set()
    for service in (s for s in services.values() if isinstance(s, dict)):
        argv = as_argv(service.get("entrypoint")) + as_argv(service.get("command"))
        if any("kafka-topics.sh" in arg for arg in argv):
            created = set(environment_dict(where, service.get("environment")).get(
                "TOPICS", "").split())
    for topic in sorted(types):
        check(topic in created, at, f"protobufMessageNameByTopic maps {topic}, which "
              f"kafka-setup does not create (TOPICS: {' '.join(sorted(created))})")
    for topic in sorted(created - set(types)):
        fail(at, f"{topic} (created by kafka-setup) has no message type in "
             "protobufMessageNameByTopic: Kafka UI would show its values as bytes")
    # Dead letters are copies of the records of the topic they serve.
    cook = flags_by_binary.get("cook")
    if cook:
        source = cook_env.get("TOPIC", cook.default_for_env("TOPIC"))
        dead_letters = cook_env.get("DEAD_LETTER_TOPIC",
                                       cook.default_for_env("DEAD_LETTER_TOPIC"))
        if source in types and dead_letters in types:
            check(types[dead_letters] == types[source], at,
                  f"{dead_letters} holds copies of {source}'s records: map it to "
                  f"{types[source]}, not {types[dead_letters]}")

    # The .proto files: everything Kafka UI will read from the mount, compiled the way
    # it resolves them.
    host_dir = os.path.join(ROOT, proto_dir)
    if not check(os.path.isdir(host_dir), where, f"mounts {proto_dir}, which is not a "
                 "directory here (in the data of //tests:deploy_config_test?)"):
        return None

    def proto_files(directory):
        return sorted(os.path.relpath(os.path.join(d, f), directory)
                      for d, _, names in os.walk(directory) for f in names
                      if f.endswith(".proto"))

    files = proto_files(host_dir)
    if not check(files, where, f"{proto_dir} has no .proto file"):
        return None
    source_root = os.path.dirname(os.path.realpath(os.path.join(ROOT, COMPOSE)))
    if source_root != ROOT and os.path.isdir(os.path.join(source_root, proto_dir)):
        for missing in sorted(set(proto_files(os.path.join(source_root, proto_dir))) -
                              set(files)):
            fail(where, f"{proto_dir}/{missing} is not in the data of "
                 "//tests:deploy_config_test")
    protoc = shutil.which("protoc")
    if not check(protoc, where, "no protoc on PATH to compile the mounted .proto files: "
                 "install Debian's protobuf-compiler (tools/install_deps.sh does)"):
        return None
    descriptors, error = compile_protos(protoc, host_dir, files)
    if not check(descriptors is not None, where, f"the .proto files in {proto_dir}: {error}"):
        return None
    defined = {}  # message type -> the mounted file that defines it
    for descriptor in descriptors:
        name = descriptor["name"][0]
        for dependency in descriptor.get("dependency", []):
            check(dependency in files or dependency in KAFKA_UI_BUILTIN_PROTOS, where,
                  f"{proto_dir}/{name} imports {dependency}, which is neither in "
                  f"{proto_dir} nor built into Kafka UI: it would not start")
        if name in files:
            package = descriptor.get("package", [""])[0]
            for message in message_names(package, descriptor.get("message_type", [])):
                defined[message] = name
    named = dict(types)
    if properties.get("protobufMessageName") is not None:
        named["(protobufMessageName)"] = str(properties["protobufMessageName"])
    for topic, message_type in sorted(named.items()):
        check(message_type in defined, at,
              f"{topic}: {message_type} is not a message of the .proto files in "
              f"{proto_dir} (they define {', '.join(sorted(defined))})")
    return {"properties": client, "read_only": ui_read_only}


# ---------------------------------------------------------------------------------
# deploy/k8s/*.yaml.

NAMESPACED = {"ConfigMap", "Secret", "Deployment", "StatefulSet", "Job", "Service",
              "PersistentVolumeClaim", "ServiceAccount", "CronJob"}


def pod_spec_checks(at, kind, spec, objects, flags_by_binary, dockerfile,
                    kitchen_repository, claim_templates=()):
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    pod = template.get("spec") or {}
    if kind in ("Deployment", "StatefulSet"):
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        if check(selector, at, "has no spec.selector.matchLabels"):
            for key, value in selector.items():
                check(labels.get(key) == value, at,
                      f"selector {key}={value} does not match the template's labels {labels}")
    if kind == "Job":
        check(pod.get("restartPolicy") in ("Never", "OnFailure"), at,
              f"a Job's restartPolicy must be Never or OnFailure, not {pod.get('restartPolicy')}")
    containers = pod.get("containers") or []
    if not check(containers, at, "has no containers"):
        return
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    volume_names = set(volumes) | set(claim_templates)
    pod_security = pod.get("securityContext") or {}
    for container in containers:
        cat = f"{at}: container {container.get('name')}"
        check(container.get("name"), at, "has a container without a name")
        image = container.get("image")
        if not check(image, cat, "has no image"):
            continue
        mounts = {}
        for mount in container.get("volumeMounts") or []:
            check(mount.get("name") in volume_names, cat,
                  f"mounts volume {mount.get('name')}, which the pod does not define")
            mounts[mount.get("mountPath")] = mount.get("name")
        if image_repository(image) != kitchen_repository:
            continue
        # A kitchen service.
        binary = kitchen_binary(as_argv(container.get("command")), "command", cat,
                                dockerfile)
        if binary is None:
            continue
        security = container.get("securityContext") or {}
        check(security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True, cat,
              "does not set securityContext.runAsNonRoot: true")
        resources = container.get("resources") or {}
        for part in ("requests", "limits"):
            amounts = resources.get(part) or {}
            check(amounts.get("cpu") and amounts.get("memory"), cat,
                  f"has no resources.{part} for cpu and memory")
        env = {}
        for item in container.get("env") or []:
            name = item.get("name")
            if "value" in item:
                env[name] = str(item["value"])
            else:
                env[name] = None
                ref = (item.get("valueFrom") or {}).get("configMapKeyRef")
                if ref:
                    config = objects.get(("ConfigMap", ref.get("name")))
                    if check(config, cat, f"{name} refers to ConfigMap {ref.get('name')}, "
                             "which is not defined"):
                        data = config.get("data") or {}
                        if check(ref.get("key") in data, cat,
                                 f"{name} refers to key {ref.get('key')}, which ConfigMap "
                                 f"{ref.get('name')} lacks"):
                            env[name] = str(data[ref.get("key")])
        for source in container.get("envFrom") or []:
            ref = source.get("configMapRef")
            if not ref:
                continue
            config = objects.get(("ConfigMap", ref.get("name")))
            if check(config, cat, f"envFrom ConfigMap {ref.get('name')}, which is not defined"):
                for key, value in (config.get("data") or {}).items():
                    env.setdefault(key, str(value))
        probes = {}
        if kind != "Job":
            probes = {"liveness probe": probe_command(container.get("livenessProbe")),
                      "readiness probe": probe_command(container.get("readinessProbe"))}
            if container.get("startupProbe"):
                probes["startup probe"] = probe_command(container.get("startupProbe"))
            grace = pod.get("terminationGracePeriodSeconds", 30)
            check(grace >= 30, cat,
                  f"terminationGracePeriodSeconds {grace} is too short for a graceful stop")
        check_service_environment(cat, binary, env, flags_by_binary, probes)
        # The Kafka properties file comes from a mounted Secret that has it.
        config_file = env.get("KAFKA_CONFIG_FILE")
        if config_file:
            directory, file_name = os.path.split(config_file)
            volume = volumes.get(mounts.get(directory))
            if check(volume and volume.get("secret"), cat,
                     f"KAFKA_CONFIG_FILE {config_file} is not in a mounted Secret"):
                secret_name = volume["secret"].get("secretName")
                secret = objects.get(("Secret", secret_name))
                if check(secret, cat, f"mounts Secret {secret_name}, which is not defined"):
                    keys = set(secret.get("stringData") or {}) | set(secret.get("data") or {})
                    check(file_name in keys, cat, f"Secret {secret_name} has no {file_name}")
                # A volume that projects some keys only must project this one.
                items = volume["secret"].get("items")
                if items is not None:
                    check(any(i.get("path") == file_name and i.get("key") == file_name
                              for i in items), cat,
                          f"the Secret volume's items leave out {file_name}")
        for path in (env.get("HEALTH_FILE"), env.get("LEDGER")):
            if path and kind != "Job":
                writable = [m for m in mounts if path.startswith(m.rstrip("/") + "/")]
                check(writable or not security.get("readOnlyRootFilesystem"), cat,
                      f"{path} is on the read-only root filesystem (mount a volume there)")
        if env.get("LEDGER"):
            ledger_mount = [m for m in mounts if env["LEDGER"].startswith(m.rstrip("/") + "/")]
            check(ledger_mount and mounts[ledger_mount[0]] in claim_templates, cat,
                  f"the ledger {env['LEDGER']} is not on a persistent volume claim")


def check_kubernetes(flags_by_binary, dockerfile):
    files = sorted(glob.glob(os.path.join(ROOT, K8S_DIR, "*.yaml")))
    if not check(files, K8S_DIR, "no manifests"):
        return
    # Given the manifests as Bazel data: every manifest in the source tree must be.
    source_root = os.path.dirname(os.path.realpath(os.path.join(ROOT, COMPOSE)))
    if source_root != ROOT and os.path.isdir(os.path.join(source_root, K8S_DIR)):
        given = {os.path.basename(f) for f in files}
        for path in sorted(glob.glob(os.path.join(source_root, K8S_DIR, "*.yaml"))):
            check(os.path.basename(path) in given, K8S_DIR,
                  f"{os.path.basename(path)} is not in the data of //tests:deploy_config_test")
    objects = {}  # (kind, name) -> object
    documents = []  # (file, object)
    for path in files:
        relative = os.path.relpath(path, ROOT)
        for document in load_yaml_documents(relative) or []:
            at = relative
            if not check(isinstance(document, dict), at, "a document is not a mapping"):
                continue
            for field in ("apiVersion", "kind"):
                check(document.get(field), at, f"a document has no {field}")
            name = (document.get("metadata") or {}).get("name")
            kind = document.get("kind")
            check(name, at, f"a {kind} has no metadata.name")
            check((kind, name) not in objects, at, f"{kind} {name} is defined twice")
            objects[(kind, name)] = document
            documents.append((relative, document))
    namespaces = [name for kind, name in objects if kind == "Namespace"]
    check(namespaces == ["kitchen"], K8S_DIR, f"expected the Namespace kitchen, found {namespaces}")
    kitchen_repository = "kitchen"
    api_versions = {"Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
                    "Deployment": "apps/v1", "StatefulSet": "apps/v1", "Job": "batch/v1"}
    for relative, document in documents:
        kind = document.get("kind")
        name = (document.get("metadata") or {}).get("name")
        at = f"{relative}: {kind} {name}"
        if kind in api_versions:
            check(document.get("apiVersion") == api_versions[kind], at,
                  f"apiVersion {document.get('apiVersion')}, expected {api_versions[kind]}")
        if kind in NAMESPACED and namespaces:
            namespace = (document.get("metadata") or {}).get("namespace")
            check(namespace in namespaces, at, f"namespace {namespace} is not the kitchen's")
        spec = document.get("spec") or {}
        if kind == "Secret":
            for key, properties in (document.get("stringData") or {}).items():
                if not key.endswith(".properties"):
                    continue
                for number, line in enumerate(properties.splitlines(), 1):
                    line = line.strip()
                    check(not line or line.startswith("#") or
                          re.fullmatch(r"[a-z][a-z0-9._]*\s*=.*", line),
                          at, f"{key} line {number} is not name=value: {line!r}")
        elif kind == "Service":
            selector = spec.get("selector") or {}
            matched = any(
                all(((o.get("spec") or {}).get("template") or {}).get("metadata", {}).get(
                    "labels", {}).get(k) == v for k, v in selector.items())
                for (k2, _), o in objects.items() if k2 in ("Deployment", "StatefulSet"))
            check(selector and matched, at, f"selector {selector} matches no workload")
        elif kind in ("Deployment", "StatefulSet", "Job"):
            claims = ()
            if kind == "StatefulSet":
                service = spec.get("serviceName")
                if check(service, at, "has no spec.serviceName"):
                    check(("Service", service) in objects, at,
                          f"serviceName {service} is not a Service defined here")
                    if ("Service", service) in objects:
                        check(objects[("Service", service)]["spec"].get("clusterIP") == "None", at,
                              f"Service {service} is not headless (clusterIP: None)")
                templates = spec.get("volumeClaimTemplates") or []
                check(templates, at, "has no volumeClaimTemplates")
                claims = tuple((t.get("metadata") or {}).get("name") for t in templates)
                for claim in templates:
                    resources = (claim.get("spec") or {}).get("resources") or {}
                    check((resources.get("requests") or {}).get("storage"), at,
                          f"volumeClaimTemplate {(claim.get('metadata') or {}).get('name')} "
                          "requests no storage")
            pod_spec_checks(at, kind, spec, objects, flags_by_binary, dockerfile,
                            kitchen_repository, claims)
    for binary in ("cook", "manager"):
        runs = [name for (kind, name), o in objects.items()
                if kind in ("Deployment", "StatefulSet") and any(
                    as_argv(c.get("command"))[:1] == [binary]
                    for c in ((o.get("spec") or {}).get("template") or {}).get(
                        "spec", {}).get("containers", []))]
        check(runs, K8S_DIR, f"no Deployment or StatefulSet runs {binary}")
    check(("StatefulSet", "manager") in objects, K8S_DIR, "the manager is not a StatefulSet")
    if ("Deployment", "cook") in objects:
        replicas = objects[("Deployment", "cook")]["spec"].get("replicas")
        check(replicas == 2, K8S_DIR, f"the cook Deployment has {replicas} replicas, expected 2")
    check(any(k == "Job" for k, _ in objects), K8S_DIR, "no Job runs the waiter")


# ---------------------------------------------------------------------------------
# docker-compose.secure.yaml: the secure variant, over docker-compose.yaml.

# What deploy/compose/ holds besides the secrets: the scripts the containers run.
COMPOSE_DIR = "deploy/compose"
MAKE_SECRETS = "deploy/compose/make-secrets"
ACL_TABLE = "deploy/compose/acls"
SECRETS_DIR = "deploy/compose/secrets"
SECRETS_MOUNT = "/run/secrets/"


def import_from(directory, module):
    """A Python module of the source tree (tools/kafka_secure.py, tests/compose_files.py)."""
    for root in (BIN_ROOT, ROOT):
        if os.path.isfile(os.path.join(root, directory, module + ".py")):
            sys.path.insert(0, os.path.join(root, directory))
            return __import__(module)
    fail(directory, f"no {module}.py (a data file of //tests:deploy_config_test)")
    return None


def secure_kafka_version():
    """The Kafka tools/kafka up --secure runs (third_party/kafka-3.9/pom.xml)."""
    for root in (BIN_ROOT, ROOT):
        path = os.path.join(root, "third_party", "kafka-3.9", "pom.xml")
        if os.path.isfile(path):
            with open(path) as f:
                match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", f.read())
            return match.group(1) if match else None
    return None


def make_secrets(where):
    """Runs deploy/compose/make-secrets for real into a scratch directory: {file: its
    text (None for binary files)}, or None. Then checks what it made."""
    script = os.path.join(ROOT, MAKE_SECRETS)
    if not check(os.path.isfile(script) and os.access(script, os.X_OK), where,
                 f"{MAKE_SECRETS} is missing or not executable"):
        return None
    scratch = tempfile.mkdtemp(prefix="make-secrets.", dir=os.environ.get("TEST_TMPDIR"))
    directory = os.path.join(scratch, "secrets")
    done = subprocess.run([script, directory], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    if not check(done.returncode == 0, MAKE_SECRETS,
                 f"failed (status {done.returncode}): {done.stderr.strip()}"):
        return None
    again = subprocess.run([script, directory], capture_output=True, text=True, timeout=60)
    check(again.returncode != 0 and "exists already" in again.stderr, MAKE_SECRETS,
          "replaced existing secrets (the brokers' SCRAM users were made from them)")
    check(os.stat(directory).st_mode & 0o777 == 0o700, MAKE_SECRETS,
          "the secrets directory is not 0700")
    check(os.listdir(scratch) == ["secrets"], MAKE_SECRETS,
          f"left other files beside the secrets: {os.listdir(scratch)}")
    made = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        mode = os.stat(path).st_mode & 0o777
        check(mode & 0o022 == 0, MAKE_SECRETS, f"{name} is writable by others ({mode:o})")
        try:
            with open(path) as f:
                made[name] = f.read()
        except UnicodeDecodeError:
            made[name] = None
    check(not any(name.endswith(".key") or name.endswith(".srl") for name in made),
          MAKE_SECRETS, f"left a private key or serial behind: {sorted(made)}")
    # The brokers' certificate: signed by ca.crt, valid for every name a client uses.
    if "broker.p12" in made and "keystore.password" in made and shutil.which("openssl"):
        certificate = subprocess.run(
            ["openssl", "pkcs12", "-in", os.path.join(directory, "broker.p12"), "-nokeys",
             "-clcerts", "-passin", "file:" + os.path.join(directory, "keystore.password")],
            capture_output=True, text=True)
        text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=certificate.stdout,
                              capture_output=True, text=True).stdout
        for name in ("DNS:kafka-1", "DNS:kafka-2", "DNS:kafka-3", "DNS:localhost",
                     "IP Address:127.0.0.1"):
            check(name in text, MAKE_SECRETS, f"the brokers' certificate is not valid for {name}")
        with open(os.path.join(scratch, "broker.pem"), "w") as f:
            f.write(certificate.stdout)
        verify = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(directory, "ca.crt"),
                                 os.path.join(scratch, "broker.pem")],
                                capture_output=True, text=True)
        check(verify.returncode == 0, MAKE_SECRETS,
              f"ca.crt did not sign the brokers' certificate: {verify.stdout}{verify.stderr}")
    shutil.rmtree(scratch)
    return made


def properties_of(text):
    return dict(line.split("=", 1) for line in (text or "").splitlines()
                if "=" in line and not line.lstrip().startswith("#"))


def check_no_password_literal(where, name, service):
    """No password in a service's environment, command or healthcheck: only paths to
    the files that hold them."""
    env = environment_dict(f"{where}: service {name}", service.get("environment"))
    values = [(f"environment {k}", k, v) for k, v in env.items()]
    for part in ("entrypoint", "command"):
        values += [(part, "", v) for v in as_argv(service.get(part))]
    values += [("healthcheck", "", v) for v in as_argv((service.get("healthcheck") or {}).get("test"))]
    for what, key, value in values:
        at = f"{where}: service {name}"
        check(not re.search(r"password\s*=|sasl\.password|username=\S+ password", value, re.I),
              at, f"{what} holds a password: give it as a file in /run/secrets")
        if re.search(r"PASSWORD|SECRET|JAAS|CREDENTIAL", key):
            check(value.startswith(SECRETS_MOUNT), at,
                  f"{what} looks secret but is not a path in {SECRETS_MOUNT}")


def check_secure_compose(flags_by_binary, dockerfile, devbroker_flags):
    where = SECURE_COMPOSE
    compose_files = import_from("tests", "compose_files")
    kafka_secure = import_from("tools", "kafka_secure")
    documents = load_yaml_documents(SECURE_COMPOSE)
    base_documents = load_yaml_documents(COMPOSE)
    if not (documents and base_documents and compose_files and kafka_secure):
        return
    base, override = base_documents[0], documents[0]
    merged = compose_files.merge(base, override)
    merged_where = f"{COMPOSE} + {SECURE_COMPOSE}"
    # Everything docker-compose.yaml is checked for holds for the merged variant too.
    check_compose(flags_by_binary, dockerfile, devbroker_flags, merged, merged_where)
    services = merged.get("services") or {}
    overridden = override.get("services") or {}
    for name in overridden:
        check(name in base.get("services", {}) or name == "kafka-acls", where,
              f"service {name} is not docker-compose.yaml's (a misspelt override starts "
              "a new service)")

    # The secrets: each one make-secrets makes, under deploy/compose/secrets; each used.
    made = make_secrets(where) or {}
    defined = override.get("secrets") or {}
    for secret, spec in defined.items():
        path = os.path.normpath(str((spec or {}).get("file", "")))
        check(path == os.path.join(SECRETS_DIR, secret), where,
              f"secret {secret} is not the file {SECRETS_DIR}/{secret} (file: {path})")
        if made:
            check(secret in made, where, f"secret {secret} is not made by {MAKE_SECRETS} "
                  f"(it makes {sorted(made)})")
    for secret in sorted(set(made) - set(defined)):
        fail(where, f"{MAKE_SECRETS} makes {secret}, which no secret of this file is")
    used = set()
    for name, service in services.items():
        for secret in compose_files.service_secrets(service):
            used.add(secret)
            check(secret in defined, f"{where}: service {name}",
                  f"mounts secret {secret}, which the top-level secrets do not define")
        check_no_password_literal(merged_where, name, service)
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
            check(not os.path.normpath(str(source)).startswith(COMPOSE_DIR), f"{where}: service {name}",
                  f"bind-mounts {source}: {COMPOSE_DIR} holds every service's secrets")
    for secret in sorted(set(defined) - used):
        fail(where, f"defines secret {secret}, which no service mounts")
    passwords = set()
    for name, text in made.items():
        passwords.update(v for k, v in properties_of(text).items() if k == "sasl.password")
        passwords.update(re.findall(r'password="([^"]+)"', text or ""))
        if name.endswith(".password"):
            passwords.add(text.strip())
    check(len(passwords) == 7, MAKE_SECRETS,
          f"expected 7 passwords (admin, controller, 4 users, the keystore), made {len(passwords)}")
    for relative in (COMPOSE, SECURE_COMPOSE):
        with open(os.path.join(ROOT, relative)) as f:
            text = f.read()
        check(not any(p in text for p in passwords), relative, "holds a generated password")

    # The scripts the containers run: each a config of its own, valid bash.
    configs = override.get("configs") or {}
    config_targets = {}  # (service, target) -> source file
    for secret, spec in configs.items():
        path = os.path.normpath(str((spec or {}).get("file", "")))
        check(path.startswith(COMPOSE_DIR + "/") and not path.startswith(SECRETS_DIR)
              and os.path.isfile(os.path.join(ROOT, path)), where,
              f"config {secret} is not a file of {COMPOSE_DIR} (file: {path})")
    for name, service in services.items():
        for config in service.get("configs") or []:
            source = config if isinstance(config, str) else config.get("source")
            target = "/" + source if isinstance(config, str) else config.get("target")
            if check(source in configs, f"{where}: service {name}",
                     f"mounts config {source}, which the top-level configs do not define"):
                config_targets[(name, target)] = os.path.normpath(configs[source]["file"])
    for path in sorted(set(config_targets.values())):
        if path.endswith(("kafka-broker", "kafka-acls")) and shutil.which("bash"):
            syntax = subprocess.run(["bash", "-n", os.path.join(ROOT, path)],
                                    capture_output=True, text=True)
            check(syntax.returncode == 0, path, f"is not valid bash: {syntax.stderr}")

    def runs(name, script):
        """The service's entrypoint runs deploy/compose/SCRIPT, mounted as a config."""
        argv = as_argv(services[name].get("entrypoint"))
        at = f"{where}: service {name}"
        if check(len(argv) == 2 and argv[0] in ("bash", "/bin/bash"), at,
                 f"entrypoint {argv} is not [/bin/bash, SCRIPT]"):
            check(config_targets.get((name, argv[1])) == f"{COMPOSE_DIR}/{script}", at,
                  f"entrypoint runs {argv[1]}, which is not the config of {COMPOSE_DIR}/{script}")

    def mounts_exactly(name, expected):
        actual = sorted(compose_files.service_secrets(services[name]))
        check(actual == sorted(expected), f"{where}: service {name}",
              f"mounts the secrets {actual}, expected exactly {sorted(expected)}")

    # One Kafka everywhere in the secure variant: tools/kafka up --secure's.
    version = secure_kafka_version()
    check(version, where, "no <kafka.version> in third_party/kafka-3.9/pom.xml (//tools:local_kafka)")
    for name, service in services.items():
        image = str(service.get("image", ""))
        if image.startswith("apache/kafka"):
            check(image == f"apache/kafka:{version}", f"{where}: service {name}",
                  f"image {image}: the secure variant runs Kafka {version}, as "
                  "tools/kafka up --secure does (librdkafka #4895)")

    # The brokers: TLS and SCRAM on every client listener, tools/kafka_secure.py's
    # settings, the users it creates.
    store, ca = SECRETS_MOUNT + "broker.p12", SECRETS_MOUNT + "ca.crt"
    expected = kafka_secure.broker_settings(
        SECRETS_MOUNT.rstrip("/"), "STORE", {u: "P" for u in [kafka_secure.ADMIN,
                                                               kafka_secure.CONTROLLER,
                                                               *kafka_secure.USERS]})
    brokers = {n: s for n, s in services.items()
               if "KAFKA_NODE_ID" in environment_dict(n, s.get("environment"))}
    check(len(brokers) == 3, where, f"{len(brokers)} brokers, expected 3")
    for name, service in brokers.items():
        at = f"{merged_where}: service {name}"
        env = environment_dict(at, service.get("environment"))
        settings = compose_files.broker_properties(env)
        protocols = compose_files.listener_protocols(env)
        listeners = compose_files.listener_ports(env.get("KAFKA_LISTENERS"))
        advertised = compose_files.listener_ports(env.get("KAFKA_ADVERTISED_LISTENERS"))
        controller = env.get("KAFKA_CONTROLLER_LISTENER_NAMES")
        for listener in listeners:
            check(listener in protocols, at, f"listener {listener} has no security protocol")
        for listener, protocol in protocols.items():
            if listener == controller:
                check(protocol == "SASL_PLAINTEXT", at,
                      f"the controllers' listener {listener} is {protocol}, not SASL_PLAINTEXT")
            else:
                check(protocol == "SASL_SSL", at, f"client listener {listener} is {protocol}: "
                      "every client listener must ask for TLS and SASL (SASL_SSL)")
        check(controller not in advertised, at, "advertises the controllers' listener")
        for listener in advertised:
            check(protocols.get(listener) == "SASL_SSL", at, f"advertises {listener}, which is not SASL_SSL")
        for _, port, _, target in host_ports(at, service.get("ports")):
            published = [l for l, (_, p) in listeners.items() if p == target]
            check(published and all(protocols.get(l) == "SASL_SSL" for l in published), at,
                  f"publishes port {port} to {target}, which is no SASL_SSL listener's")
        inter_broker = env.get("KAFKA_INTER_BROKER_LISTENER_NAME")
        check(protocols.get(inter_broker) == expected["inter.broker.listener.name"], at,
              f"the inter-broker listener {inter_broker} is {protocols.get(inter_broker)}, "
              f"not {expected['inter.broker.listener.name']} (tools/kafka_secure.py)")
        client_listeners = [l for l, p in protocols.items() if p == "SASL_SSL"]
        for key, value in expected.items():
            if key == "inter.broker.listener.name":
                continue
            keys = [key]
            if key.startswith("listener.name.sasl_ssl."):
                keys = [key.replace(".sasl_ssl.", f".{l.lower()}.") for l in client_listeners]
            elif key.startswith("listener.name.controller.") and controller:
                keys = [key.replace(".controller.", f".{controller.lower()}.")]
            for setting in keys:
                if "password" in value or "password" in key:
                    # kafka-broker writes these from the secrets: never the environment.
                    check(setting not in settings, at,
                          f"{setting} holds a password: it must come from the secrets "
                          "(deploy/compose/kafka-broker), not the environment")
                elif key == "ssl.keystore.location":
                    check(settings.get(setting) == store, at, f"{setting} is {settings.get(setting)}, not {store}")
                elif key == "ssl.truststore.location":
                    check(settings.get(setting) == ca, at, f"{setting} is {settings.get(setting)}, not {ca}")
                else:
                    check(settings.get(setting) == value, at,
                          f"{setting} is {settings.get(setting)!r}, but tools/kafka_secure.py "
                          f"gives the secure cluster {value!r}")
        check(env.get("KITCHEN_SCRAM_USERS", "").split() == [kafka_secure.ADMIN, *kafka_secure.USERS],
              at, f"KITCHEN_SCRAM_USERS is {env.get('KITCHEN_SCRAM_USERS')!r}, not tools/kafka_secure.py's "
              f"users {[kafka_secure.ADMIN, *kafka_secure.USERS]}")
        check(env.get("KITCHEN_BROKER_USER") == kafka_secure.ADMIN, at,
              f"KITCHEN_BROKER_USER is not {kafka_secure.ADMIN}")
        check(env.get("KITCHEN_CONTROLLER_USER") == kafka_secure.CONTROLLER, at,
              f"KITCHEN_CONTROLLER_USER is not {kafka_secure.CONTROLLER}")
        runs(name, "kafka-broker")
        check("/run/kafka" in [str(t).split(":")[0] for t in as_argv(service.get("tmpfs"))], at,
              "has no tmpfs at /run/kafka (where kafka-broker writes server.properties)")
        test = " ".join(as_argv((service.get("healthcheck") or {}).get("test")))
        check("--command-config /run/kafka/client.properties" in test, at,
              f"the healthcheck does not log in (--command-config /run/kafka/client.properties): {test!r}")
        mounts_exactly(name, ["ca.crt", "broker.p12", "keystore.password", "controller.password"]
                       + [f"{u}.properties" for u in env.get("KITCHEN_SCRAM_USERS", "").split()])

    # The kitchen's services: each its own user's file, and the CA.
    for name, service in services.items():
        if service.get("build") is None:
            continue
        at = f"{merged_where}: service {name}"
        binary = (as_argv(service.get("entrypoint")) or [None])[0]
        env = environment_dict(at, service.get("environment"))
        own = f"{binary}.properties"
        check(binary in kafka_secure.USERS, at, f"runs {binary}, which has no user of its own")
        check(env.get("KAFKA_CONFIG_FILE") == SECRETS_MOUNT + own, at,
              f"KAFKA_CONFIG_FILE is {env.get('KAFKA_CONFIG_FILE')}, not its own {SECRETS_MOUNT}{own}")
        mounts_exactly(name, [own, "ca.crt"])
        if own in made:
            settings = properties_of(made[own])
            for key, value in [("security.protocol", "SASL_SSL"),
                               ("sasl.mechanisms", kafka_secure.MECHANISM),
                               ("sasl.username", binary), ("ssl.ca.location", ca)]:
                check(settings.get(key) == value, MAKE_SECRETS,
                      f"{own}: {key} is {settings.get(key)!r}, expected {value!r}")
        if binary != "waiter":
            check((service.get("depends_on") or {}).get("kafka-acls", {}).get("condition")
                  == "service_completed_successfully", at,
                  "does not wait for the ACLs (depends_on kafka-acls: service_completed_successfully)")

    # Kafka's own tools: the topic setup and the ACLs, as admin.
    admin_java = properties_of(made.get("admin-java.properties"))
    check(admin_java.get("ssl.truststore.location") == ca and
          admin_java.get("security.protocol") == "SASL_SSL" and
          f'username="{kafka_secure.ADMIN}"' in admin_java.get("sasl.jaas.config", ""),
          MAKE_SECRETS, "admin-java.properties is not admin's over SASL_SSL trusting ca.crt")
    for name in ("kafka-setup", "kafka-acls"):
        if not check(name in services, where, f"has no service {name}"):
            continue
        at = f"{merged_where}: service {name}"
        env = environment_dict(at, services[name].get("environment"))
        check(env.get("COMMAND_CONFIG") == SECRETS_MOUNT + "admin-java.properties", at,
              "COMMAND_CONFIG is not /run/secrets/admin-java.properties")
        mounts_exactly(name, ["admin-java.properties", "ca.crt"])
    if "kafka-setup" in services:
        script = " ".join(as_argv(services["kafka-setup"].get("command"))).replace("$$", "$")
        check(re.search(r"\$\{COMMAND_CONFIG:\+--command-config \$COMMAND_CONFIG\}", script) and
              script.count("kafka-topics.sh --bootstrap-server \"$BOOTSTRAP\" $CREDENTIALS")
              == script.count("kafka-topics.sh"), f"{COMPOSE}: service kafka-setup",
              "not every kafka-topics.sh logs in with COMMAND_CONFIG (--command-config)")
    if "kafka-acls" in services:
        service = services["kafka-acls"]
        at = f"{merged_where}: service kafka-acls"
        env = environment_dict(at, service.get("environment"))
        runs("kafka-acls", "kafka-acls")
        check(config_targets.get(("kafka-acls", env.get("ACL_TABLE"))) == ACL_TABLE, at,
              f"ACL_TABLE {env.get('ACL_TABLE')} is not the config of {ACL_TABLE}")
        check(str(service.get("restart")) == "no", at, "a one-shot must not restart")
        for broker in brokers:
            check((service.get("depends_on") or {}).get(broker, {}).get("condition")
                  == "service_healthy", at, f"does not wait for {broker} to be healthy")
        advertised = {f"{h}:{p}" for s in brokers.values() for h, p in compose_files.listener_ports(
            environment_dict(at, s.get("environment")).get("KAFKA_ADVERTISED_LISTENERS")).values()}
        for server in env.get("BOOTSTRAP", "").split(","):
            check(server in advertised, at, f"BOOTSTRAP {server} is no broker's advertised listener")
    try:
        table = compose_files.acl_table(os.path.join(ROOT, ACL_TABLE))
    except (OSError, ValueError) as error:
        fail(ACL_TABLE, str(error))
        table = None
    if table is not None:
        check(table == kafka_secure.ACLS, ACL_TABLE,
              "differs from tools/kafka_secure.py's ACLS (row by row, in order): "
              f"{[r for r in table if r not in kafka_secure.ACLS]} here only, "
              f"{[r for r in kafka_secure.ACLS if r not in table]} there only")

    # Kafka UI: admin, read-only, over TLS and SCRAM, its password in the JAAS file.
    if check("kafka-ui" in services, where, "has no kafka-ui"):
        at = f"{merged_where}: service kafka-ui"
        env = environment_dict(at, services["kafka-ui"].get("environment"))
        # Its config file's cluster (decoding included) as the secure variant's
        # environment resolves it.
        ui = check_kafka_ui(flags_by_binary, merged, merged_where) or {
            "properties": {}, "read_only": None}
        for key, value in [("security.protocol", "SASL_SSL"),
                           ("sasl.mechanism", kafka_secure.MECHANISM),
                           ("ssl.truststore.type", "PEM"),
                           ("ssl.truststore.location", ca)]:
            got = ui["properties"].get(key)
            check(got == value, at, f"Kafka UI's {key} is {got!r}, expected {value!r}")
        check(ui["read_only"] == "true", at,
              f"Kafka UI's readOnly is {ui['read_only']!r}, expected true")
        check(env.get("JAVA_OPTS") == "-Djava.security.auth.login.config=" + SECRETS_MOUNT
              + "kafka-ui.jaas", at, f"JAVA_OPTS is {env.get('JAVA_OPTS')!r}, expected the "
              "JAAS file kafka-ui.jaas")
        check(not any("JAAS_CONFIG" in k for k in env), at,
              "sets sasl.jaas.config in its environment: the password belongs in kafka-ui.jaas")
        mounts_exactly("kafka-ui", ["kafka-ui.jaas", "ca.crt"])
        jaas = made.get("kafka-ui.jaas") or ""
        check(re.search(r"KafkaClient\s*\{\s*org\.apache\.kafka\.common\.security\.scram\."
                        r'ScramLoginModule required\s+username="admin"\s+password="[^"]+";\s*\};',
                        jaas), MAKE_SECRETS, "kafka-ui.jaas is not a KafkaClient SCRAM login as admin")

    # The secrets stay out of git and out of the kitchen's image.
    for ignore_file, pattern in ((".gitignore", "/deploy/compose/secrets/"),
                                 (".dockerignore", "deploy/compose/secrets")):
        path = os.path.join(ROOT, ignore_file)
        if check(os.path.isfile(path), ignore_file, "missing (a data file of the test)"):
            with open(path) as f:
                check(pattern in {line.strip() for line in f}, ignore_file,
                      f"does not exclude {pattern} (make-secrets writes there)")


def check_dockerignore():
    """The build context is the repository root: Bazel's symlinks and .git stay out."""
    path = os.path.join(ROOT, ".dockerignore")
    if not check(os.path.isfile(path), ".dockerignore",
                 f"missing ({DOCKERFILE}'s context is the root)"):
        return
    with open(path) as f:
        patterns = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    for pattern in ("bazel-*", ".git"):
        check(pattern in patterns, ".dockerignore", f"does not exclude {pattern}")


def main():
    print(f"deploy_config_test: {ROOT}, Python {sys.version.split()[0]} ({sys.executable}), "
          f"PyYAML {yaml.__version__}")
    flags_by_binary = {}
    for name, relative in SERVICE_BINARIES.items():
        flags = read_flags(name, relative)
        if flags:
            flags_by_binary[name] = flags
    devbroker_flags = read_flags("devbroker", DEVBROKER)
    dockerfile = read_dockerfile()
    check_compose(flags_by_binary, dockerfile, devbroker_flags)
    ui = check_kafka_ui(flags_by_binary)
    if ui is not None:
        protocol = ui["properties"].get("security.protocol", "PLAINTEXT")
        check(protocol == "PLAINTEXT", COMPOSE, f"Kafka UI's security.protocol is {protocol}: "
              "docker-compose.yaml's listeners are PLAINTEXT")
    check_secure_compose(flags_by_binary, dockerfile, devbroker_flags)
    check_kubernetes(flags_by_binary, dockerfile)
    check_dockerignore()
    if errors:
        print(f"deploy_config_test: FAILED, {len(errors)} problem(s) in the deployment files:")
        for error in errors:
            print("  " + error)
        return 1
    print(f"deploy_config_test: OK ({checks} checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
