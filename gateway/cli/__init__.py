"""The ``gateway`` command: ``gateway.cli.main`` is the root group and its entry point, each
command group is a module of its own, and ``gateway.cli.common`` holds what they share.

Nothing is imported here, so that importing one command group does not build the whole command.
"""
