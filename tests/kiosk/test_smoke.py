from kiosk.queue import Queue


def test_issue_then_call_gives_the_same_ticket(queue: Queue) -> None:
    issued = queue.issue("hotich")
    called = queue.call_next(1)
    assert called is not None and called.code == issued.ticket.code == "A001"
