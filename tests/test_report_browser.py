"""report.html rendered by a real headless browser (Debian's chromium); slow, and skipped without chromium."""
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from gankit.config import resolve
from gankit.trainer import Trainer

from conftest import TINY

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt install chromium)")]


def test_report_renders_with_metrics_curves_and_grids(tmp_path):
    cfg = resolve("seed-mlp", TINY + ["train.steps=40", "train.sample_every=10", "eval.every=20",
                                      "eval.n_cheap=200", "eval.n_final=500"])
    Trainer(cfg, tmp_path / "run", progress=False).fit()
    report = tmp_path / "run" / "report.html"
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run([CHROMIUM, *FLAGS, *profile, "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "Final metrics" in dom and "FID" in dom and "Evaluation card" in dom and "step-0000040" in dom
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, *profile, f"--screenshot={shot}", "--window-size=1200,2400", report.as_uri()],
                   capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    dark = pixels < 60  # the sample grids are black with white digits; text is dark on white
    assert pixels.std() > 20 and dark.mean() > 0.02, "the screenshot looks blank"
