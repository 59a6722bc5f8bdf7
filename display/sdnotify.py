"""systemd notifications (READY=1, WATCHDOG=1, STATUS=...) over $NOTIFY_SOCKET.

The protocol is one datagram per message on a unix socket whose path systemd
puts in ``$NOTIFY_SOCKET`` (a leading ``@`` means the abstract namespace). Eight
lines of code, so no dependency. Outside systemd the variable is unset and every
call is a no-op.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    """Sends notifications to systemd; silent when not run by systemd."""

    def __init__(self, address: str | None = None):
        addr = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        self.sock: socket.socket | None = None
        if addr:
            self.address = "\0" + addr[1:] if addr.startswith("@") else addr
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def active(self) -> bool:
        return self.sock is not None

    def notify(self, message: str) -> bool:
        """Send one message, e.g. ``"READY=1"``; False when it could not be sent."""
        if self.sock is None or self.address is None:
            return False
        try:
            self.sock.sendto(message.encode("utf-8"), self.address)
            return True
        except OSError:
            # systemd restarting, or the socket gone: the watchdog will tell.
            return False

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def watchdog_interval(self) -> float | None:
        """Seconds between pings systemd expects (half of WatchdogSec), or None."""
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            return int(usec) / 1e6 / 2
        except ValueError:
            return None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
