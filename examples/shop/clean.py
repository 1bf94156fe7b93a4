"""Nothing to report here: this file never leaves the machine."""

import asyncio


async def wait_for_stock(seconds: float) -> None:
    await asyncio.sleep(seconds)
