"""Shared test configuration. The emulator fixtures (`kimi_emulator`, `kimi_emulator_factory`)
come from the package's pytest plugin, registered as the `kimi_emulator` pytest11 entry point."""
