"""``kiosk doctor``: deployment checks that say in plain words what to fix (:mod:`.checks`)."""

#: The checks ``kiosk doctor --only`` accepts, in the order they run. Kept here so the
#: command line can offer them without importing the checks; a test keeps it equal to
#: ``["site", *checks.CHECKS]``.
CHECK_NAMES = (
    "site",
    "store",
    "disk",
    "printer",
    "display",
    "gpio",
    "screen",
    "fonts",
    "audio",
    "clock",
    "sdcard",
    "uplink",
    "versions",
)
