"""The chaos suite (issue 12): the emulator with injected faults and limits, one or two gateway
processes in front of it (with Redis for two), concurrent load, and what came out. 127.0.0.1
only, bounded in requests and time. ``kimi-gateway chaos`` runs it in full; tests/e2e/
test_chaos.py runs a reduced form and asserts its properties."""
