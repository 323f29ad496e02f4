"""``python -m kimi_gateway`` runs the command line."""

from kimi_gateway.cli.main import main

main()
