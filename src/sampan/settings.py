"""Runtime settings, read from the environment with the ``SAMPAN_`` prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings of one Sampan workspace."""

    model_config = SettingsConfigDict(env_prefix="SAMPAN_", extra="ignore")

    data_dir: Path = Path("./sampan-data")
    database_url: str | None = None
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL"] = "FULL"
    default_phone_region: str = "TH"
    default_currency: str = "THB"
    timezone: str = "Asia/Bangkok"
    identity_limits: dict[str, int] = Field(default_factory=dict)
    identity_priority: list[str] = Field(default_factory=list)
    identity_custom_types: list[str] = Field(default_factory=list)
    identity_blocked_values: list[str] = Field(default_factory=list)
    # Small batches hold the SQLite write lock briefly, so ingestion is never kept waiting long.
    pipeline_batch_size: int = Field(default=200, ge=1, le=10_000)
    api_threads: int = Field(default=4, ge=1, le=200)
    # Browser SDKs post from the shop's own origin; list origins to restrict them.
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sampan.db').resolve()}"
