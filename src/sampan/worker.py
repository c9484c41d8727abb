"""The background worker: advances the event pipeline into profiles, in or out of process."""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable

import structlog

from sampan.access.schemas import SYSTEM
from sampan.commerce import service as commerce
from sampan.consent import service as consent
from sampan.consent.schemas import RetentionRunOut
from sampan.journeys import service as journeys
from sampan.messaging.service import Dispatcher
from sampan.runtime import Runtime
from sampan.segments import service as segments
from sampan.segments.schemas import EvaluationReport

log = structlog.get_logger("sampan.worker")


class _WokenLoop:
    """A background thread that works while there is work and sleeps until woken."""

    name = "sampan-loop"

    def __init__(
        self,
        runtime: Runtime,
        *,
        idle_wait_seconds: float,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self._runtime = runtime
        self._idle_wait = idle_wait_seconds
        # Called after a round that did something: another loop may have work now.
        self._on_progress = on_progress
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        """Wake the loop: there is new work."""
        self._wake.set()

    def start(self) -> None:
        """Run the loop in a background thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to stop and wait for the round in progress."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def run_forever(self) -> None:
        """Loop until stopped: work while there is work, sleep until woken otherwise."""
        while not self._stop.is_set():
            # Clear before working, so work notified during a round wakes the next wait.
            self._wake.clear()
            try:
                count = self.run_once()
            except Exception:  # noqa: BLE001 - the round rolled back; retry after a pause
                log.exception("background round failed; retrying", loop=self.name)
                time.sleep(1.0)
                continue
            if count == 0:
                self._wake.wait(self.idle_wait())

    def run_once(self) -> int:
        """Do one round; return how much it did (0: nothing to do)."""
        raise NotImplementedError

    def drain(self) -> int:
        """Do rounds until one finds nothing to do; return how much they did."""
        total = 0
        while (count := self.run_once()) > 0:
            total += count
        return total

    def idle_wait(self) -> float:
        """Return how long to sleep when there is nothing to do."""
        raise NotImplementedError


class ProfilePipeline(_WokenLoop):
    """Consume the event log into identities and profiles, waking as soon as events land."""

    name = "sampan-worker"

    def __init__(
        self,
        runtime: Runtime,
        *,
        idle_wait_seconds: float = 0.25,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(runtime, idle_wait_seconds=idle_wait_seconds, on_progress=on_progress)
        self._lags: deque[int] = deque(maxlen=50_000)
        self.processed = 0

    def run_once(self) -> int:
        """Process one batch in its own transaction; return how many events it held."""
        with self._runtime.derived_db.transaction() as session:
            progress = self._runtime.advance_pipeline(session)
        with self._runtime.derived_db.transaction() as session:
            reacted = self._runtime.react_to_changes(session)
        self._lags.extend(progress.lags_ms)
        self.processed += progress.processed
        if self._on_progress is not None and progress.processed + reacted:
            # Runs may have started or woken, and segments may have changed.
            self._on_progress()
        return progress.processed + reacted

    def lag_percentiles(self) -> dict[str, float | None]:
        """Return p50 and p99 of accept-to-profile delay over recent events, in ms."""
        lags = list(self._lags)
        if len(lags) < 2:
            value = float(lags[0]) if lags else None
            return {"p50": value, "p99": value, "samples": float(len(lags))}
        cuts = statistics.quantiles(lags, n=100, method="inclusive")
        return {"p50": cuts[49], "p99": cuts[98], "samples": float(len(lags))}

    def reset_lags(self) -> None:
        """Forget the recorded delays (a benchmark does this before it measures)."""
        self._lags.clear()

    def idle_wait(self) -> float:
        """Sleep this long when the log is consumed, unless events land sooner."""
        return self._idle_wait


class _Periodic:
    """Run ``tick`` in a background thread every ``period`` seconds until stopped."""

    name = "sampan-periodic"

    def __init__(self, period: float) -> None:
        self._period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        """Do one round of the work; an exception is logged and the next round tries again."""
        raise NotImplementedError

    def start(self) -> None:
        """Start ticking in a background thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for a round in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._period):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - rolled back; the next round tries again
                log.exception("periodic job failed", job=self.name)


class SegmentSchedule(_Periodic):
    """Re-evaluate time-based segments and sample every segment's size, every interval."""

    name = "sampan-segments"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime.settings.segment_interval_minutes * 60)
        self._runtime = runtime

    def run_once(self) -> EvaluationReport:
        """Evaluate now."""
        with self._runtime.derived_db.transaction() as session:
            return segments.evaluate_scheduled(session, context=self._runtime.segment_context())

    def tick(self) -> None:
        """Evaluate, as the schedule does."""
        self.run_once()


class HoldExpiry(_Periodic):
    """Put the units of lapsed cart holds back on sale, every minute.

    Holds are also released the moment their units are needed, so this only keeps the
    figures staff see up to date.
    """

    name = "sampan-holds"

    def __init__(self, runtime: Runtime, *, period: float = 60.0) -> None:
        super().__init__(period)
        self._runtime = runtime

    def run_once(self) -> int:
        """Release lapsed holds now; return the units freed."""
        with self._runtime.db.transaction() as session:
            return commerce.expire_holds(session, self._runtime.commerce_env())

    def tick(self) -> None:
        """Release lapsed holds, as the schedule does."""
        self.run_once()


class RetentionSchedule(_Periodic):
    """Enforce the retention rules when the last run is older than the configured interval.

    Every process may run one: the interval is judged from the runs recorded in the database,
    and a run that happens twice removes nothing the second time.
    """

    name = "sampan-retention"

    def __init__(self, runtime: Runtime, *, check_seconds: float = 60.0) -> None:
        super().__init__(check_seconds)
        self._runtime = runtime

    def run_if_due(self) -> RetentionRunOut | None:
        """Run retention now if the interval has passed since the last run; return the run."""
        runtime = self._runtime
        interval = runtime.settings.retention_interval_hours * 3600
        with runtime.db.transaction() as session:
            last = consent.last_run_started(session)
            if last is not None and time.time() - last < interval:
                return None
            run = consent.enforce_retention(
                session,
                registry=runtime.registry,
                days=runtime.settings.retention_days,
                actor=SYSTEM,
            )
        runtime.db.flush_log()
        return run

    def tick(self) -> None:
        """Check whether a run is due, and run it."""
        run = self.run_if_due()
        if run is not None:
            log.info("retention enforced", removed=run.removed)


class MessageSender(_WokenLoop):
    """Send what the outbox holds as it comes due, and launch scheduled campaigns."""

    name = "sampan-sender"

    def __init__(self, runtime: Runtime, *, idle_wait_seconds: float = 1.0) -> None:
        super().__init__(runtime, idle_wait_seconds=idle_wait_seconds)
        self._dispatcher: Dispatcher | None = None

    def drain(self) -> int:
        """Launch due campaigns and send everything due now; return how many were handled."""
        self._runtime.launch_due_campaigns()
        return self._sender().drain()

    def run_once(self) -> int:
        """Launch due campaigns and send what is due."""
        return self.drain()

    def idle_wait(self) -> float:
        """Sleep until the next queued message comes due, at most the idle wait."""
        due = self._sender().next_due()
        if due is None:
            return self._idle_wait
        until = (due - self._runtime.messaging_rules.clock()).total_seconds()
        return min(self._idle_wait, max(0.0, until))

    def stop(self) -> None:
        """Finish the batch in flight, stop, and close provider connections."""
        super().stop()
        if self._dispatcher is not None:
            self._dispatcher.close()
            self._dispatcher = None

    def _sender(self) -> Dispatcher:
        if self._dispatcher is None:
            self._dispatcher = self._runtime.dispatcher()
        return self._dispatcher


class JourneyRunner(_WokenLoop):
    """Advance journey runs as they come due, and start runs on segment changes."""

    name = "sampan-journeys"

    def __init__(self, runtime: Runtime, *, on_progress: Callable[[], None] | None = None) -> None:
        super().__init__(runtime, idle_wait_seconds=1.0, on_progress=on_progress)

    def run_once(self) -> int:
        """Advance one batch of due runs; tell the sender when messages may be queued."""
        count = self._runtime.advance_journeys()
        if count and self._on_progress is not None:
            self._on_progress()
        return count

    def idle_wait(self) -> float:
        """Sleep until the next run comes due, at most the idle wait."""
        with self._runtime.db.reading() as session:
            due = journeys.next_due(session)
        if due is None:
            return self._idle_wait
        until = (due - self._runtime.messaging_rules.clock()).total_seconds()
        return min(self._idle_wait, max(0.0, until))
