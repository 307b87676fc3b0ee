"""The ``townsquare`` command: demo, serve, build and publish."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from . import config
from .errors import TownsquareError
from .publish.publisher import Publisher, PublishReport, commit_data
from .storage import open_store

logger = logging.getLogger(__name__)


class Context:
    """Settings shared by every command, after command-line overrides."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self.settings = config.load(overrides)

    def publisher(
        self, production: bool = False, public_dir: Path | None = None
    ) -> Publisher:
        store = open_store(
            Path(self.settings["DATA_DIR"]),
            segment_size=self.settings["SEGMENT_SIZE"],
            cache_segments=self.settings["CACHE_SEGMENTS"],
        )
        configured = self.settings["PUBLIC_DIR"]
        return Publisher(
            store=store,
            site_dir=Path(self.settings["SITE_DIR"]),
            output_dir=Path(self.settings["OUTPUT_DIR"]),
            production=production,
            public_dir=Path(configured) if configured else public_dir,
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
        commit_data(publisher.data_dir)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
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

    # The demo's invented comments stay out of the site's committed data.
    publisher = obj.publisher(public_dir=Path(obj.settings["DATA_DIR"]) / "public")
    if seed:
        seed_demo(publisher.store, publisher.site_dir / "demo" / "comments.json")
    _summarise("Published", publisher.publish())
    app = create_app(obj.overrides)
    add_static_site(app, publisher.output_dir)
    republisher = Republisher(publisher, delay=obj.settings["REPUBLISH_DELAY"])
    republisher.start()
    click.echo(f"Open http://{host}:{port}/ in your browser. Press Ctrl+C to stop.")
    try:
        _serve(app, host, port, 8, obj.settings["MAX_REQUEST_BYTES"])
    finally:
        republisher.stop()


def _serve(app: Any, host: str, port: int, threads: int, max_body: int) -> None:
    from waitress import serve as waitress_serve

    logger.info("Serving on http://%s:%d with %d threads", host, port, threads)
    waitress_serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="Townsquare",
        # Refuse oversized bodies before waitress buffers them to disk.
        max_request_body_size=max_body,
    )


def _summarise(verb: str, report: PublishReport) -> None:
    kind = "full build" if report.full_build else f"{len(report.files_written)} file(s)"
    click.echo(
        f"{verb}: {len(report.exported)} page(s) with new comments, {kind}, "
        f"in {report.seconds:.2f} s."
    )
    for problem in report.problems:
        click.echo(f"  problem: {problem}", err=True)


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
    except KeyboardInterrupt:
        sys.exit(130)
    logger.debug("Done in %.2f s", time.perf_counter() - started)
