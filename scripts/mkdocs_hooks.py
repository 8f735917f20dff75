"""MkDocs hooks for the guide (mkdocs.yml `hooks:`).

Without a `site_url` (which would put an outside host in every page) MkDocs
writes the 404 page with root-relative links (`/assets/...`); the guide is
served under `/guide`, so they are rewritten to point there.
"""

from __future__ import annotations

import re
from typing import Any

GUIDE_URL = "/guide/"


def on_post_template(output_content: str, template_name: str, config: Any) -> str:
    if template_name != "404.html":
        return output_content
    return re.sub(r'\b(href|src)="/(?!/)', rf'\1="{GUIDE_URL}', output_content)
