"""REST API: commands that are not document edits (undo/redo, versions)."""

from starlette.routing import BaseRoute

from collab.api import history, versions


def routes() -> list[BaseRoute]:
    return [*history.routes, *versions.routes]
