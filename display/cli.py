"""``hall-display``: run the hall display, make its voice clips, or speak one call.

    hall-display run --port /dev/ttyUSB0 [--baud 115200] [--address 0] [--windowed]
                     [--size 1280x720] [--status-file /run/hall-display/status.json]
    hall-display make-voice --out /usr/share/hall-display/voice
    hall-display say A025 3            # test the speakers: one call, then exit

Exit codes: 0 done, 2 bad input, 70 internal error. No traceback unless --debug.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_USAGE, EXIT_INTERNAL = 0, 2, 70


def _size(s: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{3,5})[xX×](\d{3,5})", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{s!r} is not a size; write it like 1920x1080")
    return int(m.group(1)), int(m.group(2))


def _address(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = -1
    if not 0 <= v <= 254:
        raise argparse.ArgumentTypeError(
            f"{s!r} is not an address; use 0 for the hall display or N (1–254) for counter N"
        )
    return v


def _counter(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = -1
    if not 1 <= v <= 254:
        raise argparse.ArgumentTypeError(
            f"{s!r} is not a counter number; give the counter called to, 1–254 (e.g. 3)"
        )
    return v


def _baud(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = 0
    if not 1200 <= v <= 4_000_000:
        raise argparse.ArgumentTypeError(f"{s!r} is not a baud rate; use e.g. 115200 or 9600")
    return v


def _voice_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--voice-dir",
        action="append",
        type=Path,
        metavar="DIR",
        help="folder of <clip>.wav files, searched first (repeatable); "
        "default /etc/hall-display/voice, /var/lib/hall-display/voice, /usr/share/hall-display/voice, ~/.cache/hall-display/voice",
    )
    p.add_argument(
        "--numbers",
        choices=("number", "digits"),
        help="read 1025 as 'một nghìn không trăm hai mươi lăm' (number) or 'một không hai năm' (digits)",
    )
    p.add_argument("--no-chime", action="store_true", help="no chime before each call")


def _voice_dirs(args: argparse.Namespace) -> list[Path]:
    from display.app import Options

    return list(args.voice_dir or []) + Options(port="").voice_dirs


#: Where the site file is looked for when --config is not given (as the kiosk does).
SITE_FILES = (Path("/boot/firmware/kiosk.toml"), Path("/etc/kiosk/kiosk.toml"))


def _find_site_file() -> Path | None:
    env = os.environ.get("KIOSK_CONFIG")
    if env:
        return Path(env)
    return next((f for f in SITE_FILES if f.is_file()), None)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="hall-display", description=__doc__.split("\n\n")[0])
    ap.add_argument("--debug", action="store_true", help="verbose logs and tracebacks")
    sub = ap.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="show the hall display fed by the kiosk over a serial line")
    r.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0 or /dev/pts/5")
    r.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="site file: [display] baud/address and [announcer] are read from it "
        "(default: $KIOSK_CONFIG, /boot/firmware/kiosk.toml, /etc/kiosk/kiosk.toml if present)",
    )
    r.add_argument("--baud", type=_baud, help="baud rate (default 115200, or the site file's)")
    r.add_argument(
        "--address", type=_address, help="this display's address (0 = hall display, the default)"
    )
    r.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    r.add_argument("--size", type=_size, help="window size, e.g. 1280x720 (default: the screen)")
    r.add_argument(
        "--status-file",
        type=Path,
        metavar="PATH",
        help="write what is shown as JSON to PATH (atomically) on every change",
    )
    r.add_argument("--mute", action="store_true", help="show calls without speaking them")
    r.add_argument(
        "--scroll-fps", type=float, default=20.0, help="frames a second of a scrolling notice"
    )
    r.add_argument("--seconds", type=float, help=argparse.SUPPRESS)  # tests and benchmarks
    _voice_args(r)

    m = sub.add_parser("make-voice", help="generate the voice clips with espeak-ng")
    m.add_argument(
        "--out",
        type=Path,
        default=Path("/var/lib/hall-display/voice"),
        metavar="DIR",
        help="folder for the clips (default /var/lib/hall-display/voice)",
    )
    m.add_argument("--speed", type=int, default=150, help="words a minute (espeak-ng -s)")

    d = sub.add_parser(
        "decode", help="print the frames in a capture of the line (raw bytes, or hex with --hex)"
    )
    d.add_argument("file", nargs="?", type=Path, help="capture file (default: standard input)")
    d.add_argument(
        "--hex", action="store_true", help="the capture is hex text (e.g. from socat -x)"
    )

    s = sub.add_parser("say", help="announce one call through the speakers and exit")
    s.add_argument("code", help="ticket code, e.g. A025")
    s.add_argument("counter", type=_counter, help="counter number, 1–254")
    _voice_args(s)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="hall-display: %(message)s",
    )
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as e:
        if args.debug:
            traceback.print_exc()
        print(f"hall-display: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_INTERNAL


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "make-voice":
        from display.voice import VoiceError, make_voice

        try:
            n = make_voice(args.out, speed=args.speed)
        except VoiceError as e:
            print(f"hall-display: {e}", file=sys.stderr)
            return EXIT_USAGE
        except OSError as e:
            print(
                f"hall-display: cannot write the clips to {args.out}: {e.strerror or e}; "
                "choose a folder you may write with --out DIR",
                file=sys.stderr,
            )
            return EXIT_USAGE
        print(f"{n} clips written to {args.out}")
        return EXIT_OK
    if args.command == "decode":
        return _decode(args)
    if args.command == "say":
        from display.announcer import Announcer
        from display.protocol import Call
        from display.voice import code_clips

        try:
            code_clips(args.code)
        except ValueError as e:
            print(f"hall-display: {e}", file=sys.stderr)
            return EXIT_USAGE
        a = Announcer(
            _voice_dirs(args), number_mode=args.numbers or "number", chime=not args.no_chime
        )
        a.start()
        a.announce(Call(args.code, args.counter))
        a.wait_idle(60)
        a.stop()
        played = a.history[-1] if a.history else None
        print(played.text if played else "nothing played")
        return EXIT_OK if played and played.audible else 1
    # run
    from display.app import App, Options
    from display.siteconfig import DisplaySettings, SiteConfigError, read

    site = DisplaySettings()
    if args.config is None:
        args.config = _find_site_file()
    if args.config is not None:
        try:
            site = read(args.config)
        except SiteConfigError as e:
            print(f"hall-display: {e}", file=sys.stderr)
            return EXIT_USAGE

    from printer.fonts import font_path

    try:
        font_path()
    except FileNotFoundError as e:
        print(f"hall-display: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.status_file is not None and not args.status_file.parent.is_dir():
        print(
            f"hall-display: the folder of --status-file {args.status_file} does not exist",
            file=sys.stderr,
        )
        return EXIT_USAGE
    voice_dirs = _voice_dirs(args)
    if args.config is not None and site.announcer.voice_dir:
        voice_dirs.insert(len(args.voice_dir or []), Path(site.announcer.voice_dir))
    opts = Options(
        port=args.port,
        baud=args.baud or site.display.baud,
        address=args.address if args.address is not None else site.display.address,
        windowed=args.windowed,
        size=args.size,
        status_file=args.status_file,
        voice_dirs=voice_dirs,
        number_mode=args.numbers or site.announcer.numbers,
        chime=site.announcer.chime and not args.no_chime,
        mute=args.mute or not site.announcer.enabled,
        scroll_fps=args.scroll_fps,
    )
    return App(opts).run(max_seconds=args.seconds)


def _decode(args: argparse.Namespace) -> int:
    from display.protocol import FrameDecoder, describe

    try:
        data = args.file.read_bytes() if args.file else sys.stdin.buffer.read()
    except OSError as e:
        print(f"hall-display: cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    if args.hex:
        text = data.decode("ascii", "replace")
        # socat -x lines start with "> 2026/.. length=N from=.. to=..": keep only hex pairs.
        pairs = re.findall(r"(?<![0-9A-Za-z/:=.])[0-9A-Fa-f]{2}(?![0-9A-Za-z/:=.])", text)
        data = bytes(int(x, 16) for x in pairs)
    n = 0
    for item in FrameDecoder().feed(data + b"\x00"):
        print(describe(item))
        n += 1
    if n == 0:
        print("no frames found (the link's frames are delimited by 00 bytes)", file=sys.stderr)
        return 1
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
