"""One module per ``abstractvision`` subcommand; each exposes ``register(subparsers)``."""
