"""Hall display: the serial link protocol (both ends), the display app, the announcer.

This package must not import ``kiosk``: the display runs alone on its own Pi.
"""
