"""login, publish: put a work on a wiki."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from transcribe.cli._app import WikiOpt, command
from transcribe.errors import UsageError


def _need_wiki(wiki: str | None) -> str:
    if not wiki:
        raise UsageError("Say which wiki: --wiki wikisource:fr (a family and language) or the address of its "
                         "api.php.")
    return wiki


@command("login")
def login_command(
    wiki: WikiOpt = None,
    user: Annotated[str | None, typer.Option(
        "--user", "-u", envvar="TRANSCRIBE_BOT_USER", show_envvar=True,
        help="The bot password's user name, 'YourName@botname' (made on the wiki at Special:BotPasswords).")]
    = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the bot password's secret from standard input instead of asking.")]
    = False,
    forget: Annotated[bool, typer.Option("--forget", help="Remove the stored login for this wiki.")] = False,
) -> None:
    """Check and store a bot password for a wiki, so that publish and progress can log in.

    Make the bot password on the wiki at Special:BotPasswords (grants: high-volume editing, edit existing
    pages, create pages, upload files). The secret is asked for without showing it (or read from standard
    input with --password-stdin, or from the TRANSCRIBE_BOT_PASSWORD environment variable); it is never
    accepted on the command line. It is kept in the transcribe configuration folder, readable only by you.
    """
    from transcribe.wiki import credentials
    from transcribe.wiki.site import Wiki, resolve

    wiki = _need_wiki(wiki)
    address = resolve(wiki)
    if forget:
        if credentials.forget(address.api_url):
            typer.echo(f"Forgot the login for {address.name}.")
        else:
            typer.echo(f"No login was stored for {address.name}; nothing to forget.")
        return
    if not user:
        if not sys.stdin.isatty():
            raise UsageError("Give the bot password's user name with --user YourName@botname.")
        user = typer.prompt("Bot password user name (YourName@botname)").strip()
    secret = os.environ.get("TRANSCRIBE_BOT_PASSWORD")
    if not secret:
        if password_stdin:
            secret = sys.stdin.readline()
        elif sys.stdin.isatty():
            secret = typer.prompt("Bot password secret (not shown)", hide_input=True)
        else:
            raise UsageError("No terminal to ask for the secret: use --password-stdin and pipe it in, or set "
                             "TRANSCRIBE_BOT_PASSWORD.")
    secret = secret.strip()
    if not secret:
        raise UsageError("The bot password's secret is empty.")
    site = Wiki(address, wiki_arg=wiki)
    account = site.login(user, secret)
    path = credentials.save_bot_password(address.api_url, user, secret)
    typer.echo(f"Logged in to {address.name} as {account}; saved to {path}.")
