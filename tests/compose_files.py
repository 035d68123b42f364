"""File: tests/compose_files.py

What the tests of the Compose files share (tests/deploy_config_test.py checks them
statically, tests/compose_secure_test.py runs the secure variant's brokers): the
configuration `docker compose -f docker-compose.yaml -f docker-compose.secure.yaml`
sees, merged as Compose merges an override file, and the apache/kafka image's rule for
turning KAFKA_* environment variables into server.properties (the one
deploy/compose/kafka-broker follows). No Docker engine is needed: the machines have none.
"""

import os
import re

import yaml

COMPOSE = "docker-compose.yaml"
SECURE_COMPOSE = "docker-compose.secure.yaml"
# Compose replaces these of a service, rather than merging them (the Compose
# specification, "Merge and override"); healthcheck's test likewise.
REPLACED = {"command", "entrypoint", "test", "image", "build"}
# The JVM's variables of Kafka's scripts: not broker settings.
JVM_VARIABLES = {"KAFKA_HOME", "KAFKA_HEAP_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS",
                 "KAFKA_LOG4J_OPTS", "KAFKA_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_JMX_OPTS",
                 "KAFKA_DEBUG"}


def normalized(key, value):
    """environment and depends_on as mappings, whichever syntax the file uses."""
    if key == "environment" and isinstance(value, list):
        return dict(str(item).partition("=")[::2] for item in value)
    if key == "depends_on" and isinstance(value, list):
        return {name: {"condition": "service_started"} for name in value}
    return value


def merge(base, override, key=None):
    """`override` over `base`, as Compose merges a file given after another: mappings
    merge key by key, sequences add what they lack, scalars and REPLACED are replaced."""
    base, override = normalized(key, base), normalized(key, override)
    if key in REPLACED:
        return override
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, name) if name in base else normalized(name, value)
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in override if item not in base]
    return override


def load(root, relative):
    with open(os.path.join(root, relative)) as f:
        return yaml.safe_load(f)


def secure_configuration(root):
    """(docker-compose.yaml, docker-compose.secure.yaml, the two merged)."""
    base = load(root, COMPOSE)
    override = load(root, SECURE_COMPOSE)
    return base, override, merge(base, override)


def property_name(variable):
    """server.properties' name of KAFKA_NAME: lower case, '_' is '.', '__' is '_',
    '___' is '-' (the apache/kafka image's rule)."""
    name = variable[len("KAFKA_"):].lower()
    return name.replace("___", "-").replace("__", "\0").replace("_", ".").replace("\0", "_")


def broker_properties(environment):
    """The server.properties settings a broker's environment gives."""
    return {property_name(name): str(value) for name, value in environment.items()
            if name.startswith("KAFKA_") and name not in JVM_VARIABLES}


def listener_protocols(environment):
    """{listener: security protocol} of KAFKA_LISTENER_SECURITY_PROTOCOL_MAP."""
    return dict(entry.split(":", 1) for entry in
                str(environment.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "")).split(",")
                if ":" in entry)


def listener_ports(value):
    """{listener: (host, port)} of a listeners value (NAME://host:port,...)."""
    return {name: (host, port) for name, host, port in
            re.findall(r"(\w+)://([^:,]*):(\d+)", str(value or ""))}


def service_secrets(service):
    """The names of the secrets a service mounts, short or long syntax."""
    return [s if isinstance(s, str) else s.get("source") for s in service.get("secrets") or []]


def read_properties(path):
    """A properties file (librdkafka's or Java's simple form): {name: value}."""
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f
                    if "=" in line and not line.lstrip().startswith("#"))


def acl_table(path):
    """deploy/compose/acls as tools/kafka_secure.py's ACLS rows: (principals, resource,
    names, pattern, operations)."""
    rows = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if len(words) != 5:
                raise ValueError(f"{path}: not 5 columns: {line.strip()!r}")
            principals, resource, pattern, operations, names = words
            rows.append((principals.split(","), resource, names.split(","), pattern,
                         operations.split(",")))
    return rows
