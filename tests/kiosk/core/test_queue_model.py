"""A hypothesis state machine drives the queue and a simple model side by side."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kiosk.core.config import Config, load, parse
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
    held_by: int | None = None
    held_at: float = 0.0


class QueueMachine(RuleBasedStateMachine):
    cfg: Config = CFG
    ratio = 0  # [queue] priority_ratio of cfg

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.store = Store(Path(self.dir.name) / "q.db")
        self.clock = Clock(0)
        self.clock.set_local(CFG, "2026-11-30T08:00:00")
        self.q = Queue(self.cfg, self.store, self.clock)
        self.tickets: list[M] = []
        self.numbers: dict[str, int] = {}
        self.current: dict[int, M | None] = dict.fromkeys(COUNTERS)
        self.run: dict[int, int] = dict.fromkeys(COUNTERS, 0)

    def teardown(self) -> None:
        self.store.close()
        self.dir.cleanup()

    def _tick(self) -> float:
        self.clock.advance(1)
        return self.clock()

    def _model_call(self, counter: int, chosen: M | None = None) -> M | None:
        services = CFG.counter(counter).services
        waiting = [t for t in self.tickets if t.status == "waiting" and t.service in services]
        t = chosen
        if t is None and self.ratio and self.run[counter] >= self.ratio:
            ordinary = [w for w in waiting if not w.priority]
            if ordinary:
                t = min(ordinary, key=lambda t: (t.key, t.id))
        if t is None and waiting:
            t = min(waiting, key=lambda t: (not t.priority, t.key, t.id))
        if t is None:
            self.current[counter] = None
            return None
        if self.ratio:
            self.run[counter] = self.run[counter] + 1 if t.priority else 0
        t.status = "called"
        t.held_by = None
        self.current[counter] = t
        return t

    def _front(self, t: M) -> None:
        keys = [w.key for w in self.tickets if w.status == "waiting" and w.service == t.service]
        t.key = min(t.issued, min(keys) - 1) if keys else t.issued

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

    @rule(counter=st.sampled_from(COUNTERS), pick=st.integers(0, 1000))
    def call_chosen(self, counter: int, pick: int) -> None:
        self._tick()
        if not self.tickets:
            return
        t = self.tickets[pick % len(self.tickets)]
        if t.status != "waiting":
            try:
                self.q.call(counter, t.code)
            except QueueError:
                return
            raise AssertionError("calling a ticket that is not waiting must be refused")
        cur = self.current[counter]
        if cur is not None:
            cur.status = "served"
        self._model_call(counter, chosen=t)
        assert self.q.call(counter, t.code).code == t.code

    @rule(counter=st.sampled_from(COUNTERS))
    def hold(self, counter: int) -> None:
        now = self._tick()
        cur = self.current[counter]
        if cur is None:
            try:
                self.q.hold(counter)
            except QueueError:
                return
            raise AssertionError("hold with nothing called must be refused")
        cur.status, cur.held_by, cur.held_at = "held", counter, now
        self.current[counter] = None
        assert self.q.hold(counter).code == cur.code

    @rule(counter=st.sampled_from(COUNTERS))
    def return_held(self, counter: int) -> None:
        self._tick()
        held = [t for t in self.tickets if t.status == "held" and t.held_by == counter]
        if not held:
            try:
                self.q.return_held(counter)
            except QueueError:
                return
            raise AssertionError("return with nothing held must be refused")
        t = max(held, key=lambda t: (t.held_at, t.id))
        self._front(t)
        t.status, t.held_by = "waiting", None
        assert self.q.return_held(counter).code == t.code

    @rule(counter=st.sampled_from(COUNTERS), pick=st.integers(0, 1000))
    def restore(self, counter: int, pick: int) -> None:
        self._tick()
        if not self.tickets:
            return
        t = self.tickets[pick % len(self.tickets)]
        if t.status != "no_show":
            try:
                self.q.restore(counter, t.code)
            except QueueError:
                return
            raise AssertionError("restoring a ticket that was not skipped must be refused")
        self._front(t)
        t.status = "waiting"
        assert self.q.restore(counter, t.code).code == t.code

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


class RatioQueueMachine(QueueMachine):
    """The same machine on a site with ``[queue] priority_ratio = 2``."""

    cfg = parse(
        EXAMPLE.read_text(encoding="utf-8").replace("priority_ratio = 0", "priority_ratio = 2"),
        "ratio.toml",
    )
    ratio = 2


SETTINGS = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestQueueAgainstModel = QueueMachine.TestCase
TestQueueAgainstModel.settings = SETTINGS
TestQueueWithPriorityRatioAgainstModel = RatioQueueMachine.TestCase
TestQueueWithPriorityRatioAgainstModel.settings = settings(SETTINGS, max_examples=40)
