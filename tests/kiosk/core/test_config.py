"""The site file: look-up order, accepted encodings, and clear messages for broken files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.core import config as config_mod
from kiosk.core.config import ConfigError, find_config, load, parse

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse(text.encode("utf-8"), "site.toml")
    return e.value.problems


def test_example_site_is_valid_and_complete() -> None:
    cfg = load(EXAMPLE)
    assert cfg.site.name.startswith("UBND phường")
    assert cfg.site.timezone == "Asia/Ho_Chi_Minh"
    assert 5 <= len(cfg.services) <= 7 and 4 <= len(cfg.counters) <= 6
    assert cfg.service("hotich").name == "Tư pháp – Hộ tịch"
    assert cfg.counter(4).services == ("datdai",)
    assert cfg.printer.uri and cfg.display.port and cfg.display.baud == 115200


def test_packaged_default_is_the_example_file() -> None:
    assert config_mod.EXAMPLE_PATH.read_bytes() == EXAMPLE.read_bytes()


def test_every_schema_key_is_written_in_the_example() -> None:
    import tomllib

    raw = tomllib.loads(EXAMPLE_TEXT)
    for section, fields in config_mod.SCHEMA.items():
        assert section in raw, f"[{section}] missing from example.toml"
        for key in fields:
            assert key in raw[section], f"{section}.{key} missing from example.toml"
    for name, fields in config_mod.ARRAYS.items():
        for key in fields:
            assert key in raw[name][0], f"[[{name}]] {key} missing from example.toml"


def test_every_schema_key_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section, fields in {**config_mod.SCHEMA, **config_mod.ARRAYS}.items():
        for key in fields:
            assert f"`{section}.{key}`" in doc, f"{section}.{key} not in docs/configuration.md"


def test_bom_and_crlf_from_windows_editors_are_accepted() -> None:
    data = b"\xef\xbb\xbf" + EXAMPLE_TEXT.replace("\n", "\r\n").encode("utf-8")
    cfg = parse(data, "kiosk.toml")
    assert cfg.service("chungthuc").name == "Chứng thực"


def test_lookup_order_flag_then_env_then_system_paths_then_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    boot, etc = tmp_path / "boot.toml", tmp_path / "etc.toml"
    monkeypatch.setattr(config_mod, "SYSTEM_PATHS", (boot, etc))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    assert find_config() == config_mod.EXAMPLE_PATH
    etc.write_text("")
    assert find_config() == etc
    boot.write_text("")
    assert find_config() == boot
    monkeypatch.setenv("KIOSK_CONFIG", "/from/env.toml")
    assert find_config() == Path("/from/env.toml")
    assert find_config("/from/flag.toml") == Path("/from/flag.toml")


BROKEN = [
    # (what is wrong, replacement (old, new), words the message must contain)
    (
        "unknown key (typo)",
        ('prefix = "B"', 'prefx = "B"'),
        ["site.toml:", "services[1].prefx", "unknown key", "prefix"],
    ),
    ("unknown section", ("[printer]", "[printr]"), ["printr", "unknown section", "printer"]),
    ("wrong type", ("baud = 115200", 'baud = "fast"'), ["display.baud", "whole number", '"fast"']),
    ("out of range", ("baud = 115200", "baud = 12"), ["display.baud", "1200", "12"]),
    ("bad enum", ('cut = "partial"', 'cut = "half"'), ["printer.cut", "'partial'", '"half"']),
    ("bad time", ('open = "07:30"', 'open = "7h30"'), ["hours.open", "07:30", '"7h30"']),
    ("close before open", ('close = "17:00"', 'close = "07:00"'), ["hours.close", "not after"]),
    (
        "bad time zone",
        ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Saigon City"'),
        ["site.timezone", "unknown time zone"],
    ),
    (
        "duplicate service id",
        ('id = "chungthuc"', 'id = "hotich"'),
        ["services[1].id", '"hotich"', "twice"],
    ),
    ("duplicate counter id", ("id = 2\n", "id = 1\n"), ["counters[1].id", "counter 1", "twice"]),
    (
        "counter serves unknown service",
        ('services = ["datdai"]', 'services = ["datdia"]'),
        ["counters[3].services", '"datdia"', "not a service id"],
    ),
    (
        "two counters on one pin",
        ("next_pin = 22", "next_pin = 4"),
        ["counters[1].next_pin", "GPIO 4", "already used by counters[0].next_pin"],
    ),
    (
        "pin not on header",
        ("next_pin = 25", "next_pin = 40"),
        ["counters[2].next_pin", "GPIO 40", "2–27"],
    ),
    (
        "number does not fit width",
        ("end = 999\n# Average", "end = 9999\n# Average"),
        ["services[0].width", "9999"],
    ),
    ("shared prefix", ('prefix = "B"', 'prefix = "A"'), ["services[1].prefix", '"A"', "hotich"]),
    ("missing required key", ('name = "Chứng thực"\n', ""), ["services[1].name", "missing"]),
    (
        "toml syntax",
        ('name = "Chứng thực"', 'name = "Chứng thực'),
        ["site.toml:", "TOML syntax error"],
    ),
]


@pytest.mark.parametrize("what,change,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_site_file_gives_clear_message(
    what: str, change: tuple[str, str], words: list[str]
) -> None:
    old, new = change
    assert old in EXAMPLE_TEXT, f"test setup: {old!r} not in example"
    text = EXAMPLE_TEXT.replace(old, new, 1)
    problems = problems_of(text)
    joined = "\n".join(problems)
    for w in words:
        assert w in joined, f"{what}: {w!r} not in:\n{joined}"
    assert "Traceback" not in joined


def test_problem_names_the_line_it_is_on() -> None:
    text = EXAMPLE_TEXT.replace("baud = 115200", 'baud = "x"')
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("baud ="))
    (problem,) = problems_of(text)
    assert problem.startswith(f"site.toml:{line}: display.baud:")


def test_enabled_i2c_bus_claims_its_pins() -> None:
    text = EXAMPLE_TEXT.replace("i2c = false", "i2c = true").replace("next_pin = 4", "next_pin = 2")
    assert any("GPIO 2 belongs to the enabled I2C bus" in p for p in problems_of(text))


def test_all_problems_are_reported_at_once() -> None:
    text = EXAMPLE_TEXT.replace("baud = 115200", "baud = 1").replace('cut = "partial"', 'cut = "x"')
    assert len(problems_of(text)) == 2


def test_not_utf8_file_is_explained() -> None:
    data = EXAMPLE_TEXT.encode("utf-8").replace("Chứng thực".encode(), "Ch\xfang".encode("latin-1"))
    with pytest.raises(ConfigError) as e:
        parse(data, "site.toml")
    assert "not UTF-8" in e.value.problems[0] and "Save as" in e.value.problems[0]


def test_service_with_no_counter_is_a_contradiction() -> None:
    text = EXAMPLE_TEXT.replace('services = ["datdai"]', 'services = ["hotich"]')
    assert any('no counter serves "datdai"' in p for p in problems_of(text))


def _kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_check_config_valid_file_prints_one_line_and_exits_0() -> None:
    r = _kiosk("check-config", str(EXAMPLE))
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 1 and "6 services, 5 counters" in r.stdout


def test_check_config_broken_file_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        EXAMPLE_TEXT.replace("baud = 115200", "baud = 1").replace('cut = "partial"', 'cut = "x"'),
        encoding="utf-8",
    )
    r = _kiosk("check-config", str(bad))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(str(bad)) and "Traceback" not in r.stderr
    assert "2 problems" in lines[-1]


def test_check_config_missing_file_is_explained() -> None:
    r = _kiosk("check-config", "/nonexistent/kiosk.toml")
    assert r.returncode == 2 and "file not found" in r.stderr and "Traceback" not in r.stderr


def test_single_table_instead_of_array_of_tables_is_explained() -> None:
    text = '[site]\nname = "X"\n[services]\nid = "a"\n[[counters]]\nid = 1\nname = "Q1"\nservices = ["a"]\n'
    assert any("write each entry as [[services]]" in p for p in problems_of(text))


def test_example_values_are_the_defaults_unless_the_comment_says_otherwise() -> None:
    """The example's header promises each key shows its default; a site's own choice
    must say "(default: ...)" in the comment just above the key."""
    import tomllib

    from kiosk.core.config import _section_types, schema_of

    text = (ROOT / "config" / "example.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    lines = text.splitlines()
    wrong = []
    for sec, cls in _section_types().items():
        if sec == "site" or not isinstance(raw.get(sec), dict):
            continue
        for k, f in schema_of(cls).items():
            if k not in raw[sec]:
                continue
            default = list(f.default) if isinstance(f.default, tuple) else f.default
            if raw[sec][k] == default:
                continue
            # The comment block above the key, within its section.
            start = lines.index(f"[{sec}]")
            at = next(i for i in range(start, len(lines)) if lines[i].startswith(f"{k} ="))
            above = []
            for i in range(at - 1, start, -1):
                if not lines[i].startswith("#"):
                    break
                above.append(lines[i])
            if not any("(default:" in c for c in above):
                wrong.append(f"[{sec}] {k} = {raw[sec][k]!r} (default {default!r})")
    assert wrong == []
