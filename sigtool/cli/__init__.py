"""Command-line wiring only: options, help, exit codes, and printing once.

One module per command (show, check, diff, run, warmup) maps its options onto one request of
sigtool.commands, makes one call and prints the result. SigtoolError becomes click's error here,
the one place that knows about click, so no layer below imports it.
"""

from __future__ import annotations

import sys

import click

from sigtool import __version__
from sigtool.errors import ExitCode, SigtoolError, UsageError

EXIT_CODES = "\n".join(
    [
        "\b",
        "Exit codes:",
        "  0  success (check: no errors; warnings allowed unless --strict)",
        "  1  check found errors, diff a breaking change (or warnings, with --strict); run refused unsafe ops",
        "  2  usage error: bad option, unknown tag-set, signature key or version, bad input",
        "  3  the model could not be read: missing, corrupt, unsupported format",
        "  4  run: TensorFlow is not installed",
        "  5  run: TensorFlow failed to load or execute the model",
    ]
)


def _print_version(ctx, _param, value) -> None:
    """--version, with the versions of the libraries it runs on (looked up only when asked)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    deps = ", ".join(f"{name} {version(name)}" for name in ("click", "rich", "protobuf"))
    click.echo(f"sigtool {__version__} ({deps})")
    ctx.exit()


class SigtoolGroup(click.Group):
    """Turns a SigtoolError raised by any command into click's error: one "Error: ..." line and its exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SigtoolError as e:
            failed = type("Failed", (click.ClickException,), {"exit_code": int(e.exit_code)})
            raise failed(e.message) from None


# "--help" first: click 8.1 (Python 3.9) names the first one in "Try ... for help."
@click.group(cls=SigtoolGroup, context_settings={"help_option_names": ["--help", "-h"]}, epilog=EXIT_CODES)
@click.option(
    "-V",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def cli():
    """Inspect TensorFlow SavedModels: signatures, Serving readiness, breaking changes, sample runs.

    Only run imports TensorFlow.
    """


# --- shared options -------------------------------------------------------------------


def jobs_option(fn):
    from sigtool.loader import DEFAULT_JOBS

    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(1, 256),
        default=DEFAULT_JOBS,
        show_default=True,
        help="With several or remote MODELs: models read at once.",
    )(fn)


def request_check_options(fn):
    """--method and --strict-shapes: how run and warmup read a REST body."""
    fn = click.option(
        "--strict-shapes",
        is_flag=True,
        help="Refuse inputs whose shape contradicts the signature (TF Serving does not check).",
    )(fn)
    return click.option(
        "--method",
        type=click.Choice(["predict", "classify", "regress"]),
        help="Serving API the body calls (default: from the body and the signature).",
    )(fn)


def selection_options(fn):
    fn = click.option("--version", "version_alias", metavar="N", hidden=True, help="Old spelling of --model-version.")(
        fn
    )
    fn = click.option(
        "--model-version",
        "model_version",
        metavar="N",
        help="Version directory to use under a model base path (default: the highest, as TF Serving does).",
    )(fn)
    fn = click.option("--signature", "--signature_def", "signature", metavar="KEY", help="Only this signature.")(fn)
    fn = click.option(
        "--tag-set",
        "--tag_set",
        "tag_set",
        metavar="TAGS",
        help="Only the MetaGraph with exactly these tags, comma-separated (e.g. serve,gpu).",
    )(fn)
    return fn


def chosen_version(model_version: str | None, version_alias: str | None) -> str | None:
    if model_version is not None and version_alias is not None:
        raise UsageError("give --model-version once (--version is its old spelling)")
    return model_version if model_version is not None else version_alias


# --- output ---------------------------------------------------------------------------


def emit(output) -> None:
    """The one place that writes data to stdout: a string, or a tables.Layout."""
    if not isinstance(output, str):
        from sigtool.render import tables

        if sys.stdout.isatty():
            from rich.console import Console  # colours, on a terminal only

            Console(highlight=False).print(tables.rich_renderable(output))
            return
        output = tables.plain_text(output)
    click.echo(output, nl=False)


def say(line: str) -> None:
    """Diagnostics go to stderr, never into the data on stdout."""
    click.echo(line, err=True)


def main() -> None:
    try:
        cli(prog_name="sigtool")
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error worth a traceback
        sys.exit(ExitCode.OK)


# The commands register themselves on `cli` when imported.
from sigtool.cli import check, diff, run, show, warmup  # noqa: E402, F401
