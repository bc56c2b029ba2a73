"""The loopback Claude fake as its own process for bench/accounts_poll.py: N cookies, injected latency."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.claude_api import FakeClaude, legacy_usage


def main() -> None:
    accounts, latency = int(sys.argv[1]), float(sys.argv[2])
    fake = FakeClaude(latency=latency).start()
    for i in range(accounts):
        fake.add_cookie(f"sk-ant-sid02-bench-{i:05d}", lambda: legacy_usage(40.0, 60.0))
    print(fake.url, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
