"""POST a JSON body to a webhook with the standard library only: short timeouts, a bounded number of
attempts with exponential backoff, and never an exception to the caller (a webhook that is down must
not fail the pipeline)."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("zengshou.alerts")

# DingTalk 130101 / WeCom 45009: "sending too fast" — worth another attempt; other errcodes are not.
RETRYABLE_ERRCODES = {130101, 45009}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3          # total attempts, at least 1
    delay: float = 1.0         # seconds before the 2nd attempt; doubled each time
    timeout: float = 5.0       # seconds per attempt (connect + read)
    # From the settings ZENGSHOU_ALERT_ATTEMPTS / _RETRY_DELAY / _TIMEOUT (checked in settings.py):
    # resources.AlertsResource or dispatch.AlertConfig.of(settings).


@dataclass
class Delivery:
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None


def _verdict(status: int, body: bytes) -> tuple[bool, bool, str | None]:
    """(delivered, retry, error) for an HTTP answer. DingTalk and WeCom answer 200 with an errcode."""
    text = body.decode("utf-8", errors="replace")[:300]
    if 200 <= status < 300:
        try:
            parsed = json.loads(text) if text.strip().startswith("{") else None
        except ValueError:
            parsed = None
        code = parsed.get("errcode") if isinstance(parsed, dict) else None
        if code not in (None, 0):
            return False, code in RETRYABLE_ERRCODES, f"errcode {code}: {parsed.get('errmsg')}"
        return True, False, None
    return False, status >= 500 or status == 429, f"HTTP {status}: {text}"


def post_json(url: str, payload: Any, policy: RetryPolicy | None = None) -> Delivery:
    policy = policy or RetryPolicy()
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    error: str | None = None
    status: int | None = None
    for attempt in range(1, policy.attempts + 1):
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        retry = True
        try:
            with urllib.request.urlopen(request, timeout=policy.timeout) as response:
                status = response.status
                ok, retry, error = _verdict(status, response.read())
        except urllib.error.HTTPError as exc:
            status = exc.code
            ok, retry, error = _verdict(exc.code, exc.read() if exc.fp else b"")
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            ok, error = False, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            retry = not isinstance(exc, ValueError)  # a malformed URL will not get better
        if ok:
            return Delivery(True, attempt, status)
        if not retry or attempt == policy.attempts:
            log.warning("alert webhook failed after %d attempt(s): %s", attempt, error)
            return Delivery(False, attempt, status, error)
        wait = policy.delay * 2 ** (attempt - 1)
        log.info("alert webhook attempt %d failed (%s); retrying in %.1f s", attempt, error, wait)
        time.sleep(wait)
    return Delivery(False, policy.attempts, status, error)
