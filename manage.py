#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from trials.history import COMMAND, running

    # Whatever the command (Django's own, `shell`, a script run through it), its changes say
    # path "command" and its name; the project's commands name themselves the same way
    # (trials.history.AuditedCommand), also when run by call_command.
    with running(COMMAND, sys.argv[1] if len(sys.argv) > 1 else "help"):
        execute_from_command_line(sys.argv)
