"""The recipe's command line: a work folder and --quick, and nothing else taken for a folder."""

import pytest

from fitedge.bench.recipe.pipeline import QUICK, RecipeConfig, parse_args


def test_defaults_and_a_work_folder():
    assert parse_args([]) == RecipeConfig()
    assert parse_args(["out/r"]).work == "out/r"
    quick = parse_args(["--quick", "out/q"])
    assert quick.work == "out/q" and quick.pretrain_minutes == QUICK.pretrain_minutes


@pytest.mark.parametrize("argv, code", [(["--help"], 0), (["--minutes", "3"], 2)])
def test_options_are_not_taken_for_the_work_folder(argv, code, capsys):
    """``--help`` once started a 45-minute recipe in a folder named ``--help``."""
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == code
    out = capsys.readouterr()
    assert "usage: python -m fitedge.bench.recipe.pipeline" in out.out + out.err
