"""Vietnamese voice calls built from short clips: which clips, how numbers are read, making them.

A call is a list of clip names, e.g. for ticket 1025 at counter 3 read as a number::

    chime, intro ("Xin mời công dân có số"), d1, thousand, d0, hundred, d2, tens, lam,
    to_counter ("đến quầy số"), d3

Clips are WAV files named ``<clip>.wav``. ``hall-display make-voice --out DIR``
generates every clip with espeak-ng (voice ``vi``) at install or image-build time,
so the display needs no speech engine and no internet at run time. A site replaces
any clip by dropping its own recording with the same name into the site voice
folder (``--voice-dir``), which is searched first.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path

#: Every clip and what it says. Names are ASCII so they survive any file system.
CLIPS: dict[str, str] = {
    "intro": "Xin mời công dân có số",
    "to_counter": "đến quầy số",
    "d0": "không",
    "d1": "một",
    "d2": "hai",
    "d3": "ba",
    "d4": "bốn",
    "d5": "năm",
    "d6": "sáu",
    "d7": "bảy",
    "d8": "tám",
    "d9": "chín",
    "ten": "mười",  # 10–19
    "tens": "mươi",  # 20, 30, ...
    "hundred": "trăm",
    "thousand": "nghìn",
    "linh": "linh",  # 105 = một trăm linh năm
    "mot": "mốt",  # 21 = hai mươi mốt
    "tu": "tư",  # 24 = hai mươi tư
    "lam": "lăm",  # 15 = mười lăm, 25 = hai mươi lăm
}
#: Vietnamese names of the letters that prefix ticket codes.
LETTERS: dict[str, str] = {
    "A": "a",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "E": "e",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e lờ",
    "M": "em mờ",
    "N": "en nờ",
    "O": "o",
    "P": "pê",
    "Q": "quy",
    "R": "e rờ",
    "S": "ét xì",
    "T": "tê",
    "U": "u",
    "V": "vê",
    "W": "vê kép",
    "X": "ích xì",
    "Y": "i dài",
    "Z": "dét",
}
for _k, _v in LETTERS.items():
    CLIPS[f"letter_{_k.lower()}"] = _v
CHIME = "chime"
ALL_CLIPS = (CHIME, *CLIPS)

#: Clip format generated here (espeak-ng's native rate).
RATE = 22050


def digits(n: int | str) -> list[str]:
    """Clip names reading a number digit by digit: 1025 → một, không, hai, năm."""
    return [f"d{ch}" for ch in str(n) if ch.isdigit()]


def number_words(n: int) -> list[str]:
    """Clip names reading 0 ≤ n ≤ 999,999 as a Vietnamese number (northern usage).

    1025 → một nghìn không trăm hai mươi lăm; 105 → một trăm linh năm; 21 → hai mươi mốt.
    """
    if not 0 <= n <= 999_999:
        raise ValueError(f"{n} is outside 0–999999")
    if n == 0:
        return ["d0"]
    thousands, rest = divmod(n, 1000)
    out: list[str] = []
    if thousands:
        out += _group(thousands, leading=True) + ["thousand"]
        if rest:
            out += _group(rest, leading=False)
    else:
        out += _group(rest, leading=True)
    return out


def _group(n: int, leading: bool) -> list[str]:
    """Read 1 ≤ n ≤ 999; a group after "nghìn" says its zero hundreds and tens."""
    h, rem = divmod(n, 100)
    t, u = divmod(rem, 10)
    out: list[str] = []
    if h or not leading:
        out += [f"d{h}", "hundred"]
    if t == 0:
        if u:
            if out:
                out.append("linh")
            out.append(f"d{u}")
        return out
    if t == 1:
        out.append("ten")
        if u == 5:
            out.append("lam")
        elif u:
            out.append(f"d{u}")
        return out
    out += [f"d{t}", "tens"]
    if u == 1:
        out.append("mot")
    elif u == 4:
        out.append("tu")
    elif u == 5:
        out.append("lam")
    elif u:
        out.append(f"d{u}")
    return out


def code_clips(code: str, mode: str = "number") -> list[str]:
    """Clip names reading a ticket code: letters by name, then the number.

    ``mode`` is ``"number"`` (A025 → a, hai mươi lăm) or ``"digits"`` (a, không, hai, năm).
    """
    out: list[str] = []
    letters = "".join(ch for ch in code if ch.isalpha())
    num = "".join(ch for ch in code if ch.isdigit())
    for ch in letters.upper():
        if ch in LETTERS:
            out.append(f"letter_{ch.lower()}")
    if num:
        out += digits(num) if mode == "digits" else number_words(int(num))
    return out


def call_clips(code: str, counter: int, mode: str = "number", chime: bool = True) -> list[str]:
    """The whole announcement: chime, "Xin mời công dân có số" CODE "đến quầy số" N."""
    head = [CHIME] if chime else []
    return head + ["intro", *code_clips(code, mode), "to_counter", *number_words(counter)]


def clips_text(clips: Sequence[str]) -> str:
    """What a list of clips says, for logs and tests."""
    return " ".join("♪" if c == CHIME else CLIPS[c] for c in clips)


# ----------------------------------------------------------------------------- making clips


class VoiceError(Exception):
    """Clips cannot be made; the message says what to install or fix."""


def make_voice(out: Path, espeak: str = "espeak-ng", voice: str = "vi", speed: int = 150) -> int:
    """Generate every clip into ``out`` with espeak-ng; returns how many were written."""
    exe = shutil.which(espeak)
    if exe is None:
        raise VoiceError(
            f"{espeak} is not installed; install it (apt-get install espeak-ng) "
            "or drop recorded WAV files into the voice folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_chime(out / f"{CHIME}.wav")
    for name, text in CLIPS.items():
        target = out / f"{name}.wav"
        tmp = out / f".{name}.tmp.wav"
        r = subprocess.run(
            [exe, "-v", voice, "-s", str(speed), "-w", str(tmp), text],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if r.returncode != 0 or not tmp.exists():
            raise VoiceError(f"espeak-ng failed on {name!r}: {r.stderr.strip() or r.returncode}")
        trim_silence(tmp, target)
        tmp.unlink()
    return len(CLIPS) + 1


def write_chime(path: Path, rate: int = RATE) -> None:
    """A two-note "ding-dong" (G5 then E5) with soft decay, 16-bit mono."""
    frames = bytearray()
    for freq, dur in ((784.0, 0.45), (659.3, 0.7)):
        n = int(rate * dur)
        for i in range(n):
            t = i / rate
            env = math.exp(-4.0 * t / dur) * min(1.0, i / (0.005 * rate))
            v = (
                0.45
                * env
                * (math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t))
            )
            frames += struct.pack("<h", int(max(-1.0, min(1.0, v)) * 32767))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def trim_silence(src: Path, dst: Path, threshold: int = 400, keep_s: float = 0.03) -> None:
    """Copy a 16-bit mono WAV without its leading and trailing silence (espeak pads both)."""
    with wave.open(str(src), "rb") as r:
        if r.getsampwidth() != 2 or r.getnchannels() != 1:
            shutil.copyfile(src, dst)
            return
        rate = r.getframerate()
        raw = r.readframes(r.getnframes())
    samples = struct.unpack(f"<{len(raw) // 2}h", raw)
    loud = [i for i, s in enumerate(samples) if abs(s) > threshold]
    keep = int(keep_s * rate)
    if loud:
        a, b = max(0, loud[0] - keep), min(len(samples), loud[-1] + keep)
        raw = raw[a * 2 : b * 2]
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(raw)
