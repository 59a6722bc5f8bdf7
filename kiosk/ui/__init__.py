"""The entrance touchscreen (pygame-ce): see :mod:`kiosk.ui.app` and docs/ui.md."""

import os

# pygame prints a banner on import; a kiosk's journal does not need it.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
