"""`central-server` as a technician types it: sites, users, bad input, a database that is down."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_site_add_prints_the_token_once_then_list_and_revoke(db_url):
    assert run("migrate", "--db", db_url).returncode == 0
    r = run("site", "add", "nghia-tan", "--name", "UBND phường Nghĩa Tân", "--db", db_url)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert len(token) >= 40
    listed = run("site", "list", "--db", db_url)
    assert "nghia-tan" in listed.stdout and "UBND phường Nghĩa Tân" in listed.stdout
    assert token not in listed.stdout
    again = run("site", "add", "nghia-tan", "--name", "x", "--db", db_url)
    assert again.returncode == 1 and "exists already" in again.stderr
    assert run("site", "revoke", "nghia-tan", "--db", db_url).returncode == 0
    assert "revoked" in run("site", "list", "--db", db_url).stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (("site", "add", "có dấu", "--name", "x"), "letters, digits"),
        (("site", "add", "ok-id"), "--name"),
        (
            (
                "site",
                "revoke",
            ),
            "needs the site id",
        ),
    ],
)
def test_bad_site_commands_say_what_to_fix_and_exit_2(db_url, args, words):
    run("migrate", "--db", db_url)
    r = run(*args, "--db", db_url)
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr


def test_a_user_password_comes_from_stdin_and_must_be_long_enough(db_url, cdb):
    assert run("user", "add", "tinh-it", "--db", db_url, stdin="ngan\n").returncode == 2
    r = run("user", "add", "tinh-it", "--db", db_url, stdin="mot-mat-khau-dai\n")
    assert r.returncode == 0 and "added" in r.stdout
    assert cdb.check_user("tinh-it", "mot-mat-khau-dai") and not cdb.check_user("tinh-it", "sai")
    assert run("user", "remove", "khong-co", "--db", db_url).returncode == 1


def test_an_unreachable_database_is_a_message_not_a_traceback(tmp_path):
    r = run("site", "list", "--db", f"postgresql://nobody@/x?host={tmp_path}&connect_timeout=1")
    assert r.returncode == 1 and "cannot connect" in r.stderr and "Traceback" not in r.stderr


def test_an_old_schema_is_refused_with_the_command_that_fixes_it(db_url):
    r = run("site", "list", "--db", db_url)
    assert r.returncode == 2 and "central-server migrate" in r.stderr


def test_run_refuses_a_bad_listen_address(db_url):
    r = run("run", "--listen", "0.0.0.0:99999", "--db", db_url)
    assert r.returncode == 2 and "port 1-65535" in r.stderr


def _serve(db_url: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    import socket
    import time

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central.cli",
            "run",
            "--db",
            db_url,
            "--listen",
            f"127.0.0.1:{port}",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url + "/healthz", timeout=2)
            return proc, url
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(
                    f"central-server run did not start: {proc.stderr.read()}"
                ) from None  # type: ignore[union-attr]
            time.sleep(0.1)


@pytest.mark.parametrize(
    ("allow", "scheme"),
    [(None, "https"), ("127.0.0.1", "https"), ("10.9.9.9", "http"), ("", "http")],
)
def test_run_believes_x_forwarded_proto_only_from_the_proxy_addresses(db_url, allow, scheme):
    # Behind nginx terminating TLS, a redirect must point at https://, not at the
    # plain-HTTP loopback hop; a client that is not the proxy cannot fake it.
    import requests

    extra = () if allow is None else ("--forwarded-allow-ips", allow)
    proc, url = _serve(db_url, *extra)
    try:
        r = requests.get(
            url + "/healthz/",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"},
            allow_redirects=False,
            timeout=5,
        )
        assert r.status_code in (301, 307, 308), r.status_code
        assert r.headers["location"].startswith(f"{scheme}://"), r.headers["location"]
    finally:
        proc.terminate()
        proc.wait(10)
