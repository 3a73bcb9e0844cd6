"""The ``fitedge`` command line: a thin click layer over the library.

Commands parse, call one library function and print. Heavy imports (torch, runtimes) happen inside
the commands so that ``fitedge --help`` is instant. Every :class:`FitedgeError` becomes a one-line
message and exit status 1, never a traceback.
"""

from __future__ import annotations

import logging
import sys

import click

from fitedge import __version__
from fitedge.errors import FitedgeError


class FitedgeGroup(click.Group):
    """A group that turns fitedge's own errors into clean one-line failures."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FitedgeError as e:
            raise click.ClickException(str(e)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=FitedgeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fitedge")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """fitedge: distil HuBERT into FitHuBERT, quantize to int8, and ship it to ExecuTorch, LiteRT and ONNX.

    \b
    Typical flow:
      fitedge info fithubert hubert-base          # sizes and MACs side by side
      fitedge import hubert_ckpt/ --out teacher/  # any HuBERT/wav2vec2 checkpoint -> fitedge folder
      fitedge export fithubert --out bundle/      # .pte/.tflite/.onnx in fp32 and int8, verified
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")


def _register() -> None:
    # In the order of the workflow: inspect, get data, train, ship, measure.
    from fitedge.edge import (
        commands_bench,
        commands_data,
        commands_eval,
        commands_export,
        commands_model,
        commands_train,
    )

    for command in (
        commands_model.info, commands_model.import_,
        commands_data.data, commands_train.pretrain, commands_train.distill,
        commands_export.export, commands_export.verify, commands_export.quantize,
        commands_bench.bench, commands_eval.eval_,
    ):
        cli.add_command(command)


def main() -> None:
    _register()
    cli(prog_name="fitedge")


if __name__ == "__main__":
    main()
