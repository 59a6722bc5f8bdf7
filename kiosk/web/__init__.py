"""``kiosk web``: the office network's pages and JSON API, served by the kiosk Pi.

- ``app.build_app`` wires everything (one function, as Datasette does);
- ``views/api.py`` the JSON API of docs/web-api.md; ``views/pages.py`` the staff panel,
  login, counter tablet, phone ticket page and public board (Jinja2 templates, a little
  plain JavaScript, no build step);
- ``live.py`` one store snapshot per change for every server-sent-events client;
- ``auth.py`` sessions, lockout, CSRF; ``server.py`` uvicorn and systemd readiness.
"""
