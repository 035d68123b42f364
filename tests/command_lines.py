"""File: tests/command_lines.py

Every process's command line on the machine, sampled from /proc while a test runs:
the secure tests check that no password ever appears on one (secure_test,
compose_secure_test).
"""

import os
import threading
import time


class CommandLines:
    """Every process's command line on the machine, sampled from /proc until stopped."""

    def __init__(self):
        self.seen = set()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self):
        while not self.stopping.is_set():
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open(f"/proc/{entry}/cmdline", "rb") as f:
                            self.seen.add(f.read().decode(errors="replace"))
                    except OSError:
                        pass
            time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        self.thread.join()
