"""mkdocs hook: show the Sphinx cross-reference roles of the docstrings as plain code.

Docstrings written for Sphinx refer to objects as ``:func:`~sleepjax.run_batch```; mkdocstrings renders
Markdown, where the role's prefix would be printed literally (":func:run_batch"). This hook drops the
prefix and, for the ``~`` form, keeps only the last component, as Sphinx would show it.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|obj|exc|const):<code>(~?)([^<]*)</code>")


def _shown(match: re.Match) -> str:
    tilde, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub(_shown, html)
