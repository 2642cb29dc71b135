"""Batching across concurrent requests, after text-embeddings-inference's router: requests enter a bounded queue;
one worker takes every queued text of one kind (query or document) up to a token budget and encodes them in one
call, so many clients sending one text each get close to one big batch's throughput.

There is no waiting window: an idle server encodes a request at once (a lone query pays no batching delay), and
while it encodes, new requests gather in the queue and go together in the next call. Past ``max_queue`` waiting
texts a request is refused with :class:`QueueFull` (the server answers 429 with ``Retry-After``), never queued
without bound. Model calls run one at a time on one thread: OpenVINO already uses every core for one call.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)


class QueueFull(Exception):
    """The queue holds ``max_queue`` texts already; the client should retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the queue is full; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Job:
    texts: list[str]
    tokens: int
    kind: str  # "query" or "document"
    future: asyncio.Future
    queued: float = field(default_factory=time.perf_counter)


class Batcher:
    """The queue and its worker (see the module docstring).

    Args:
        encode: ``encode(texts, kind) -> (n, dim) array``; called on the model thread.
        model_thread: The one-thread executor every model call of the server runs on.
        max_queue: Most texts waiting at once.
        max_batch_tokens: Most tokens one call takes (a single longer request still goes alone).
        on_batch: Called with (texts, tokens, seconds) after each call (metrics).
    """

    def __init__(self, encode: Callable[[list[str], str], np.ndarray], model_thread: concurrent.futures.Executor, *,
                 max_queue: int = 1024, max_batch_tokens: int = 16384,
                 on_batch: Callable[[int, int, float], None] | None = None) -> None:
        self.encode, self.model_thread = encode, model_thread
        self.max_queue, self.max_batch_tokens, self.on_batch = max_queue, max_batch_tokens, on_batch
        self._queue: collections.deque[_Job] = collections.deque()
        self._waiting = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._seconds_per_text = 0.01  # a running estimate, for Retry-After

    @property
    def depth(self) -> int:
        """Texts waiting (not yet taken by the worker)."""
        return self._waiting

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="medembed-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def submit(self, texts: list[str], tokens: int, kind: str) -> np.ndarray:
        """Queues ``texts`` and returns their vectors, in order, once encoded."""
        if self._waiting + len(texts) > self.max_queue:
            raise QueueFull(max(1, round(self._waiting * self._seconds_per_text)))
        job = _Job(texts, tokens, kind, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        self._waiting += len(texts)
        self._wake.set()
        return await job.future

    def _take(self) -> list[_Job]:
        """The next call's jobs: the head job, and queued jobs of its kind while under the token budget."""
        head = self._queue.popleft()
        jobs, tokens, keep = [head], head.tokens, collections.deque()
        while self._queue:
            job = self._queue.popleft()
            if job.kind == head.kind and tokens + job.tokens <= self.max_batch_tokens:
                jobs.append(job)
                tokens += job.tokens
            else:
                keep.append(job)
        self._queue.extendleft(reversed(keep))
        self._waiting -= sum(len(j.texts) for j in jobs)
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                jobs = self._take()
                texts = [t for j in jobs for t in j.texts]
                started = time.perf_counter()
                try:
                    vectors = await loop.run_in_executor(self.model_thread, self.encode, texts, jobs[0].kind)
                except Exception as exc:  # a bad batch fails its requests, never the worker
                    for job in jobs:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    continue
                seconds = time.perf_counter() - started
                self._seconds_per_text = 0.8 * self._seconds_per_text + 0.2 * seconds / len(texts)
                if self.on_batch is not None:
                    self.on_batch(len(texts), sum(j.tokens for j in jobs), seconds)
                start = 0
                for job in jobs:
                    if not job.future.done():  # a client that went away leaves a cancelled future
                        job.future.set_result(vectors[start : start + len(job.texts)])
                    start += len(job.texts)
