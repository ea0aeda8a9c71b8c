"""Path parameters shared by the API and the console, declared once so both refuse the same
values the same way."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

RowId = Annotated[int, Path(ge=1, le=2**62, description="a row id")]
ModelName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,127}$")]
Version = Annotated[str, Path(pattern=r"^[0-9]{1,9}$")]
AlertId = Annotated[int, Path(ge=1, le=2**62)]
