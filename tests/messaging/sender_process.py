"""A message sender in its own process, configured from SAMPAN_* variables (crash tests)."""

from __future__ import annotations

from sampan.runtime import Runtime
from sampan.settings import Settings


def main() -> None:
    runtime = Runtime.from_settings(Settings())
    dispatcher = runtime.dispatcher()
    print("sending", flush=True)  # noqa: T201 - the test waits for this line
    dispatcher.drain()
    dispatcher.close()
    runtime.dispose()


if __name__ == "__main__":
    main()
