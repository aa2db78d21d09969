"""Identifier patterns both sides check: user ids and document ids (the browser app reads
them from the generated facts)."""

from __future__ import annotations

import re
from typing import Final

USER_ID: Final = re.compile(r"^[A-Za-z0-9_.@:-]{1,64}$")
DOC_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
