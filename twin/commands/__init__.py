"""Subcommands of `twin`, one module each; every module here registers itself on `twin.cli.app`."""
