"""The one exception type for user mistakes: scripts print its message in one line and exit 1."""

import click


class UserError(click.ClickException):
    """A mistake in the input or the environment that the user can fix; nothing was changed."""

    def show(self, file=None) -> None:
        click.secho(f"error: {self.format_message()}", err=True, fg="red", file=file)
