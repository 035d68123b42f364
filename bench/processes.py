"""File: bench/processes.py

The benchmark's processes: every one it starts is tracked, runs in its own session,
dies with the driver (PR_SET_PDEATHSIG) and is stopped at exit, whatever happened.
A Runner starts them with their output in files of one work directory, finds the
binaries of a build and starts devbrokers on free ports.

    runner = Runner(bin_dir, work_dir)
    broker = runner.start_broker()            # broker.address: "localhost:41234"
    proc = runner.run("waiter", [runner.binary("waiter/waiter"), ...], timeout=60)
"""

import ctypes
import os
import signal
import subprocess
import time

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def progress(text):
    print(text, flush=True)


def read_text(path):
    with open(path, "r", errors="replace") as f:
        return f.read()


def wait_for(predicate, timeout, what, proc=None):
    """The first true value of predicate(), asked every 5 ms; an error after `timeout`
    or once `proc` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited ({proc.exit_code}) while waiting for {what}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


class Proc:
    """A child process; wait() reaps it with wait4 to get its own rusage."""

    live = []

    def __init__(self, name, argv, stdout, stderr, stdin=subprocess.DEVNULL, env=None):
        self.name = name
        self.argv = argv
        self.started = time.monotonic()
        # Its own session: a Ctrl-C reaches only the driver, which stops the children in
        # order; PR_SET_PDEATHSIG kills them if the driver itself is killed.
        self.popen = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr,
                                      preexec_fn=_die_with_parent, close_fds=True,
                                      start_new_session=True,
                                      env=None if env is None else {**os.environ, **env})
        self.pid = self.popen.pid
        self.exit_code = None
        self.wall = None
        self.maxrss_kib = 0
        self.cpu_s = None
        Proc.live.append(self)

    def sample_memory(self):
        """Peak RSS so far: VmHWM, the kernel's high-water mark of this program's memory.

        Not wait4's ru_maxrss (nor /usr/bin/time's "Maximum resident set size"): Linux
        carries the parent's high-water mark over fork and exec into it, so a child of a
        large process reports at least that (`/usr/bin/time -f %M /bin/true` can say
        1.8 GB). VmHWM belongs to the memory map exec made, so it is the program's own.
        """
        try:
            with open(f"/proc/{self.pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmHWM:"):
                        self.maxrss_kib = max(self.maxrss_kib, int(line.split()[1]))
                        break
        except OSError:
            pass

    def poll(self):
        if self.exit_code is not None:
            return self.exit_code
        self.sample_memory()
        pid, status, usage = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return None
        self._reaped(status, usage)
        return self.exit_code

    def _reaped(self, status, usage):
        self.wall = time.monotonic() - self.started
        self.exit_code = os.waitstatus_to_exitcode(status)
        self.popen.returncode = self.exit_code  # So that Popen never waits again.
        self.cpu_s = usage.ru_utime + usage.ru_stime  # Its own: not inherited.
        if self in Proc.live:
            Proc.live.remove(self)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.name} still running after {timeout:.0f} s")
            time.sleep(0.002)
        return self.exit_code

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL if it does not exit within `timeout`."""
        if self.poll() is not None:
            return self.exit_code
        self.sample_memory()  # The high-water mark of the whole run, before shutdown.
        os.kill(self.pid, signal.SIGTERM)
        try:
            return self.wait(timeout)
        except TimeoutError:
            progress(f"  {self.name} did not stop within {timeout} s of SIGTERM: killing it")
            os.kill(self.pid, signal.SIGKILL)
            return self.wait(10)


def stop_everything():
    for proc in list(Proc.live):
        try:
            proc.stop(timeout=5)
        except Exception:  # Last resort at exit: never leave a child behind.
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _on_signal(number, _frame):
    raise SystemExit(128 + number)


def stop_everything_at_exit():
    """Every child is stopped when the driver exits, also on SIGTERM or SIGHUP."""
    import atexit
    atexit.register(stop_everything)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _on_signal)


class Runner:
    """Starts the processes of one benchmark: binaries from `bin_dir`, output in
    numbered files of `work_dir`."""

    def __init__(self, bin_dir, work_dir):
        self.bin = bin_dir
        self.work = work_dir
        self.serial = 0

    def path(self, name):
        """A fresh file name in the work directory."""
        self.serial += 1
        return os.path.join(self.work, f"{self.serial:03d}-{name}")

    def binary(self, name):
        path = os.path.join(self.bin, name)
        if not os.access(path, os.X_OK):
            raise SystemExit(f"bench: {path} not found: build first (tools/bench does)")
        return path

    def start(self, name, argv, stdin=subprocess.DEVNULL, env=None):
        """Starts a process with its standard output and error in files of the work dir."""
        out_path, err_path = self.path(f"{name}.out"), self.path(f"{name}.log")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = Proc(name, argv, stdout=out, stderr=err, stdin=stdin, env=env)
        proc.out_path, proc.err_path = out_path, err_path
        return proc

    def run(self, name, argv, timeout, stdin=subprocess.DEVNULL, check=True):
        """Runs a process to its end; an error unless it exits 0 (with `check`)."""
        proc = self.start(name, argv, stdin=stdin)
        proc.wait(timeout)
        if check and proc.exit_code != 0:
            raise RuntimeError(f"{name} exited {proc.exit_code}: {' '.join(argv)}\n"
                               f"{read_text(proc.err_path)[-2000:]}")
        return proc

    def start_broker(self):
        """A devbroker on a free port; its address in .address."""
        broker = self.start("devbroker", [self.binary("deploy/devbroker/devbroker"), "--port", "0"])
        address = wait_for(lambda: read_text(broker.out_path).strip().splitlines()[:1], 30,
                           "the devbroker's address", broker)[0]
        broker.address = address
        return broker
