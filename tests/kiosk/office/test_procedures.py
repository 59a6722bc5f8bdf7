"""The procedure guide file: read, validated like the site file, searched with or
without diacritics, browsed by field; `kiosk check-config` checks it too."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.core.config import Config, ConfigError
from kiosk.office.procedures import fold, guide_path, load_guide, parse_guide
from tests.conftest import EXAMPLE, ROOT

SERVICES = ("hotich", "chungthuc", "datdai")
ONE = """
[[procedures]]
id = "khai-sinh"
name = "Đăng ký khai sinh"
name_en = "Birth registration"
service = "hotich"
field = "Hộ tịch"
documents = ["Tờ khai", "Giấy chứng sinh"]
fee = "Miễn phí"
time_limit = "Trong ngày"
url = "https://dichvucong.example.gov.vn/khai-sinh"
"""


def test_fold_drops_diacritics_and_maps_d_with_stroke() -> None:
    assert fold("  Hộ   TỊCH ") == "ho tich"
    assert fold("Đất đai") == "dat dai"
    assert fold("Chứng thực chữ ký") == "chung thuc chu ky"


def test_the_shipped_list_loads_for_the_example_site(cfg: Config) -> None:
    g = load_guide(cfg)
    assert g is not None
    assert 18 <= len(g) <= 25
    assert {p.service for p in g.procedures} <= {s.id for s in cfg.services}
    assert "Hộ tịch" in g.fields() and "Chứng thực" in g.fields()
    assert all(p.documents and p.url.startswith("https://") for p in g.procedures)


def test_search_without_diacritics_finds_the_vietnamese_name(cfg: Config) -> None:
    g = load_guide(cfg)
    assert g is not None
    plain = [p.id for p in g.search("ho tich")]
    marked = [p.id for p in g.search("HỘ TỊCH")]
    assert plain == marked and "khai-sinh" in plain and "ket-hon" in plain
    assert [p.id for p in g.search("ket hon")] == ["ket-hon"]
    assert "cap-giay-chung-nhan-dat" in [p.id for p in g.search("dat dai")]
    assert g.search("zzz") == []
    assert len(g.search("  ")) == len(g)


def test_search_puts_names_starting_with_the_query_first(cfg: Config) -> None:
    g = load_guide(cfg)
    assert g is not None
    hits = g.search("chung thuc")
    assert fold(hits[0].name).startswith("chung thuc")


def test_browse_by_field_keeps_file_order() -> None:
    two = ONE + ONE.replace("khai-sinh", "sao-y").replace('"hotich"', '"chungthuc"').replace(
        '"Hộ tịch"', '"Chứng thực"'
    )
    g = parse_guide(two, SERVICES, "p.toml")
    assert g.fields() == ["Hộ tịch", "Chứng thực"]
    assert [p.id for p in g.in_field("Chứng thực")] == ["sao-y"]
    assert g.get("sao-y") is not None and g.get("nope") is None


def test_every_problem_names_file_line_key_expected_and_found() -> None:
    bad = (
        ONE.replace('service = "hotich"', 'service = "hokhau"')
        .replace('documents = ["Tờ khai", "Giấy chứng sinh"]', "documents = []")
        .replace('url = "https://dichvucong.example.gov.vn/khai-sinh"', 'url = "dichvucong"')
        .replace('fee = "Miễn phí"\n', 'fees = "x"\n')
    )
    with pytest.raises(ConfigError) as e:
        parse_guide(bad, SERVICES, "p.toml")
    probs = e.value.problems
    assert len(probs) == 5, probs
    text = "\n".join(probs)
    assert "p.toml:6: procedures[0].service: expected one of the site's services" in text
    assert 'found "hokhau"' in text
    assert "procedures[0].documents: expected a list of non-empty texts" in text
    assert "procedures[0].url: expected" in text and 'found "dichvucong"' in text
    assert "procedures[0].fees: unknown key" in text
    assert "missing key procedures[0].fee" in text


def test_a_duplicate_id_and_a_toml_error_are_refused() -> None:
    with pytest.raises(ConfigError, match="used by an earlier procedure"):
        parse_guide(ONE + ONE, SERVICES, "p.toml")
    with pytest.raises(ConfigError, match=r"p.toml:3: TOML syntax error"):
        parse_guide('[[procedures]]\nid = "a"\nname = "x\n', SERVICES, "p.toml")
    with pytest.raises(ConfigError, match="expected at least one"):
        parse_guide("", SERVICES, "p.toml")


def _site(tmp_path: Path, procedures: str | None) -> Path:
    site = tmp_path / "kiosk.toml"
    shutil.copy(EXAMPLE, site)
    if procedures is not None:
        (tmp_path / "procedures.toml").write_text(procedures, encoding="utf-8")
    return site


def test_the_file_is_read_beside_the_site_file(tmp_path: Path, cfg: Config) -> None:
    site = _site(tmp_path, ONE)
    c = replace(cfg, source=str(site))
    assert guide_path(c) == tmp_path / "procedures.toml"
    g = load_guide(c)
    assert g is not None and [p.id for p in g.procedures] == ["khai-sinh"]
    assert load_guide(replace(c, guide=replace(c.guide, file=""))) is None


def test_check_config_reports_the_guide(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "procedures.toml: 21 procedures" in out


def test_check_config_refuses_a_bad_or_missing_guide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _site(tmp_path, ONE.replace('"hotich"', '"nope"'))
    rc = main(["check-config", str(site)])
    err = capsys.readouterr().err
    assert rc != 0 and "procedures[0].service" in err and "Traceback" not in err
    (tmp_path / "procedures.toml").unlink()
    rc = main(["check-config", str(site)])
    err = capsys.readouterr().err
    assert rc != 0 and "[guide] file" in err and "not found" in err


def test_the_packaged_example_has_the_guide_beside_it() -> None:
    assert (ROOT / "kiosk" / "data" / "procedures.toml").read_bytes() == (
        ROOT / "config" / "procedures.toml"
    ).read_bytes()
