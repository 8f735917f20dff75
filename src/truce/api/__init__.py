"""The HTTP API: `create_app(settings)` builds a FastAPI app; nothing is global."""

from truce.api.app import create_app
from truce.api.settings import Settings

__all__ = ["Settings", "create_app"]
