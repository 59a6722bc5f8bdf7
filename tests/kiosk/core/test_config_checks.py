"""What a running kiosk would refuse is refused by `kiosk check-config` first.

A site file that check-config accepts must never fail later for a reason written in
it: an enabled uplink without a usable URL or token, a bookings list without an
address, a metrics address that is not one, a queue database kept in memory, names
the shipped font cannot draw. Also: the typed, read-only sections and the one
declaration of [display]/[announcer].
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from display import siteconfig
from kiosk.core import config as config_mod
from kiosk.core.config import Config, ConfigError, parse, validate
from kiosk.office.uplink import UplinkSettings

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse(text.encode("utf-8"), "site.toml")
    return e.value.problems


def with_section(section: str, **values: object) -> str:
    """The example site with some keys of one section replaced (written as TOML)."""
    raw = tomllib.loads(EXAMPLE_TEXT)
    raw[section].update(values)
    return _dump(raw)


def _dump(raw: dict[str, object]) -> str:
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    out: list[str] = []
    for name, table in raw.items():
        if isinstance(table, list):
            for item in table:
                out.append(f"[[{name}]]")
                out += [f"{k} = {value(v)}" for k, v in item.items()]
        else:
            assert isinstance(table, dict)
            out.append(f"[{name}]")
            out += [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"


def line_of(text: str, section: str, key: str) -> int:
    lines = text.splitlines()
    start = lines.index(f"[{section}]")
    return next(i for i in range(start, len(lines)) if lines[i].startswith(f"{key} =")) + 1


def test_the_dumper_round_trips_the_example() -> None:
    assert tomllib.loads(_dump(tomllib.loads(EXAMPLE_TEXT))) == tomllib.loads(EXAMPLE_TEXT)


# ---------------------------------------------------------------- [uplink]


def test_an_enabled_uplink_with_a_plain_http_url_and_no_token_fails_check_config(
    tmp_path: Path,
) -> None:
    text = with_section("uplink", enabled=True, url="http://10.1.2.3/k", token="")
    site = tmp_path / "kiosk.toml"
    site.write_text(text, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "check-config", str(site)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    url, token = line_of(text, "uplink", "url"), line_of(text, "uplink", "token")
    assert f"{site}:{url}: uplink.url: " in lines[0] and "plain http; use https://" in lines[0]
    assert f"{site}:{token}: uplink.token: empty" in lines[1]
    assert "2 problems" in lines[-1]


@pytest.mark.parametrize(
    "keys, words",
    [
        ({"url": "q.example", "token": "t"}, ["uplink.url", "is not a web address"]),
        ({"url": "", "token": "t"}, ["uplink.url: empty"]),
        ({"url": "https://q.example:99999/k", "token": "t"}, ["uplink.url", "port"]),
        (
            {"url": "https://q.example", "token_file": "/nonexistent/tok"},
            ["uplink.token_file", "cannot read /nonexistent/tok"],
        ),
        (
            {"url": "https://q.example", "token": "t", "ca_bundle": "/no/ca.pem"},
            ["uplink.ca_bundle", "/no/ca.pem does not exist"],
        ),
    ],
)
def test_every_uplink_problem_the_uplink_would_refuse_is_a_check_config_problem(
    keys: dict[str, str], words: list[str]
) -> None:
    joined = "\n".join(problems_of(with_section("uplink", enabled=True, **keys)))
    for w in words:
        assert w in joined


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    tok = tmp_path / "uplink.token"
    tok.write_text("\n")
    text = with_section("uplink", enabled=True, url="https://q.example/k", token_file=str(tok))
    assert any(f"uplink.token_file: {tok} is empty" in p for p in problems_of(text))


def test_an_uplink_check_config_accepts_starts(tmp_path: Path) -> None:
    tok = tmp_path / "uplink.token"
    tok.write_text("from-file\n")
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    text = with_section(
        "uplink", enabled=True, url="https://q.example/k/", token_file=str(tok), ca_bundle=str(ca)
    )
    s = UplinkSettings.from_config(parse(text, "kiosk.toml"))
    assert (s.url, s.token, s.ca_bundle) == ("https://q.example/k", "from-file", str(ca))


def test_a_disabled_uplink_is_not_checked() -> None:
    text = with_section("uplink", enabled=False, url="http://10.1.2.3/k", token="")
    assert parse(text, "kiosk.toml").uplink.url == "http://10.1.2.3/k"


# ---------------------------------------------------------------- [appointments], [metrics]


@pytest.mark.parametrize(
    "keys, words",
    [
        ({"url": ""}, ["appointments.url: empty"]),
        ({"url": "http://192.0.2.1/b"}, ["appointments.url", "use https://"]),
        ({"url": "bookings.example"}, ["appointments.url", "not a web address"]),
        (
            {"url": "https://b.example", "ca_bundle": "/no/ca.pem"},
            ["appointments.ca_bundle", "/no/ca.pem does not exist"],
        ),
    ],
)
def test_enabled_bookings_without_a_usable_address_fail_check_config(
    keys: dict[str, str], words: list[str]
) -> None:
    joined = "\n".join(problems_of(with_section("appointments", enabled=True, **keys)))
    for w in words:
        assert w in joined


@pytest.mark.parametrize(
    "listen, words",
    [
        ("127.0.0.1:99999", ["metrics.listen", "1 to 65535"]),
        ("::1:9108", ["metrics.listen", "brackets"]),
        ("[nothost]:9108", ["metrics.listen", "not an IPv6 address"]),
        ("kiosk.local:9108", ["metrics.listen", "not an IP address", "0.0.0.0:9108"]),
        ("[127.0.0.1]:9108", ["metrics.listen", "not an IPv6 address"]),
    ],
)
def test_a_metrics_address_that_cannot_be_listened_on_fails_check_config(
    listen: str, words: list[str]
) -> None:
    # checked even when the page is off: `kiosk metrics --serve` uses it
    joined = "\n".join(problems_of(with_section("metrics", listen=listen)))
    for w in words:
        assert w in joined


@pytest.mark.parametrize("listen", ["127.0.0.1:9108", "[::1]:9108", "0.0.0.0:80", "localhost:0"])
def test_good_metrics_addresses_are_accepted(listen: str) -> None:
    assert parse(with_section("metrics", enabled=True, listen=listen)).metrics.listen == listen


@pytest.mark.parametrize(
    "keys, words",
    [
        ({"listen": "0.0.0.0:0"}, ["web.listen", "1 to 65535", "0.0.0.0:8080"]),
        ({"listen": "office-pc:8080"}, ["web.listen", "not an IP address"]),
        ({"public_url": "192.168.1.10:8080"}, ["web.public_url", "not an address phones"]),
        ({"public_url": "http://192.168.1.10:99999"}, ["web.public_url"]),
    ],
)
def test_a_web_address_kiosk_web_would_refuse_fails_check_config(
    keys: dict[str, str], words: list[str]
) -> None:
    joined = "\n".join(problems_of(with_section("web", **keys)))
    for w in words:
        assert w in joined


def test_the_web_listen_address_check_config_accepts_is_one_kiosk_web_takes() -> None:
    from kiosk.cli.web import parse_listen

    for listen in ("0.0.0.0:8080", "127.0.0.1:1", "[::1]:8080", "localhost:65535"):
        cfg = parse(with_section("web", listen=listen, public_url="http://10.0.0.2:8080"))
        assert parse_listen(cfg.web.listen)[1] > 0


# ---------------------------------------------------------------- [storage]


@pytest.mark.parametrize("path", ["", "  ", ":memory:", "file::memory:?cache=shared"])
def test_a_queue_database_kept_in_memory_is_refused_as_numbers_would_repeat(path: str) -> None:
    text = with_section("storage", path=path)
    (problem,) = problems_of(text)
    assert problem.startswith(f"site.toml:{line_of(text, 'storage', 'path')}: storage.path: ")
    assert "numbers would start again at 001" in problem


def test_a_folder_as_the_queue_database_is_refused(tmp_path: Path) -> None:
    (problem,) = problems_of(with_section("storage", path=str(tmp_path)))
    assert "storage.path" in problem and "is a folder" in problem


# ---------------------------------------------------------------- [printer] logo


def test_a_logo_that_is_not_a_picture_is_refused(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_text("not a picture")
    (problem,) = problems_of(with_section("printer", logo=str(logo)))
    assert f"printer.logo: {logo} is not a PNG" in problem and "save the logo as PNG" in problem


def test_a_png_logo_is_accepted_and_prints(tmp_path: Path) -> None:
    from PIL import Image

    from printer.job import layout_from_config

    logo = tmp_path / "logo.png"
    Image.new("RGB", (200, 80), "black").save(logo)
    cfg = parse(with_section("printer", logo=str(logo)))
    layout = layout_from_config(cfg)
    assert layout._logo_image() is not None


# ---------------------------------------------------------------- the shipped font


@pytest.mark.parametrize("char", ["👶", "中", "\U0001f3e0"])
def test_a_service_name_the_font_cannot_draw_is_refused_naming_service_and_character(
    char: str,
) -> None:
    text = EXAMPLE_TEXT.replace('name = "Chứng thực"', f'name = "Chứng thực {char}"', 1)
    (problem,) = problems_of(text)
    assert 'services[1].name: the name of service "chungthuc"' in problem
    assert f"{char} (U+{ord(char):04X})" in problem and "empty box" in problem


def test_ticket_lines_and_the_notice_are_checked_against_the_font_too() -> None:
    raw = tomllib.loads(EXAMPLE_TEXT)
    raw["site"]["ticket_footer"] = ["Xin cảm ơn 🙏"]
    raw["display"]["notice"] = "Thông báo 中文"
    joined = "\n".join(problems_of(_dump(raw)))
    assert "site.ticket_footer: 🙏 (U+1F64F)" in joined
    assert "display.notice: 中 (U+4E2D), 文 (U+6587)" in joined


def test_every_vietnamese_letter_and_the_dong_sign_pass_the_font_check() -> None:
    from kiosk.doctor.checks import VIETNAMESE

    name = f"Dịch vụ {VIETNAMESE} – 20.000 ₫ (1/2), “ngoặc” … 100%"
    text = EXAMPLE_TEXT.replace('name = "Chứng thực"', f'name = "{name}"', 1)
    assert parse(text).services[1].name == name


# ---------------------------------------------------------------- typed sections


def test_sections_are_typed_read_only_dataclasses(cfg: Config) -> None:
    assert isinstance(cfg.printer, config_mod.PrinterSection) and cfg.printer.paper_mm == 80
    assert cfg.site.ticket_header == ("UBND PHƯỜNG NGHĨA TÂN", "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.printer.paper_mm = 58  # type: ignore[misc]
    assert set(cfg.sections) == set(config_mod.SCHEMA)


def test_display_and_announcer_are_declared_once_in_display_siteconfig() -> None:
    assert config_mod.SECTION_TYPES["display"] is siteconfig.DisplaySection
    assert config_mod.SECTION_TYPES["announcer"] is siteconfig.AnnouncerSection
    # the hall display's own reader gives the same defaults as the kiosk
    kiosk = validate(tomllib.loads(_without(EXAMPLE_TEXT, "display", "announcer")))
    assert siteconfig.DisplaySettings() == siteconfig.DisplaySettings(
        kiosk.display, kiosk.announcer
    )


def _without(text: str, *sections: str) -> str:
    raw = tomllib.loads(text)
    for s in sections:
        del raw[s]
    return _dump(raw)


def test_every_key_has_a_documentation_line_and_a_kind_the_validator_knows() -> None:
    kinds = {"str", "int", "float", "bool", "time", "list[str]", "list[int]", "enum", "pin", "path"}
    for section, fields in {**config_mod.SCHEMA, **config_mod.ARRAYS}.items():
        for key, f in fields.items():
            assert f.doc, f"{section}.{key} has no documentation"
            assert f.kind in kinds, f"{section}.{key}: kind {f.kind}"
            if f.kind == "enum":
                assert f.default in f.choices


# ---------------------------------------------------------------- example.toml = defaults


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v) if isinstance(v, float) else str(v)


def _comment_block(lines: list[str], n: int) -> str:
    """The comments that belong to the key on line ``n`` (0-based): its own trailing
    comment and the comment lines above it, up to a blank line or a table header (keys
    written together share the comment above them)."""
    out = [lines[n].partition("#")[2]] if "#" in lines[n] else []
    i = n - 1
    while i >= 0 and lines[i].strip() and not lines[i].lstrip().startswith("["):
        if lines[i].lstrip().startswith("#"):
            out.append(lines[i].lstrip()[1:])
        i -= 1
    return " ".join(out)


def test_every_key_in_the_example_is_its_default_or_says_its_default() -> None:
    """The example claims each key shows its default: where the example site sets
    another value, the comment above it says ``default: VALUE``. For [[services]] and
    [[counters]] the first entry is checked (the others repeat its keys)."""
    raw = tomllib.loads(EXAMPLE_TEXT)
    lines = EXAMPLE_TEXT.splitlines()
    table, seen_arrays, wrong = "", set(), []
    for n, line in enumerate(lines):
        s = line.strip()
        if s.startswith("[["):
            table = s.strip("[]")
            first = table not in seen_arrays
            seen_arrays.add(table)
            fields = config_mod.ARRAYS[table] if first else {}
            values = raw[table][0]
            continue
        if s.startswith("["):
            table = s.strip("[]")
            fields, values = config_mod.SCHEMA[table], raw[table]
            continue
        if not s or s.startswith("#") or "=" not in s:
            continue
        key = s.split("=")[0].strip()
        if key not in fields:
            continue
        f = fields[key]
        if f.default is config_mod.REQUIRED:
            continue
        v = values[key]
        same = tuple(v) == f.default if isinstance(v, list) else v == f.default
        if not same and f"default: {_toml(f.default)}" not in _comment_block(lines, n):
            wrong.append(f"{table}.{key} = {_toml(v)}: add '(default: {_toml(f.default)})'")
    assert not wrong, "example.toml keys that differ from the default without saying so:\n" + (
        "\n".join(wrong)
    )


def test_the_reference_page_gives_each_key_its_schema_default() -> None:
    import re

    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r"^\| `([a-z_]+\.[a-z0-9_]+)` \| (?:[^|\\]|\\\|)* \| (.*?) \|", doc, re.M
        )
    }
    wrong = []
    for section, fields in {**config_mod.SCHEMA, **config_mod.ARRAYS}.items():
        for key, f in fields.items():
            want = "required" if f.default is config_mod.REQUIRED else f"`{_toml(f.default)}`"
            if rows.get(f"{section}.{key}") != want:
                wrong.append(f"{section}.{key}: {rows.get(f'{section}.{key}')} (schema: {want})")
    assert not wrong, "docs/configuration.md defaults:\n" + "\n".join(wrong)


def test_every_default_passes_its_own_key_check() -> None:
    """``key()`` is typed Any for mypy, so a default of the wrong type or outside its
    limits would slip through: every default is checked as if written in a file."""
    for section, fields in {**config_mod.SCHEMA, **config_mod.ARRAYS}.items():
        for key, f in fields.items():
            if f.default is config_mod.REQUIRED:
                continue
            written = list(f.default) if isinstance(f.default, tuple) else f.default
            value, problem = config_mod._check(f, written)
            assert problem is None, f"{section}.{key} default {f.default!r}: {problem}"
            assert value == f.default and type(value) is type(f.default), f"{section}.{key}"
