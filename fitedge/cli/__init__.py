"""The ``fitedge`` command line: a thin click layer over the library.

Commands parse, call one library function and print. Heavy imports (torch, runtimes) happen inside
the commands so that ``fitedge --help`` is instant. Every :class:`FitedgeError` becomes a one-line
message and exit status 1, never a traceback; so does an optional package that is not installed (the
message names the pip extra, :mod:`fitedge.extras`). ``-v``/``-q`` work before or after any subcommand; output
is configured once, just before the command runs (:mod:`fitedge.console`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import click

from fitedge import console
from fitedge.errors import FitedgeError
from fitedge.extras import missing_dependency
from fitedge.version import __version__


class FitedgeGroup(click.Group):
    """A group that turns fitedge's own errors into clean one-line failures."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FitedgeError as e:
            raise click.ClickException(str(e)) from None
        except ModuleNotFoundError as e:  # a lazy import of an optional part: name the extra that brings it
            missing = missing_dependency(e, ctx.invoked_subcommand)
            if missing is None:
                raise
            raise click.ClickException(str(missing)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def _count_verbosity(ctx: click.Context, param: click.Parameter, value: int | bool) -> None:
    meta = ctx.find_root().meta
    meta[param.name] = meta.get(param.name, 0) + int(value)


def verbosity_options() -> list[click.Option]:
    """``-v``/``-q`` as taken by the group and by every command under it."""
    return [
        click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_count_verbosity,
                     help="Also third-party warnings and native runtime logs (-vv: debug)."),
        click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_count_verbosity,
                     help="Errors only: no progress lines."),
    ]


def _configured(callback: Callable) -> Callable:
    """The command's callback, after output is set up for the -v/-q counted on the whole command line."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        meta = click.get_current_context().find_root().meta
        console.configure(meta.get("verbose", 0) - (1 if meta.get("quiet", 0) else 0))
        return callback(*args, **kwargs)
    return run


def _add_verbosity(command: click.Command) -> None:
    command.params.extend(verbosity_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_verbosity(sub)
    elif command.callback is not None:
        command.callback = _configured(command.callback)


@click.group(cls=FitedgeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fitedge")
def cli() -> None:
    """fitedge: distil HuBERT into FitHuBERT, quantize to int8, and ship it to ExecuTorch, LiteRT and ONNX.

    \b
    Typical flow:
      fitedge info fithubert hubert-base          # sizes and MACs side by side
      fitedge import hubert_ckpt/ --out teacher/  # any HuBERT/wav2vec2 checkpoint -> fitedge folder
      fitedge export fithubert --out bundle/      # .pte/.tflite/.onnx in fp32 and int8, verified
    """


def _register() -> None:
    # In the order of the workflow: inspect, get data, train, ship, measure.
    from fitedge.cli import bench, data, evaluate, export, model, stream, train, transcribe

    for command in (
        model.env, model.info, model.import_,
        data.data, train.pretrain, train.distill, train.curves,
        export.export, export.verify, export.quantize,
        bench.bench, evaluate.eval_, stream.stream, transcribe.transcribe,
    ):
        _add_verbosity(command)
        cli.add_command(command)
    cli.params.extend(verbosity_options())


_register()  # the command modules import nothing heavy at module level


def main() -> None:
    try:
        cli(prog_name="fitedge")
    except SystemExit as e:
        console.finish(failed=e.code not in (0, None))
        raise


if __name__ == "__main__":
    main()
