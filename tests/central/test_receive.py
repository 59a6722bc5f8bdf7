"""`central-server receive`: the reference receiver (central/receiver.py) from the console script."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from central.cli import main

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_receive_refuses_a_bad_listen_address_with_one_line_and_exit_2(capsys, tmp_path):
    rc = main(["receive", "--listen", "nowhere", "--token", "t", "--db", str(tmp_path / "r.db")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err == (
        'central-server: --listen "nowhere" must look like 127.0.0.1:8787 (a port from 1 to 65535)\n'
    )
    assert not (tmp_path / "r.db").exists()


def test_kiosk_receiver_refuses_a_port_out_of_range_and_a_missing_certificate(capsys, tmp_path):
    """Issue 11: these ended in "internal error" (exit 70) and "cannot listen"."""
    from kiosk.cli import main as kiosk

    db = ["--db", str(tmp_path / "r.db")]
    assert kiosk(["receiver", "--listen", "127.0.0.1:99999", "--token", "t", *db]) == 2
    assert "a port from 1 to 65535" in capsys.readouterr().err
    missing = str(tmp_path / "nonexistent.pem")
    rc = kiosk(["receiver", "--token", "t", "--cert", missing, "--key", missing, *db])
    err = capsys.readouterr().err
    assert rc == 2 and f"--cert {missing}: no such file" in err and "Traceback" not in err
    assert not (tmp_path / "r.db").exists()  # nothing created


def test_receive_without_a_token_is_refused(capsys, tmp_path):
    assert main(["receive", "--db", str(tmp_path / "r.db")]) == 2
    assert "give at least one --token" in capsys.readouterr().err


def test_receive_serves_the_uplink_contract_until_stopped(tmp_path):
    port = free_port()
    db = tmp_path / "r.db"
    cmd = [sys.executable, "-m", "central.cli", "receive", "--listen", f"127.0.0.1:{port}"]
    cmd += ["--db", str(db), "--token", "tok"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"receiving on http://127.0.0.1:{port} into {db}")
        deadline = time.monotonic() + 10
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/sites", headers={"Authorization": "Bearer tok"})
                r = conn.getresponse()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.status == 200, r.read()
        assert json.loads(r.read())["sites"] == []
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
