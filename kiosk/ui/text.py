"""Every word the kiosk screen shows, in Vietnamese and English.

Vietnamese first, with full diacritics, in plain words an elderly citizen
understands; English is the second language for foreigners.
"""

from __future__ import annotations

import unicodedata

STRINGS: dict[str, dict[str, str]] = {
    "take_ticket": {
        "vi": "Chạm vào dịch vụ để lấy số thứ tự",
        "en": "Touch a service to take a number",
    },
    "priority_button": {
        "vi": "Ưu tiên: người cao tuổi, khuyết tật, phụ nữ mang thai, người có công",
        "en": "Priority: elderly, disabled, pregnant women, people with merit",
    },
    "priority_title": {"vi": "Số ưu tiên", "en": "Priority number"},
    "priority_groups": {
        "vi": "Dành cho người cao tuổi, người khuyết tật, phụ nữ mang thai, người có công với cách mạng",
        "en": "For the elderly, people with disabilities, pregnant women and people with merit",
    },
    "priority_hint": {
        "vi": "Chọn dịch vụ để lấy số ưu tiên",
        "en": "Choose a service for a priority number",
    },
    "back": {"vi": "Quay lại", "en": "Back"},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "printing": {"vi": "Đang in phiếu…", "en": "Printing your ticket…"},
    "your_number": {"vi": "Số thứ tự của bạn", "en": "Your number"},
    "ahead": {"vi": "Số người đang chờ trước bạn: {n}", "en": "People ahead of you: {n}"},
    "wait": {"vi": "Thời gian chờ dự kiến: khoảng {m} phút", "en": "Estimated wait: about {m} min"},
    "wait_none": {"vi": "Bạn sắp được gọi", "en": "You will be called shortly"},
    "wait_unknown": {
        "vi": "Chưa có quầy mở cho dịch vụ này",
        "en": "No counter is open for this service yet",
    },
    "take_ticket_paper": {
        "vi": "Xin nhận phiếu ở khe máy in",
        "en": "Please take your ticket from the printer",
    },
    "remember": {
        "vi": "Máy in đang gặp sự cố. Xin ghi nhớ số trên màn hình",
        "en": "The printer has a problem. Please remember the number on the screen",
    },
    "priority_mark": {"vi": "ƯU TIÊN", "en": "PRIORITY"},
    "closed_title": {"vi": "Ngoài giờ làm việc", "en": "Office closed"},
    "closed_hours": {
        "vi": "Giờ làm việc: {open} – {close}",
        "en": "Opening hours: {open} – {close}",
    },
    "closed_days": {"vi": "Ngày làm việc: {days}", "en": "Open on: {days}"},
    "closed_come_back": {
        "vi": "Xin mời quay lại trong giờ làm việc",
        "en": "Please come back during opening hours",
    },
    "clock_title": {"vi": "Đang chờ đồng bộ giờ…", "en": "Waiting for the time…"},
    "clock_help": {
        "vi": "Đồng hồ của máy chưa đúng nên chưa cấp số. Xin vui lòng chờ hoặc báo cán bộ",
        "en": "The kiosk's clock is not right yet, so no numbers are issued. "
        "Please wait or tell a member of staff",
    },
    "paused_title": {"vi": "Tạm dừng cấp số", "en": "Tickets paused"},
    "paused_help": {
        "vi": "Xin vui lòng chờ hoặc liên hệ cán bộ tại quầy",
        "en": "Please wait or ask the staff at a counter",
    },
    "banner_trouble": {
        "vi": "{problem}. Số thứ tự sẽ hiện trên màn hình, xin ghi nhớ",
        "en": "{problem}. Your number will be shown on the screen; please remember it",
    },
    "printer_paper_out": {"vi": "Máy in hết giấy", "en": "The printer is out of paper"},
    "printer_offline": {"vi": "Máy in không hoạt động", "en": "The printer is not working"},
    "printer_failed": {"vi": "Máy in không in được phiếu", "en": "The printer could not print"},
    "refused": {"vi": "Không lấy được số", "en": "No number could be issued"},
    "store_down": {
        "vi": "Hệ thống tạm thời chưa cấp được số thứ tự. Xin chờ giây lát rồi thử lại.",
        "en": "Numbers cannot be issued right now. Please wait a moment and try again.",
    },
    "refused_help": {
        "vi": "Xin vui lòng hỏi cán bộ tại quầy",
        "en": "Please ask the staff at a counter",
    },
    "touch_to_finish": {"vi": "Chạm vào màn hình để xong", "en": "Touch the screen when done"},
    "booking_button": {"vi": "Có lịch hẹn trực tuyến", "en": "I booked online"},
    "code_title": {"vi": "Nhập hoặc quét mã lịch hẹn", "en": "Type or scan your booking code"},
    "code_ok": {"vi": "Lấy số", "en": "Get my number"},
    "guide_button": {"vi": "Hướng dẫn thủ tục", "en": "Procedure guide"},
    "guide_type": {
        "vi": "Gõ tên thủ tục (không cần dấu) hoặc chọn lĩnh vực",
        "en": "Type a procedure's name or choose a field",
    },
    "guide_none": {"vi": "Không tìm thấy thủ tục", "en": "No procedure found"},
    "guide_more": {"vi": "Xem thêm ▸", "en": "More ▸"},
    "guide_bring": {"vi": "Cần mang theo:", "en": "Please bring:"},
    "guide_fee": {"vi": "Lệ phí: {fee}", "en": "Fee: {fee}"},
    "guide_time": {"vi": "Thời hạn giải quyết: {time}", "en": "Time limit: {time}"},
    "guide_service": {"vi": "Nộp tại quầy: {name}", "en": "Apply at: {name}"},
    "guide_take": {"vi": "Lấy số", "en": "Take a number"},
    "help_title": {"vi": "Bàn phím", "en": "Keys"},
    "counter_selected": {"vi": "Đang điều khiển: {name}", "en": "Controlling: {name}"},
}

DAYS = {
    "vi": {
        "mon": "Thứ Hai",
        "tue": "Thứ Ba",
        "wed": "Thứ Tư",
        "thu": "Thứ Năm",
        "fri": "Thứ Sáu",
        "sat": "Thứ Bảy",
        "sun": "Chủ Nhật",
    },
    "en": {
        "mon": "Mon",
        "tue": "Tue",
        "wed": "Wed",
        "thu": "Thu",
        "fri": "Fri",
        "sat": "Sat",
        "sun": "Sun",
    },
}


def t(key: str, lang: str, **kw: object) -> str:
    """The text ``key`` in ``lang`` (NFC-normalised), with ``{placeholders}`` filled."""
    s = STRINGS[key][lang].format(**kw) if kw else STRINGS[key][lang]
    return unicodedata.normalize("NFC", s)


def days_text(days: list[str], lang: str) -> str:
    """Opening days in words, with runs of consecutive days joined: "Thứ Hai – Thứ Bảy"."""
    order = list(DAYS["vi"])
    idx = sorted(order.index(d) for d in days if d in order)
    runs: list[list[int]] = []
    for i in idx:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    names = DAYS[lang]
    parts = [
        names[order[r[0]]] if len(r) == 1 else f"{names[order[r[0]]]} – {names[order[r[-1]]]}"
        for r in runs
    ]
    return ", ".join(parts)
