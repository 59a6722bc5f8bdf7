"""``kiosk sim``: the whole office on one PC, with no hardware (:mod:`.office`, :mod:`.demo`)."""

#: How a ``kiosk sim --headless --script FILE`` script is written; ``kiosk sim --help`` shows
#: it without importing the simulator, :func:`kiosk.sim.office.parse_script` reads it.
SCRIPT_FORMAT = """A script is one step a line, ``HH:MM[:SS] command args`` (``#`` starts a comment)::

    07:35 issue hotich              # a citizen touches a service on the screen
    07:36 issue hotich priority     # ... through the priority path
    07:36 button chungthuc          # ... presses the service's GPIO button
    07:37 scan 72 hotich            # scans a synthetic ID card (holder aged 72), touches
    07:40 next 1                    # counter 1: call next (also recall, skip, finish)
    07:52 transfer 1 chungthuc      # counter 1 sends its citizen to another service
    07:53 rate 1 3                  # 3 Rất hài lòng, 2 Hài lòng, 1 Chưa hài lòng
    09:40 printer paper_out         # ok, paper_near_end, paper_out, offline, silent
    09:55 printer ok
    10:00 snapshot busy-morning     # save the kiosk screen as screens/kiosk-busy-morning.png
    17:00 close                     # close the day
"""
