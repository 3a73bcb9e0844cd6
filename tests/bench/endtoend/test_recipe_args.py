"""The recipe's command line (a work folder and --quick, nothing else taken for a folder) and its training lines."""

import pytest

from fitedge.bench.endtoend.pipeline import QUICK, RecipeConfig, parse_args


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
    assert "usage: python -m fitedge.bench.endtoend.pipeline" in out.out + out.err


def test_training_lines_come_from_each_runs_last_checkpoint(tmp_path):
    """The best checkpoint records only the step it was saved at; the report needs the run's steps and schedule."""
    import json

    from fitedge.bench.endtoend.pipeline import Paths, training_runs

    p = Paths(tmp_path)
    for name in ("fithubert", "distilhubert"):
        for folder, meta in (("best", {"step": 2500}),
                             ("final", {"steps": 2541, "stopped": "time", "distill": {"max_minutes": 6.0}})):
            (p.distill_run(name) / folder).mkdir(parents=True)
            (p.distill_run(name) / folder / "config.json").write_text(json.dumps({"distill": meta}))
    lines = training_runs(p)
    assert "teacher" not in lines  # no pretraining run: nothing claimed
    assert lines["FitHuBERT student"] == "2541 steps, learning rate scheduled over 6.0 minutes (stopped: time)"
