"""REST API and web UI of running jobs (optional extra `web`: aiohttp, imported only when the UI is on)."""
