"""Can a reader read it: character recognition of glyphs by RapidOCR's Chinese PP-OCRv4 model (optional).

RapidOCR (rapidocr-onnxruntime) ships its ONNX models inside its wheel, so nothing downloads; it is the `ocr`
extra (`pip install 'gankit[ocr]'`, Python < 3.13). Without it, glyph protocols simply leave ocr_accuracy out.
Only the recognizer runs: each glyph is one line of one character, so detection and orientation are skipped.
"""
from __future__ import annotations

import functools
import importlib.metadata
import importlib.util

import numpy as np
import torch


def available() -> bool:
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def version() -> str:
    return "RapidOCR " + importlib.metadata.version("rapidocr-onnxruntime") + " (PP-OCRv4 recognizer)"


@functools.lru_cache(maxsize=1)
def engine():
    from rapidocr_onnxruntime import RapidOCR

    threads = torch.get_num_threads()  # the same CPU share as the rest of the run
    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)


def read(images: torch.Tensor) -> list[str]:
    """The text RapidOCR reads in each uint8 image [N, C, H, W] ("" where it reads nothing)."""
    texts = []
    for image in images.cpu():
        pixels = np.ascontiguousarray(image.expand(3, -1, -1).permute(1, 2, 0).numpy())  # H, W, 3 (grey: 3 equal)
        result, _ = engine()(pixels, use_det=False, use_cls=False, use_rec=True)
        texts.append(result[0][0] if result else "")
    return texts


def accuracy(images: torch.Tensor, chars: list[str]) -> float:
    """The share of images read as exactly their character."""
    return float(np.mean([text == char for text, char in zip(read(images), chars)]))
