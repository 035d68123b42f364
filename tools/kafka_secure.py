"""File: tools/kafka_secure.py

What `tools/kafka up --secure` adds to a cluster (tools/kafka.py runs it): a throwaway
certificate authority and a broker certificate for 127.0.0.1 (openssl, made at start,
nothing secret in the source tree), a SCRAM-SHA-512 user per kitchen service plus the
cluster's own admin (created by Kafka's StorageTool as the nodes are formatted, so no
running cluster is ever open without them), the ACLs that give each service only what
it needs (Kafka's AclCommand), and a client properties file per user.

No password is ever on a command line: the Kafka tools read theirs from a java
argument file (@FILE), openssl from a file (-passout file:); every file under
STATE/secure is 0600 in a 0700 directory. What is printed names files, never values.
"""

import os
import secrets
import subprocess
import tempfile

MECHANISM = "SCRAM-SHA-512"
ADMIN = "admin"          # inter-broker and tools/kafka's own tools: a super user
CONTROLLER = "controller"  # the controllers' internal listener (SASL/PLAIN): a super user

# The kitchen's users, each the service of the same name.
USERS = ["waiter", "cook", "manager", "board"]

# Each user's ACLs (README, "Security"): (principals, resource type, names, pattern
# type, operations). Whatever is not allowed here is refused (StandardAuthorizer with
# allow.everyone.if.no.acl.found=false); "Describe" is what metadata, offsets and
# partition ends need. One AclCommand per row.
ACLS = [
    (["waiter", "board"], "topic", ["pizza-order"], "literal", ["Write", "Describe"]),
    (["cook", "manager", "board"], "topic", ["pizza-order"], "literal", ["Read", "Describe"]),
    (["waiter", "board"], "topic", ["order-status"], "literal", ["Read", "Describe"]),
    (["cook"], "topic", ["order-status"], "literal", ["Write", "Describe"]),
    (["cook", "manager"], "topic", ["pizza-order.dlq", "kitchen-members"], "literal",
     ["Write", "Describe"]),
    (["board"], "topic", ["pizza-order.dlq", "kitchen-members"], "literal",
     ["Read", "Describe"]),
    (["cook"], "group", ["cook"], "literal", ["Read"]),
    (["manager"], "group", ["manager"], "literal", ["Read"]),
    (["board"], "group", ["cook", "manager"], "literal", ["Describe"]),
    # Groups of a reader outside any group (kafka/topic_reader.h, the board's
    # watcher): never joined, but librdkafka looks for their coordinator.
    (["waiter", "board"], "group", ["kitchen-topic-reader-"], "prefixed", ["Describe"]),
    (["board"], "group", ["board-watcher-"], "prefixed", ["Describe"]),
    # The cook's transactional id is GROUP-COOK_ID (cook/main.cc).
    (["cook"], "transactional-id", ["cook-"], "prefixed", ["Write", "Describe"]),
]


class SecureSetupError(Exception):
    """Something of the secure setup failed: the message says what."""


def write_private(path, text):
    """Writes `text` to a new file only its owner may read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as f:
        f.write(text)
    return path


def private_umask():
    os.umask(0o077)


def openssl(args, directory):
    done = subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, preexec_fn=private_umask, timeout=60)
    if done.returncode != 0:
        raise SecureSetupError(f"openssl {args[0]} failed: {done.stderr.strip().splitlines()[-1:]}")


def make_authority(directory, name):
    """A self-signed CA in `directory`: NAME.pem (certificate) and NAME.key."""
    openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
             "-keyout", f"{name}.key", "-out", f"{name}.pem",
             "-subj", f"/CN=kitchen throwaway CA {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"], directory)


def make_certificates(directory):
    """The cluster's TLS material in `directory` (made 0700): ca.pem, the CA every
    client trusts, and broker.p12, the brokers' key and certificate (valid for IP
    127.0.0.1) under a random password, returned. The CA's key is removed once it has
    signed: nobody can sign another certificate this cluster trusts."""
    os.makedirs(directory, mode=0o700)
    store_password = secrets.token_urlsafe(24)
    write_private(os.path.join(directory, "keystore.password"), store_password)
    make_authority(directory, "ca")
    openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key",
             "-out", "broker.csr", "-subj", "/CN=127.0.0.1"], directory)
    write_private(os.path.join(directory, "broker.ext"),
                  "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                  "keyUsage=digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=serverAuth,clientAuth\n")
    openssl(["x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "7", "-extfile", "broker.ext",
             "-out", "broker.pem"], directory)
    openssl(["pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key",
             "-certfile", "ca.pem", "-name", "broker", "-out", "broker.p12",
             "-passout", "file:keystore.password"], directory)
    for leftover in ["ca.key", "ca.srl", "broker.key", "broker.csr", "broker.ext",
                     "keystore.password"]:
        try:
            os.unlink(os.path.join(directory, leftover))
        except FileNotFoundError:
            pass
    return store_password


def new_passwords():
    """A fresh random password for the admin, the controllers and every user."""
    return {user: secrets.token_urlsafe(24) for user in [ADMIN, CONTROLLER, *USERS]}


def scram_arguments(passwords):
    """StorageTool format's arguments that create every SCRAM user (KIP-900), for an
    argument file: quoted, so the java launcher keeps each whole."""
    return [f"'{MECHANISM}=[name={user},password={passwords[user]}]'"
            for user in [ADMIN, *USERS]]


def broker_settings(directory, store_password, passwords):
    """server.properties settings of a secure node (besides its listeners)."""
    jaas = "org.apache.kafka.common.security"
    return {
        "inter.broker.listener.name": "SASL_SSL",
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        "sasl.mechanism.controller.protocol": "PLAIN",
        "sasl.enabled.mechanisms": MECHANISM,
        "listener.name.sasl_ssl.sasl.enabled.mechanisms": MECHANISM,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
            f'{jaas}.scram.ScramLoginModule required username="{ADMIN}" '
            f'password="{passwords[ADMIN]}";',
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config":
            f'{jaas}.plain.PlainLoginModule required username="{CONTROLLER}" '
            f'password="{passwords[CONTROLLER]}" '
            f'user_{CONTROLLER}="{passwords[CONTROLLER]}";',
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": os.path.join(directory, "broker.p12"),
        "ssl.keystore.password": store_password,
        "ssl.key.password": store_password,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": os.path.join(directory, "ca.pem"),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN};User:{CONTROLLER}",
    }


def user_properties_path(directory, user):
    return os.path.join(directory, f"{user}.properties")


def write_client_files(directory, bootstrap, passwords):
    """USER.properties (librdkafka's format, what the services and kcat -F read) for
    every user and the admin, and admin-java.properties for Kafka's own tools
    (--command-config). Returns {user: path} of the services' users."""
    ca = os.path.join(directory, "ca.pem")
    for user in [ADMIN, *USERS]:
        write_private(user_properties_path(directory, user),
                      f"# librdkafka properties of user {user} on the secure cluster "
                      "(tools/kafka up --secure)\n"
                      f"bootstrap.servers={bootstrap}\nsecurity.protocol=SASL_SSL\n"
                      f"sasl.mechanisms={MECHANISM}\nsasl.username={user}\n"
                      f"sasl.password={passwords[user]}\nssl.ca.location={ca}\n")
    write_private(admin_java_properties(directory),
                  "# Kafka's own tools as the admin (--command-config), tools/kafka up --secure\n"
                  f"security.protocol=SASL_SSL\nsasl.mechanism={MECHANISM}\n"
                  "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                  f'required username="{ADMIN}" password="{passwords[ADMIN]}";\n'
                  f"ssl.truststore.type=PEM\nssl.truststore.location={ca}\n")
    return {user: user_properties_path(directory, user) for user in USERS}


def admin_java_properties(directory):
    return os.path.join(directory, "admin-java.properties")


def acl_arguments(bootstrap, directory):
    """AclCommand's arguments, one list per row of ACLS."""
    commands = []
    for principals, resource, names, pattern, operations in ACLS:
        arguments = ["--bootstrap-server", bootstrap,
                     "--command-config", admin_java_properties(directory), "--add",
                     "--resource-pattern-type", pattern]
        for principal in principals:
            arguments += ["--allow-principal", f"User:{principal}"]
        for operation in operations:
            arguments += ["--operation", operation]
        for name in names:
            arguments += [f"--{resource}", name]
        commands.append(arguments)
    return commands


def argument_file(directory, words):
    """A java argument file (@FILE) of `words`, 0600, for a command line that would
    otherwise hold a password; the caller removes it once the tool has read it."""
    descriptor, path = tempfile.mkstemp(prefix="args.", dir=directory)
    with os.fdopen(descriptor, "w") as f:
        f.write(" ".join(words) + "\n")
    return path
