"""``sampan worker`` without the pipeline: journeys and the sender, from SAMPAN_* variables."""

from __future__ import annotations

from sampan.runtime import Runtime
from sampan.settings import Settings
from sampan.worker import JourneyRunner, MessageSender


def main() -> None:
    runtime = Runtime.from_settings(Settings())
    sender = MessageSender(runtime)
    runner = JourneyRunner(runtime, on_progress=sender.notify)
    sender.start()
    print("running", flush=True)  # noqa: T201 - the test waits for this line
    runner.run_forever()


if __name__ == "__main__":
    main()
