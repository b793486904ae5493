"""The subcommands of ``lipanomaly``: one module each, ``run(args, console)``."""
