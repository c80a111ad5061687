"""Exceptions of the harness.

Every failure that a user can cause (a wrong option, an unreachable target, an
unreadable file) is raised as a HarnessError whose message is one plain
sentence; the command line prints it and exits with status 2.
"""


class HarnessError(Exception):
    """A failure the user can fix; its message is shown as it is."""


class UsageError(HarnessError):
    """An option or argument that is invalid or missing."""


class InputFileError(HarnessError):
    """A file or folder that cannot be read."""


class TargetUnreachable(HarnessError):
    """A target that refuses the connection, times out or fails TLS."""

    def __init__(self, message, *, method=None, url=None):
        super().__init__(message)
        self.method = method
        self.url = url
