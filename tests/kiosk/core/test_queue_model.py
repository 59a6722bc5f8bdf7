"""A hypothesis state machine drives the queue and a simple model side by side."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kiosk.core.config import load
from kiosk.core.queue import Queue, QueueError
from kiosk.core.store import Store
from tests.conftest import EXAMPLE, Clock

CFG = load(EXAMPLE)
SERVICES = [s.id for s in CFG.services]
COUNTERS = [c.id for c in CFG.counters]


@dataclass
class M:
    """The model's idea of one ticket."""

    id: int
    code: str
    service: str
    priority: bool
    status: str
    key: float
    issued: float


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.store = Store(Path(self.dir.name) / "q.db")
        self.clock = Clock(0)
        self.clock.set_local(CFG, "2026-11-30T08:00:00")
        self.q = Queue(CFG, self.store, self.clock)
        self.tickets: list[M] = []
        self.numbers: dict[str, int] = {}
        self.current: dict[int, M | None] = dict.fromkeys(COUNTERS)

    def teardown(self) -> None:
        self.store.close()
        self.dir.cleanup()

    def _tick(self) -> float:
        self.clock.advance(1)
        return self.clock()

    def _model_call(self, counter: int) -> M | None:
        services = CFG.counter(counter).services
        waiting = [t for t in self.tickets if t.status == "waiting" and t.service in services]
        if not waiting:
            self.current[counter] = None
            return None
        t = min(waiting, key=lambda t: (not t.priority, t.key, t.id))
        t.status = "called"
        self.current[counter] = t
        return t

    @rule(service=st.sampled_from(SERVICES), priority=st.booleans())
    def issue(self, service: str, priority: bool) -> None:
        now = self._tick()
        r = self.q.issue(service, priority)
        n = self.numbers.get(service, 0) + 1
        self.numbers[service] = n
        code = CFG.service(service).code(n)
        assert r.ticket.code == code
        ahead = sum(
            1
            for t in self.tickets
            if t.service == service and t.status == "waiting" and (t.priority or not priority)
        )
        assert r.ahead == ahead
        self.tickets.append(M(r.ticket.id, code, service, priority, "waiting", now, now))

    @rule(counter=st.sampled_from(COUNTERS))
    def call_next(self, counter: int) -> None:
        self._tick()
        cur = self.current[counter]
        if cur is not None:
            cur.status = "served"
        expected = self._model_call(counter)
        got = self.q.call_next(counter)
        assert (got.code if got else None) == (expected.code if expected else None)

    @rule(counter=st.sampled_from(COUNTERS))
    def recall(self, counter: int) -> None:
        self._tick()
        if self.current[counter] is None:
            try:
                self.q.recall(counter)
            except QueueError:
                return
            raise AssertionError("recall with nothing called must be refused")
        assert self.q.recall(counter).code == self.current[counter].code  # type: ignore[union-attr]

    @rule(counter=st.sampled_from(COUNTERS))
    def skip(self, counter: int) -> None:
        self._tick()
        cur = self.current[counter]
        if cur is None:
            try:
                self.q.skip(counter)
            except QueueError:
                return
            raise AssertionError("skip with nothing called must be refused")
        cur.status = "no_show"
        expected = self._model_call(counter)
        skipped, nxt = self.q.skip(counter)
        assert skipped.code == cur.code
        assert (nxt.code if nxt else None) == (expected.code if expected else None)

    @rule(counter=st.sampled_from(COUNTERS), service=st.sampled_from(SERVICES))
    def transfer(self, counter: int, service: str) -> None:
        self._tick()
        cur = self.current[counter]
        if cur is None or cur.service == service:
            try:
                self.q.transfer(counter, service)
            except QueueError:
                return
            raise AssertionError("this transfer must be refused")
        keys = [t.key for t in self.tickets if t.status == "waiting" and t.service == service]
        cur.key = min(cur.issued, min(keys) - 1) if keys else cur.issued
        cur.service, cur.status = service, "waiting"
        self.current[counter] = None
        assert self.q.transfer(counter, service).code == cur.code

    @rule(counter=st.sampled_from(COUNTERS))
    def finish(self, counter: int) -> None:
        self._tick()
        cur = self.current[counter]
        if cur is None:
            try:
                self.q.finish(counter)
            except QueueError:
                return
            raise AssertionError("finish with nothing called must be refused")
        cur.status = "served"
        self.current[counter] = None
        assert self.q.finish(counter).code == cur.code

    @invariant()
    def store_agrees_with_model(self) -> None:
        s = self.q.status()
        for c in s["counters"]:
            m = self.current[c["id"]]
            assert c["current"] == (m.code if m else None)
        for sv in s["services"]:
            assert sv["waiting"] == sum(
                1 for t in self.tickets if t.service == sv["id"] and t.status == "waiting"
            )
        with self.store.read() as tx:
            rows = {t.id: t for t in tx.tickets_of_day(s["day"])}
        assert {i: r.status for i, r in rows.items()} == {t.id: t.status for t in self.tickets}
        assert len({r.code for r in rows.values()}) == len(rows)


TestQueueAgainstModel = QueueMachine.TestCase
TestQueueAgainstModel.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
