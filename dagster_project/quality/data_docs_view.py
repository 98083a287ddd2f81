"""GE's Data Docs page view with its Jinja templates compiled once per process.

Why: GE builds a new ``DefaultJinjaPageView`` — and with it a new Jinja ``Environment`` — for every
Data Docs build, i.e. for every validation, and a fresh environment compiles each of the ≈ 18 templates
of a validation page again. In a known-answer `zengshou run` (35 validations) that was 628 template
compilations, 4.8 s of a 57 s run (cProfile, 2026-12-02); a province month pays the same per page.
The view here is GE's own, with an in-process bytecode cache on its environment: a template is compiled
the first time a process renders it, and later pages reuse the code. The cache is keyed by template name
and a checksum of its source (Jinja's ``Bucket``), so a changed template is compiled afresh; the pages
are byte-for-byte what GE's view renders (tests/serving/test_data_docs.py).

It is configured as the validations section's view of the site (``data_docs._context``), GE's documented
extension point for custom views; nothing of GE is patched.
"""

from __future__ import annotations

import threading
from typing import Any

from great_expectations.render.view import DefaultJinjaPageView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class _InProcessBytecodeCache(BytecodeCache):
    """Compiled template code by (template key, source checksum), for the life of the process."""

    def __init__(self) -> None:
        self._code: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            self._code[(bucket.key, bucket.checksum)] = bucket.code

    def clear(self) -> None:
        with self._lock:
            self._code.clear()

    def __len__(self) -> int:
        return len(self._code)


TEMPLATE_CODE = _InProcessBytecodeCache()


class CachedJinjaPageView(DefaultJinjaPageView):
    """``DefaultJinjaPageView`` whose environment shares the process's compiled templates."""

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory=custom_styles_directory,
                         custom_views_directory=custom_views_directory)
        self.env.bytecode_cache = TEMPLATE_CODE
