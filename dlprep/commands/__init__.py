"""Subcommands, each imported only when it runs."""
