"""systemd notifications for hall-display.service (Type=notify, WatchdogSec).

The display must not import ``kiosk`` (it runs alone on its own Pi), so this is
its own few lines of the same protocol: one datagram per message to the unix
socket in ``$NOTIFY_SOCKET`` (a leading ``@`` is the abstract namespace). Outside
systemd every call is a no-op.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    """READY=1, WATCHDOG=1, STATUS=..., STOPPING=1; silent when not under systemd."""

    def __init__(self) -> None:
        addr = os.environ.get("NOTIFY_SOCKET", "")
        self.address = ("\0" + addr[1:] if addr.startswith("@") else addr) or None
        self.sock: socket.socket | None = None
        if self.address:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        #: Seconds between watchdog pings (half of WatchdogSec), or None.
        self.watchdog_interval = (
            int(usec) / 2e6 if usec.isdigit() and pid in ("", str(os.getpid())) else None
        )

    def notify(self, message: str) -> bool:
        if self.sock is None or self.address is None:
            return False
        try:
            self.sock.sendto(message.encode("utf-8"), self.address)
            return True
        except OSError:  # systemd restarting: the watchdog will notice if it matters
            return False
