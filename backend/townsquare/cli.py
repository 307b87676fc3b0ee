"""The ``townsquare`` command: demo, serve, build and publish."""

from __future__ import annotations

import errno
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from . import config
from .errors import ConfigError, TownsquareError
from .publish.publisher import Publisher, PublishReport, commit_data
from .storage import Store, open_configured_store
from .storage.comments import PENDING, STATUSES

logger = logging.getLogger(__name__)

DEMO_DIR = Path("demo-data")
DEFAULT_THREADS = 4


class Context:
    """Settings shared by every command, after command-line overrides."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self.settings = config.load(overrides)

    def store(self) -> Store:
        return open_configured_store(self.settings)

    def publisher(self, production: bool = False) -> Publisher:
        site_dir = Path(self.settings["SITE_DIR"])
        if not (site_dir / "pelicanconf.py").exists():
            raise ConfigError(
                f"No Townsquare site in {site_dir.resolve()} (pelicanconf.py is "
                "missing). Run this in the project folder, or pass --site."
            )
        public_dir = self.settings["PUBLIC_DIR"]
        return Publisher(
            store=self.store(),
            site_dir=site_dir,
            output_dir=Path(self.settings["OUTPUT_DIR"]),
            production=production,
            public_dir=Path(public_dir) if public_dir else None,
        )


@click.group()
@click.option(
    "--site", "site_dir", type=click.Path(file_okay=False), help="Site folder."
)
@click.option(
    "--data", "data_dir", type=click.Path(file_okay=False), help="Store folder."
)
@click.option(
    "--output", "output_dir", type=click.Path(file_okay=False), help="Build folder."
)
@click.option("-v", "--verbose", is_flag=True, help="Show debug messages.")
@click.pass_context
def cli(
    ctx: click.Context,
    site_dir: str | None,
    data_dir: str | None,
    output_dir: str | None,
    verbose: bool,
) -> None:
    """Townsquare: a static-first insight community."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(message)s",
        datefmt="%H:%M:%S",
    )
    # Pelican announces every file it writes; keep its warnings only.
    logging.getLogger("pelican").setLevel(logging.DEBUG if verbose else logging.WARNING)
    overrides = {
        key: value
        for key, value in (
            ("SITE_DIR", site_dir),
            ("DATA_DIR", data_dir),
            ("OUTPUT_DIR", output_dir),
        )
        if value is not None
    }
    ctx.obj = Context(overrides)


@cli.command()
@click.option("--production", is_flag=True, help="Use publishconf.py.")
@click.pass_obj
def build(obj: Context, production: bool) -> None:
    """Build the static site from the data already exported."""
    report = obj.publisher(production).build()
    _summarise("Built", report)
    _exit_on_problems(report)


@cli.command()
@click.option("--full", is_flag=True, help="Rebuild every page, not only changed ones.")
@click.option(
    "--commit", is_flag=True, help="Commit the exported public data with Git."
)
@click.option("--production", is_flag=True, help="Use publishconf.py.")
@click.pass_obj
def publish(obj: Context, full: bool, commit: bool, production: bool) -> None:
    """Export published contributions and update the static site."""
    publisher = obj.publisher(production)
    report = publisher.publish(full=full)
    _summarise("Published", report)
    if commit:
        commit_data(publisher.export_dir)
    _exit_on_problems(report)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
# Threads share one interpreter lock: past a few, they mostly wait for it.
# Four serve a small two-core server best (see benchmarks/).
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=int)
@click.pass_obj
def serve(obj: Context, host: str, port: int, threads: int) -> None:
    """Run the backend alone on the waitress WSGI server."""
    from .app import create_app

    app = create_app(obj.overrides)
    _serve(app, host, port, threads, obj.settings["MAX_REQUEST_BYTES"])


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--seed/--no-seed", default=True, help="Add the demo comments to an empty store."
)
@click.pass_obj
def demo(obj: Context, host: str, port: int, seed: bool) -> None:
    """Serve the site and the backend together, re-publishing as comments arrive."""
    from .app import create_app
    from .demo import add_static_site
    from .publish.republisher import Republisher
    from .seed import seed_demo

    # The demo lives in its own folder, so its invented comments never mix
    # with a real community's store, build or committed public data.
    overrides = {
        "DATA_DIR": str(DEMO_DIR / "store"),
        "OUTPUT_DIR": str(DEMO_DIR / "output"),
    }
    overrides.update(obj.overrides)
    overrides.setdefault("PUBLIC_DIR", str(Path(overrides["DATA_DIR"]) / "public"))
    obj = Context(overrides)
    publisher = obj.publisher()
    if seed:
        seed_demo(publisher.store, publisher.site_dir / "demo" / "comments.json")
    _summarise("Published", publisher.publish())
    app = create_app(obj.overrides)
    add_static_site(app, publisher.output_dir)
    republisher = Republisher(publisher, delay=obj.settings["REPUBLISH_DELAY"])
    republisher.start()
    click.echo(f"Open http://{host}:{port}/ in your browser. Press Ctrl+C to stop.")
    try:
        _serve(app, host, port, DEFAULT_THREADS, obj.settings["MAX_REQUEST_BYTES"])
    finally:
        republisher.stop()


@cli.group()
def comments() -> None:
    """List comments and change their status (publish, hide, hold)."""


@comments.command("list")
@click.option("--page", help="Only this page (its slug).")
@click.option(
    "--status",
    type=click.Choice([*STATUSES, "all"]),
    default=PENDING,
    show_default=True,
)
@click.pass_obj
def list_comments(obj: Context, page: str | None, status: str) -> None:
    """Show comments waiting for a decision (or of any status)."""
    store = obj.store()
    statuses = STATUSES if status == "all" else (status,)
    shown = 0
    for slug in [page] if page else store.comments.pages():
        for comment in store.comments.for_page(slug, statuses=statuses):
            preview = " ".join(comment.body.split())[:60]
            click.echo(
                f"{slug}  #{comment.id}  {comment.status:<9}  {comment.created}  "
                f"{comment.author}: {preview}"
            )
            shown += 1
    click.echo(f"{shown} comment(s).")


@comments.command("set")
@click.argument("page")
@click.argument("comment_id", type=int)
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--publish/--no-publish", default=True, help="Update the site now.")
@click.pass_obj
def set_status(
    obj: Context, page: str, comment_id: int, status: str, publish: bool
) -> None:
    """Set a comment's status: published, pending or hidden."""
    comment = obj.store().comments.set_status(page, comment_id, status)
    click.echo(f"Comment #{comment.id} on {page} by {comment.author} is now {status}.")
    if publish:
        _summarise("Published", obj.publisher().publish())


def _serve(app: Any, host: str, port: int, threads: int, max_body: int) -> None:
    from waitress import serve as waitress_serve

    logger.info("Serving on http://%s:%d with %d threads", host, port, threads)
    waitress_serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="Townsquare",
        # Bodies a little over the limit reach the app, which answers 413 in
        # the usual error shape; far larger ones waitress refuses unread.
        max_request_body_size=4 * max_body,
        # Live comment lists run to tens of KB: send them in one go.
        send_bytes=65536,
    )


def _summarise(verb: str, report: PublishReport) -> None:
    kind = "full build" if report.full_build else f"{len(report.files_written)} file(s)"
    click.echo(
        f"{verb}: exported {len(report.exported)} page(s) of comments, {kind}, "
        f"in {report.seconds:.2f} s."
    )
    for problem in report.problems:
        click.echo(f"  problem: {problem}", err=True)


def _exit_on_problems(report: PublishReport) -> None:
    """Fail the command (after building the rest) if a source had problems."""
    if report.problems:
        click.echo(
            f"{len(report.problems)} problem(s) in the site's sources; "
            "fix them and build again.",
            err=True,
        )
        sys.exit(1)


def _about(error: OSError) -> str:
    if error.filename:
        return f": {error.filename}"
    if error.errno == errno.EADDRINUSE:
        return "; another program uses that port: choose one with --port"
    return ""


def main() -> None:
    started = time.perf_counter()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except TownsquareError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    except subprocess.CalledProcessError as exc:
        command = " ".join(exc.cmd)
        click.echo(f"Error: `{command}` failed; see Git's message above.", err=True)
        sys.exit(1)
    except OSError as exc:
        # Most often a port already in use or a folder without permission.
        click.echo(f"Error: {exc.strerror or exc}{_about(exc)}.", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    logger.debug("Done in %.2f s", time.perf_counter() - started)
