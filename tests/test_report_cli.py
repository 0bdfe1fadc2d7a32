"""``python -m lasersell_sync report`` and the main job's ``--report``: files written, one-line errors.

Every failure a user can cause (a missing or unreadable recording, a file that is no recording,
a strategy file that holds none, an output that cannot be written, the ``report`` extra not
installed) is one line on stderr with exit status 2. The missing extra is simulated in a
subprocess whose import system refuses matplotlib.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from lasersell_sync.cli import main
from tests.reportdata import page_data, write_hand_built
from tests.support import clean_env, example

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NO_MATPLOTLIB = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
    "            raise ImportError('no module named matplotlib (blocked for the test)')\n"
    "sys.meta_path.insert(0, Block())\n"
)
EXTRA_LINE = "the trade report needs the 'report' extra: pip install 'lasersell_sync[report]'"


def one_line_error(capsys: pytest.CaptureFixture[str], status: int, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("lasersell-sync: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err
    return err


def test_report_writes_the_page_and_says_what_it_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = write_hand_built(tmp_path / "hand.jsonl")
    assert main(["report", str(recording), "--take-profit", "40", "--stop-loss", "10", "--trailing-stop", "5"]) == 0
    out = capsys.readouterr().out
    page = (tmp_path / "hand.html").read_text()  # the default: the recording's name with .html
    assert out == (
        f"report: wrote {tmp_path / 'hand.html'} (2 positions, 1 sells landed, 1 failed, 1 reconnects, "
        "7 lines or frames skipped)\n"
    )
    data = page_data(page)
    assert data["strategy"]["trailing_stop_pct"] == 5
    assert [line["kind"] for line in data["positions"][0]["thresholds"]] == ["take_profit", "stop_loss"]


@pytest.mark.parametrize("document", ["strategy", "configure"])
def test_report_takes_the_strategy_from_a_file(tmp_path: Path, document: str) -> None:
    recording = write_hand_built(tmp_path / "hand.jsonl")
    strategy = {"target_profit_pct": 0, "stop_loss_pct": 10, "take_profit_levels": [{"profit_pct": 30, "sell_pct": 50}]}
    content = strategy if document == "strategy" else {"type": "configure", "wallet_pubkeys": [], "strategy": strategy}
    (tmp_path / "strategy.json").write_text(json.dumps(content))
    out = tmp_path / "out" / "page.html"
    out.parent.mkdir()
    assert main(["report", str(recording), "--out", str(out), "--strategy", str(tmp_path / "strategy.json")]) == 0
    lines = page_data(out.read_text())["positions"][0]["thresholds"]
    assert [(line["kind"], line["price"]) for line in lines] == [("stop_loss", 18e6), ("ladder", pytest.approx(26e6))]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["{tmp}/missing.jsonl"], ["cannot read the recording", "missing.jsonl", "No such file"]),
        (["{tmp}"], ["cannot read the recording"]),
        (["{tmp}/notes.jsonl"], ["notes.jsonl is not a session recording: none of its 1 lines"]),
        (["{tmp}/empty.jsonl"], ["empty.jsonl is empty"]),
        (["{tmp}/hand.jsonl", "--out", "{tmp}/nowhere/page.html"], ["cannot write", "nowhere"]),
        (["{tmp}/hand.jsonl", "--out", "{tmp}/hand.jsonl"], ["would overwrite the recording"]),
        (["{tmp}/hand.jsonl", "--strategy", "{tmp}/notes.jsonl"], ["--strategy", "is not JSON"]),
        (["{tmp}/hand.jsonl", "--strategy", "{tmp}/missing.json"], ["--strategy: cannot read", "missing.json"]),
        (["{tmp}/hand.jsonl", "--strategy", "{tmp}/wrong.json"], ["--strategy", "does not hold a strategy"]),
        (["{tmp}/hand.jsonl", "--strategy", "{tmp}/wrong.json", "--stop-loss", "5"], ["exclude each other"]),
        (["{tmp}/hand.jsonl", "--stop-loss", "-5"], ["--stop-loss", "percentage >= 0"]),
    ],
)
def test_a_bad_report_command_is_one_line_and_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: List[str], fragments: List[str]
) -> None:
    write_hand_built(tmp_path / "hand.jsonl")
    (tmp_path / "notes.jsonl").write_text("this is not a recording\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "wrong.json").write_text(json.dumps({"stop_loss_pct": "ten"}))
    try:
        status = main(["report", *(arg.replace("{tmp}", str(tmp_path)) for arg in args)])
    except SystemExit as exc:  # argparse's own errors
        status = int(exc.code or 0)
    one_line_error(capsys, status, *fragments)
    assert not (tmp_path / "hand.html").exists()


def test_without_the_extra_report_names_it_in_one_line(tmp_path: Path) -> None:
    recording = write_hand_built(tmp_path / "hand.jsonl")
    code = NO_MATPLOTLIB + f"from lasersell_sync.cli import main\nsys.exit(main(['report', {str(recording)!r}]))\n"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=clean_env())
    assert (run.returncode, run.stdout, run.stderr) == (2, "", f"lasersell-sync: error: {EXTRA_LINE}\n")
    assert not (tmp_path / "hand.html").exists()


# -- the main job -----------------------------------------------------------------------------------


def test_the_main_job_writes_a_report_of_its_session(
    tmp_path: Path, no_lasersell_settings: None, capsys: pytest.CaptureFixture[str]
) -> None:
    auto_sell = example("auto_sell")
    report = tmp_path / "run.html"
    args = ["--seconds", "45", "--positions", "2", "--scenario", "pump", "--seed", "3", "--report", str(report)]
    assert auto_sell.main(args) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(f"report: {report} (the session's recording: {tmp_path / 'run.jsonl'})")
    data = page_data(report.read_text())
    closed = [p for p in data["positions"] if p["closed_t"] is not None]
    assert len(closed) >= 2
    assert data["strategy"]["trailing_stop_pct"] == auto_sell.STRATEGY.trailing_stop_pct
    assert all({"take_profit", "stop_loss"} <= {line["kind"] for line in p["thresholds"]} for p in data["positions"])
    kinds = [m["kind"] for p in data["positions"] for m in p["markers"]]
    assert kinds.count("landed") >= 1
    assert kinds.count("signal") >= 2
    events = [json.loads(line).get("event") for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert "exit_landed" in events
    assert "connected" in events


def test_the_main_job_refuses_report_without_the_extra_before_trading(tmp_path: Path) -> None:
    code = NO_MATPLOTLIB + (
        f"sys.path.insert(0, {str(EXAMPLES)!r})\n"
        f"sys.argv = ['auto_sell.py', '--report', {str(tmp_path / 'run.html')!r}]\n"
        "import auto_sell\n"
        "sys.exit(auto_sell.main())\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=clean_env())
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.splitlines() == [f"auto_sell.py: error: {EXTRA_LINE}"]
    assert list(tmp_path.iterdir()) == []
