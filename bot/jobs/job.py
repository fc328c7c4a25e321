"""What the scheduler runs: a job's due work and when it is next due."""

from __future__ import annotations

from typing import NamedTuple

from bot.scheduling.service import DueWork, NextDue


class Job(NamedTuple):
    """One kind of scheduled work, as `Scheduler.register` takes it: `due_work(now)` runs
    what is due and says how much it did; `next_due()` says when to wake up for it next."""

    due_work: DueWork
    next_due: NextDue
