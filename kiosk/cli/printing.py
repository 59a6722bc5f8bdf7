"""Printer commands: ``kiosk print``, ``kiosk print-test``, ``kiosk ticket-preview``.

``kiosk print CODE`` prints a stored ticket of today again (marked *IN LẠI*) and
records the verdict like the printer consumer does. While the kiosk service runs
it holds a USB printer; stop it first (``systemctl stop kiosk``) or print through
``--printer``. ``kiosk ticket-preview`` draws a ticket to a PNG without a printer.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.cli.common import EXIT_OK, EXIT_REFUSED, UsageError, common, emit, open_queue
from kiosk.core.echo import echo


def _printer(args: argparse.Namespace, cfg: Any) -> Any:
    from printer.connection import open_link
    from printer.job import TicketPrinter, layout_from_config
    from printer.uri import PrinterUriError

    try:
        link = open_link(args.printer or cfg.printer.uri, float(cfg.printer.timeout))
    except PrinterUriError as e:
        raise UsageError(str(e)) from None
    layout = layout_from_config(cfg)
    return TicketPrinter(link, layout, str(cfg.printer.cut), int(cfg.printer.feed_lines))


def _send(tp: Any, info: Any) -> tuple[bool, str, str, str]:
    """(ok, detail, status before, status after) of one ticket on a TicketPrinter."""
    from printer.connection import PrinterFault

    before = after = "unknown"
    try:
        st = tp.link.status()
        before = f"{st.state} ({st.detail})"
        if st.fault:
            raise PrinterFault(st.state, st.detail)
        tp.print(info)
        st = tp.link.status()
        after = f"{st.state} ({st.detail})"
        if st.state == "paper_out":
            raise PrinterFault("paper_out", "the paper ran out while printing")
        return True, "", before, after
    except PrinterFault as f:
        return False, f.detail, before, after
    finally:
        tp.link.close()


def cmd_print(args: argparse.Namespace) -> int:
    from kiosk.core.queue import UnknownName
    from printer.job import info_from_ticket

    q = open_queue(args)
    cfg = q.cfg
    code = args.code.strip().upper()
    if not code:
        raise UsageError(
            "the ticket code is empty; give one such as A012 (`kiosk status` lists today's)"
        )
    t = q.ticket(code)
    if t is None:
        raise UnknownName(
            f"no ticket {echo(code)} today ({q.today()}); `kiosk status` shows today's tickets"
        )
    tp = _printer(args, cfg)
    now = datetime.fromtimestamp(q.clock(), cfg.tz)
    from kiosk.core.tokens import load_secret, qr_template, secret_path, ticket_token

    template = qr_template(cfg)
    token = ""
    if "{token}" in template:
        token = ticket_token(load_secret(secret_path(cfg, q.store.path)), t.day, t.code, t.id)
    info = info_from_ticket(cfg, t, reprint_at=now, qr_template=template, token=token)
    ok, detail, before, after = _send(tp, info)
    q.record_print(t.id, ok, detail or "reprinted by kiosk print")
    data = {"code": t.code, "printed": ok, "detail": detail, "before": before, "after": after}
    if ok:
        emit(args, data, f"{t.code} printed on {tp.link.describe()}; printer now {after}")
        return EXIT_OK
    emit(args, data, f"{t.code} NOT printed on {tp.link.describe()}: {detail}")
    return EXIT_REFUSED


def sample_info(cfg: Any, service_id: str, code: str | None = None, priority: bool = False) -> Any:
    """A plausible ticket of a service for previews and test prints."""
    from printer.layout import TicketInfo

    try:
        svc = cfg.service(service_id)
    except KeyError:
        from kiosk.core.queue import UnknownName

        known = ", ".join(s.id for s in cfg.services)
        raise UnknownName(f'unknown service "{echo(service_id)}"; this site has: {known}') from None
    template = str(cfg.printer.qr_url or "")
    code = code or svc.code(svc.start + 11)
    day = datetime.now(cfg.tz)
    return TicketInfo(
        code=code,
        service_id=svc.id,
        service_name=svc.name,
        service_name_en=svc.name_en,
        priority=priority,
        issued_at=day.replace(second=0, microsecond=0),
        ahead=7,
        wait_minutes=18,
        qr_text=template.format(
            code=code,
            day=day.date().isoformat(),
            service=svc.id,
            number=svc.start,
            site=cfg.site.id,
        )
        if template
        else "",
    )


def cmd_print_test(args: argparse.Namespace) -> int:
    from kiosk.core.config import load

    cfg = load(args.config)
    tp = _printer(args, cfg)
    info = sample_info(cfg, cfg.services[0].id, code="TEST")
    ok, detail, before, after = _send(tp, info)
    data = {"printed": ok, "detail": detail, "before": before, "after": after}
    where = tp.link.describe()
    text = (
        f"test ticket sent to {where}\n  status before: {before}\n  status after:  {after}"
        if ok
        else f"test ticket NOT printed on {where}: {detail}\n  status before: {before}"
    )
    emit(args, data, text)
    return EXIT_OK if ok else EXIT_REFUSED


def cmd_preview(args: argparse.Namespace) -> int:
    from kiosk.core.config import load
    from printer.job import layout_from_config
    from printer.layout import WIDTHS

    cfg = load(args.config)
    out = Path(args.out)
    if not args.out.strip():
        raise UsageError(
            f"--out is empty; give a file name, e.g. --out {echo(args.service, 20)}.png"
        )
    if out.is_dir():
        raise UsageError(
            f"--out {echo(args.out)} is a folder; give a file name, "
            f"e.g. --out {out / (echo(args.service, 20) + '.png')}"
        )
    if out.suffix.lower() != ".png":
        raise UsageError(
            f"--out {echo(args.out)}: the preview is a PNG image; "
            f"end the file name in .png, e.g. {echo(out.with_suffix('.png'))}"
        )
    width = WIDTHS[args.paper] if args.paper else None
    layout = layout_from_config(cfg, width)
    img = layout.render(sample_info(cfg, args.service, args.code, args.priority))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        img.save(out, format="PNG")
    except OSError as e:
        raise UsageError(
            f"cannot write {echo(out)}: {e.strerror or e}; choose a folder you can write to"
        ) from None
    emit(
        args,
        {"out": str(out), "width": img.width, "height": img.height},
        f"{out}: {img.width} x {img.height} dots ({img.height / 8:.0f} mm of paper)",
    )
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser("print", help="print a stored ticket of today again (marked IN LẠI)")
    common(p)
    p.add_argument("code", help="ticket code, e.g. A012")
    p.add_argument("--printer", metavar="URI", help="printer URI instead of [printer] uri")
    p.set_defaults(func=cmd_print)

    p = sub.add_parser("print-test", help="print a test ticket and show the printer's status")
    common(p)
    p.add_argument("--printer", metavar="URI", help="printer URI instead of [printer] uri")
    p.set_defaults(func=cmd_print_test)

    p = sub.add_parser("ticket-preview", help="draw a ticket of a service into a PNG file")
    common(p)
    p.add_argument("service", help="service id from the site file")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write the PNG")
    p.add_argument(
        "--paper", type=int, choices=(58, 80), help="paper width (default: [printer] paper_mm)"
    )
    p.add_argument("--code", help="ticket code to show (default: a sample)")
    p.add_argument("--priority", action="store_true", help="show the priority mark")
    p.set_defaults(func=cmd_preview)
