"""Queue-ticket kiosk: the core (store, queue rules, events, config), UI, inputs, CLI."""

__version__ = "0.1.0"
