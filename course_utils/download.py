"""Bounded downloads: a byte cap, a per-read timeout and a deadline for the whole transfer.

A server that sends too much, drips one byte at a time or goes silent gives a clear
``DownloadError`` instead of filling memory or hanging the notebook. Used by ``images.load_image``
(URLs) and ``models.load_model`` (torchvision weights).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import BinaryIO
from urllib.error import HTTPError
from urllib.request import Request, urlopen

#: Seconds one read may wait for the next bytes before the server counts as silent.
READ_TIMEOUT_S = 20.0
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A download was refused or failed: too large, too slow, truncated, or an HTTP/network error."""


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


def download(
    url: str,
    sink: BinaryIO,
    *,
    max_bytes: int,
    deadline_s: float,
    read_timeout_s: float | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Copy the body of http(s) ``url`` into ``sink``; return the number of bytes written.

    Refuses bodies over ``max_bytes`` (from Content-Length before reading, else while streaming),
    gives up when one read waits ``read_timeout_s`` or the whole transfer takes ``deadline_s``,
    and reports a body shorter than its Content-Length. ``progress(done, total)`` is called per chunk.
    """
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"only http(s) URLs can be downloaded, not {url!r}")
    read_timeout_s = READ_TIMEOUT_S if read_timeout_s is None else read_timeout_s
    stop = threading.Event()  # set when the caller gives up; the worker stops at its next chunk
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["bytes"] = _stream(url, sink, max_bytes, read_timeout_s, stop, progress)
        except BaseException as exc:  # handed to the caller's thread, re-raised there
            outcome["error"] = exc

    # The transfer runs in a worker thread so the deadline holds even while a read (or the
    # status line and headers) trickles in byte by byte: each read alone never times out then.
    worker = threading.Thread(target=work, name="course-download", daemon=True)
    worker.start()
    try:
        worker.join(deadline_s)
    finally:
        stop.set()  # also on Ctrl-C: the worker must not keep writing into sink
    if worker.is_alive():
        worker.join(0.5)  # let a chunk in flight finish, so the caller can close sink safely
        raise DownloadError(f"gave up on {url}: the download did not finish within {deadline_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["bytes"]


def _stream(url, sink, max_bytes, read_timeout_s, stop, progress) -> int:
    too_large = f"{url} is larger than the {_mb(max_bytes)} this download allows"
    try:
        with urlopen(Request(url, headers={"User-Agent": "course-utils"}), timeout=read_timeout_s) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > max_bytes:
                raise DownloadError(f"{too_large} (the server announces {_mb(total)})")
            done = 0
            while not stop.is_set():
                chunk = response.read1(_CHUNK)  # returns what one read got: a drip cannot stall it
                if not chunk:
                    break
                done += len(chunk)
                if done > max_bytes:
                    raise DownloadError(f"{too_large} (stopped after {_mb(done)})")
                sink.write(chunk)
                if progress is not None:
                    progress(done, total)
    except HTTPError as exc:
        raise DownloadError(f"{url} answered HTTP {exc.code} ({exc.reason})") from exc
    except TimeoutError as exc:
        raise DownloadError(f"{url} sent nothing for {read_timeout_s:g} s (a stalled server or network)") from exc
    except DownloadError:
        raise
    except OSError as exc:  # URLError, refused connections, resets
        raise DownloadError(f"could not download {url} ({exc.__class__.__name__}: {exc})") from exc
    if total is not None and done < total and not stop.is_set():
        raise DownloadError(f"{url} is truncated: the connection closed after {done} of {total} bytes")
    return done
