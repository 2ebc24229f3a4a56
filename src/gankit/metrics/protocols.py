"""How a run is measured: protocols chosen by name from a registry (`eval.protocol`, or the one the dataset and
recipe call for), each with a cheap score logged during training and final metrics with their evaluation card.
A protocol reads the named outputs of the recipe's `generate` (`fake`, `label`, `target`, ...).

image-fid      FID (cheap) and every image metric (final), bundled MNIST features
points-modes   2-D mixtures: modes captured / % high quality / reverse KL on 2,500 samples
stacked-modes  Stacked MNIST: modes covered / KL to uniform of 1,000 modes on 26,000 samples
paired-psnr    translators and super-resolution: PSNR and SSIM against held-out targets (glyphs: font accuracy)
inpaint        inpainting: PSNR and L1 inside the holes, the classifier's label accuracy and FID of completed digits
oracle-nll     SeqGAN's synthetic text: the oracle's NLL of samples (NLL_oracle), G's NLL of held-out sequences
poems          Tang quatrains: BLEU-2 against held-out poems, self-BLEU-2, the share of well-formed quatrains, NLL_test
names          first names: the share of samples that are real census names, real but held out, novel, distinct
cycle-digits   unpaired MNIST <-> 8x8 digits: the share of translations the target domain's classifier reads as
               their label, each way; FID in the target domain's features
cycle-glyphs   unpaired fonts: a -> b translations of held-out characters against their true glyphs (as paired-psnr)
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from ..config import Config
from ..errors import GankitError
from ..registry import PROTOCOLS
from . import modes, ocr, pixels, scores, text
from .evaluate import eval_setup, evaluate_images
from .features import get_extractor
from ..nets.font_net import font_class

MIXTURE_SAMPLES = 2500
STACKED_SAMPLES = 26000


class Protocol:
    key = "fid"               # the cheap score whose best generator is kept
    lower_is_better = True

    def better(self, new: float, old: float | None) -> bool:
        return old is None or (new < old if self.lower_is_better else new > old)

    def n_final(self, requested: int) -> int:
        return requested

    def cheap(self, outputs: dict[str, torch.Tensor], seed: int) -> dict:
        raise NotImplementedError

    def final(self, outputs: dict[str, torch.Tensor], seed: int, source: str) -> dict:
        raise NotImplementedError


class ImageProtocol(Protocol):
    def __init__(self, extractor: str, ref: str):
        self.extractor, self.ref = extractor, ref

    def cheap(self, outputs, seed):
        return {"fid": evaluate_images(outputs["fake"], self.ref, self.extractor, seed, fid_only=True)["fid"]}

    def final(self, outputs, seed, source):
        return evaluate_images(outputs["fake"], self.ref, self.extractor, seed, labels=outputs.get("label"),
                               source=source)


class MixtureProtocol(Protocol):
    key = "modes"
    lower_is_better = False

    def __init__(self, name: str, means: torch.Tensor, sigma: float):
        self.name, self.means, self.sigma = name, means, sigma

    def n_final(self, requested: int) -> int:
        return MIXTURE_SAMPLES

    def cheap(self, outputs, seed):
        scores = modes.mixture_scores(outputs["fake"][:MIXTURE_SAMPLES], self.means, self.sigma)
        return {"modes": scores["modes"], "high_quality_pct": scores["high_quality_pct"]}

    def final(self, outputs, seed, source):
        samples = outputs["fake"]
        card = {"protocol": f"2-D {self.name} mixture: nearest mode, high quality within 3 sigma ({self.sigma})",
                "n_samples": len(samples), "seed": seed, "source": source}
        return {**modes.mixture_scores(samples, self.means, self.sigma), "card": card}


class StackedMNISTProtocol(Protocol):
    key = "modes"
    lower_is_better = False

    def n_final(self, requested: int) -> int:
        return STACKED_SAMPLES

    def digits(self, images: torch.Tensor, classifier: str = "mnist") -> np.ndarray:
        """[N, 3, H, W] uint8 -> [N, 3] digit per channel, by a bundled MNIST classifier."""
        extractor = get_extractor(classifier)
        n, c, h, w = images.shape
        logits = extractor(images.reshape(n * c, 1, h, w))["logits"]
        return logits.argmax(1).reshape(n, c)

    def cheap(self, outputs, seed):
        return {"modes": modes.stacked_digit_modes(self.digits(outputs["fake"]))["modes"]}

    def final(self, outputs, seed, source):
        extractor, second = get_extractor("mnist"), get_extractor("mnist-b")
        card = {"protocol": "Stacked MNIST: each channel classified by the bundled MNIST classifier (and by the "
                            "second one: modes_b, kl_to_uniform_b)",
                "extractor": extractor.name, "extractor_sha256": extractor.checksum,
                "second_extractor": second.name, "second_extractor_sha256": second.checksum,
                "n_samples": len(outputs["fake"]), "seed": seed, "source": source}
        other = modes.stacked_digit_modes(self.digits(outputs["fake"], "mnist-b"))
        return {**modes.stacked_digit_modes(self.digits(outputs["fake"])),
                "modes_b": other["modes"], "kl_to_uniform_b": other["kl_to_uniform"], "card": card}


class PairedProtocol(Protocol):
    """Outputs against held-out targets: PSNR and SSIM on luma with a border of `border` pixels cut off (the
    super-resolution convention: the scale factor), and PSNR on all channels. With `font` (a bundled font's
    name, for glyph translators) also the share of outputs the bundled font classifier reads as that font; with
    characters (`text`) and the optional OCR model installed, the share it reads as their character."""

    key = "psnr"
    lower_is_better = False

    def __init__(self, border: int, font: str | None = None):
        self.border, self.font = border, font

    def cheap(self, outputs, seed):
        return {"psnr": pixels.psnr(outputs["fake"], outputs["target"], self.border)}

    def final(self, outputs, seed, source):
        fake, target = outputs["fake"], outputs["target"]
        card = {"protocol": "held-out pairs: PSNR (dB) and SSIM (Gaussian window, sigma 1.5) per image on luma "
                            "(ITU-R BT.601 Y of RGB), averaged; psnr_all on every channel; l1 per image in [0, 1] "
                            "units on every channel, without a border cut",
                "border_px": self.border, "n_samples": len(fake), "seed": seed, "source": source}
        scores = {"psnr": pixels.psnr(fake, target, self.border), "ssim": pixels.ssim(fake, target, self.border),
                  "l1": pixels.l1(fake, target), "psnr_all": pixels.psnr(fake, target, self.border, luma=False)}
        if self.font:
            fonts = get_extractor("fonts")
            scores["font_accuracy"] = float((fonts(fake)["logits"].argmax(1) == font_class(self.font)).mean())
            card.update(font=self.font, font_classifier_sha256=fonts.checksum,
                        font_accuracy="share of outputs the bundled font classifier reads as the target font")
        if "text" in outputs and ocr.available():
            chars = [chr(int(code)) for code in outputs["text"][:, 0]]
            scores["ocr_accuracy"] = ocr.accuracy(fake, chars)
            card.update(ocr=ocr.version(), ocr_accuracy="share of outputs the OCR model reads as their character")
        return {**scores, "card": card}


class InpaintProtocol(Protocol):
    """Completed images against the originals inside the holes, and as digits: does the bundled classifier read
    the original label, and how far is the completed set from MNIST test (FID)."""

    key = "hole_psnr"
    lower_is_better = False

    def cheap(self, outputs, seed):
        return {"hole_psnr": pixels.psnr(outputs["fake"], outputs["target"], mask=outputs["mask"])}

    def final(self, outputs, seed, source):
        fake, target, mask = outputs["fake"], outputs["target"], outputs["mask"]
        scores = evaluate_images(fake, "mnist-test", "mnist", seed, labels=outputs.get("label"), source=source)
        card = {**scores["card"], "protocol": "held-out digits with holes: PSNR (dB) and L1 (in [0, 1] units) "
                                              "inside the holes, per image, averaged; label accuracy and FID of the "
                                              "completed digits with the bundled classifier"}
        return {"hole_psnr": pixels.psnr(fake, target, mask=mask), "hole_l1": pixels.l1(fake, target, mask),
                "label_accuracy": scores.get("label_accuracy"), "fid": scores["fid"],
                "label_accuracy_b": scores.get("label_accuracy_b"), "fid_b": scores.get("fid_b"), "card": card}


class CycleDigitsProtocol(Protocol):
    """Unpaired digits (MNIST <-> 8x8 digits): does each translation keep its digit? The target domain's
    classifier reads every translated held-out digit (the 8x8-digits one for a -> b, the MNIST one for b -> a);
    and FID in the target domain's features."""

    key = "label_accuracy"
    lower_is_better = False
    JUDGES = {"a": ("mnist", "mnist-b"), "b": ("digits8-boxed",)}  # the classifiers that read each target domain

    def __init__(self, coaches: dict[str, str] | None = None):
        self.coaches = coaches or {}  # domain -> the target-side classifier that coached translations into it

    def accuracies(self, outputs) -> dict[str, float]:
        a2b = get_extractor("digits8-boxed")(outputs["fake_b"])["logits"].argmax(1) == outputs["a_label"].numpy()
        b2a = get_extractor("mnist")(outputs["fake_a"])["logits"].argmax(1) == outputs["b_label"].numpy()
        return {"accuracy_a2b": float(a2b.mean()), "accuracy_b2a": float(b2a.mean()),
                "label_accuracy": float((a2b.mean() + b2a.mean()) / 2)}

    def cheap(self, outputs, seed):
        return {"label_accuracy": self.accuracies(outputs)["label_accuracy"]}

    @staticmethod
    def second_opinion_b2a(outputs) -> float:
        """accuracy_b2a read by the second MNIST classifier (the 8x8 side has one classifier only)."""
        return float((get_extractor("mnist-b")(outputs["fake_a"])["logits"].argmax(1) == outputs["b_label"].numpy()).mean())

    def final(self, outputs, seed, source):
        from ..data.unpaired import MNIST_BOX, small_digits

        digits8 = get_extractor("digits8-boxed")
        fid_a2b = scores.fid(digits8(small_digits(MNIST_BOX)[0])["features"], digits8(outputs["fake_b"])["features"])
        fid_b2a = evaluate_images(outputs["fake_a"], "mnist-test", "mnist", seed, fid_only=True)["fid"]
        card = {"protocol": "held-out digits translated each way: accuracy_a2b = share of MNIST test digits whose "
                            "translation the bundled 8x8-digits classifier (digits8-boxed) reads as their label; accuracy_b2a = "
                            "share of held-out 8x8 digits whose translation the bundled MNIST classifier reads as "
                            "theirs; label_accuracy = their mean; fid_a2b against all 1,797 8x8 digits in the "
                            "8x8 classifier's features, fid_b2a against MNIST test in the MNIST classifier's; "
                            "accuracy_b2a_b is accuracy_b2a by the second MNIST classifier",
                "digits8_classifier_sha256": digits8.checksum, "mnist_classifier_sha256": get_extractor("mnist").checksum,
                "second_mnist_classifier_sha256": get_extractor("mnist-b").checksum,
                "coached_by": ", ".join(f"{name} (into {key})" for key, name in self.coaches.items()) or "none",
                "n_samples": len(outputs["fake_b"]), "seed": seed, "source": source}
        return {**self.accuracies(outputs), "accuracy_b2a_b": self.second_opinion_b2a(outputs), "fid_a2b": fid_a2b,
                "fid_b2a": fid_b2a, "card": card}


class CycleGlyphsProtocol(PairedProtocol):
    """Unpaired font transfer scored against the truth: the a -> b translations of held-out characters against
    their true glyphs in font b, as the paired protocol scores a paired model (PSNR, SSIM, L1, font and OCR)."""

    def as_paired(self, outputs) -> dict[str, torch.Tensor]:
        out = {"fake": outputs["fake_b"], "target": outputs["b"]}
        return {**out, "text": outputs["text"]} if "text" in outputs else out

    def cheap(self, outputs, seed):
        return super().cheap(self.as_paired(outputs), seed)

    def final(self, outputs, seed, source):
        return super().final(self.as_paired(outputs), seed, source)


class OracleProtocol(Protocol):
    """Samples judged by the oracle that made the data (NLL_oracle: quality), and held-out oracle sequences
    judged by G (NLL_test: coverage)."""

    key = "nll_oracle"

    def cheap(self, outputs, seed):
        return {"nll_oracle": text.oracle_nll(outputs["tokens"])}

    def final(self, outputs, seed, source):
        card = {"protocol": "NLL per token (nats): nll_oracle = the oracle LSTM's NLL of the samples; nll_test = "
                            "G's NLL of held-out oracle sequences, at the sampling temperature",
                "n_samples": len(outputs["tokens"]), "seed": seed, "source": source}
        return {"nll_oracle": text.oracle_nll(outputs["tokens"]),
                "nll_test": text.per_token_nll(outputs["held_out_nll"], outputs["held_out_count"]), "card": card}


class PoemProtocol(Protocol):
    """Generated quatrains against held-out ones: BLEU-2 (quality), self-BLEU-2 (lack of diversity), the share
    of well-formed quatrains, and G's NLL of held-out poems."""

    key = "bleu2"
    lower_is_better = False
    CHEAP_REFERENCES = 500
    SELF_BLEU_SAMPLES = 500

    def __init__(self, vocab, references: list[str]):
        self.vocab, self.references = vocab, [text.characters(r) for r in references]

    def poems(self, outputs) -> list[str]:
        return [self.vocab.decode(row) for row in outputs["tokens"]]

    def cheap(self, outputs, seed):
        poems = [text.characters(p) for p in self.poems(outputs)]
        return {"bleu2": text.bleu(poems, self.references[:self.CHEAP_REFERENCES])}

    def final(self, outputs, seed, source):
        poems = self.poems(outputs)
        chars = [text.characters(p) for p in poems]
        card = {"protocol": "BLEU-2: mean nltk sentence BLEU (weights 1/2, 1/2, smoothing method1) of each sample "
                            "against all held-out poems, by character without punctuation; self_bleu2: each of the "
                            f"first {self.SELF_BLEU_SAMPLES} samples against the others; well_formed: four lines of "
                            "5 or 7 characters as A，B。C，D。; nll_test: G's NLL per token of held-out poems at the sampling temperature",
                "references": len(self.references), "n_samples": len(poems), "seed": seed, "source": source}
        return {"bleu2": text.bleu(chars, self.references), "self_bleu2": text.self_bleu(chars[:self.SELF_BLEU_SAMPLES]),
                "well_formed": text.well_formed(poems),
                "nll_test": text.per_token_nll(outputs["held_out_nll"], outputs["held_out_count"]), "card": card}


class NamesProtocol(Protocol):
    """Generated first names: the share that are real census names, real but held out, new to the training
    list, and distinct; and G's NLL of held-out names."""

    key = "real"
    lower_is_better = False

    def __init__(self, vocab, train: list[str], test: list[str]):
        self.vocab, self.train, self.test = vocab, set(train), set(test)

    def scores(self, outputs) -> dict[str, float]:
        return text.name_scores([self.vocab.decode(row) for row in outputs["tokens"]], self.train, self.test)

    def cheap(self, outputs, seed):
        return {"real": self.scores(outputs)["real"]}

    def final(self, outputs, seed, source):
        card = {"protocol": "real: share of samples that are census first names; new_real: share that are held-out "
                            "names (never trained on); novel: share not in the training names; distinct: share of "
                            "different samples; nll_test: G's NLL per token of held-out names at the sampling temperature",
                "train_names": len(self.train), "held_out_names": len(self.test),
                "n_samples": len(outputs["tokens"]), "seed": seed, "source": source}
        return {**self.scores(outputs),
                "nll_test": text.per_token_nll(outputs["held_out_nll"], outputs["held_out_count"]), "card": card}


@PROTOCOLS.register("image-fid", "images against a reference set: FID, KID, IS, precision/recall, density/coverage")
def image_fid(cfg: Config, data) -> Protocol | None:
    target = eval_setup(cfg)
    return ImageProtocol(*target) if target else None


@PROTOCOLS.register("points-modes", "2-D mixtures of Gaussians: modes captured, % high-quality samples, reverse KL")
def points_modes(cfg: Config, data) -> Protocol:
    return MixtureProtocol(data.name, data.info["means"], data.info["sigma"])


@PROTOCOLS.register("stacked-modes", "Stacked MNIST: modes covered and KL to uniform over its 1,000 modes")
def stacked_modes(cfg: Config, data) -> Protocol:
    return StackedMNISTProtocol()


@PROTOCOLS.register("paired-psnr", "image pairs: PSNR and SSIM against held-out targets (border cut: the data's scale)")
def paired_psnr(cfg: Config, data) -> Protocol:
    target_font = data.info.get("fonts", (None, None))[1]
    return PairedProtocol(int(data.info.get("scale", 0)), target_font if font_class(target_font or "") is not None
                          else None)


@PROTOCOLS.register("inpaint", "inpainting: PSNR and L1 inside the holes, label accuracy and FID of completed digits")
def inpaint(cfg: Config, data) -> Protocol:
    return InpaintProtocol()


@PROTOCOLS.register("cycle-digits", "unpaired digits: label kept by each translation (target domain's classifier), FID")
def cycle_digits(cfg: Config, data) -> Protocol:
    options = getattr(cfg, "cyclegan", None)
    coaches = {key: getattr(options, f"coach_{key}", "") for key in CycleDigitsProtocol.JUDGES}
    for key, judges in CycleDigitsProtocol.JUDGES.items():
        if coaches[key] in judges:
            raise GankitError(f"cyclegan.coach_{key}: '{coaches[key]}' judges translations into domain {key} in "
                              "this protocol; a coach must be another network")
    return CycleDigitsProtocol({key: coach for key, coach in coaches.items() if coach})


@PROTOCOLS.register("cycle-glyphs", "unpaired fonts against the true glyphs: PSNR, SSIM, L1, font and OCR accuracy")
def cycle_glyphs(cfg: Config, data) -> Protocol:
    target_font = data.info.get("fonts", (None, None))[1]
    return CycleGlyphsProtocol(0, target_font if font_class(target_font or "") is not None else None)


@PROTOCOLS.register("oracle-nll", "SeqGAN's synthetic text: NLL_oracle of samples and NLL_test of held-out sequences")
def oracle_nll(cfg: Config, data) -> Protocol:
    return OracleProtocol()


@PROTOCOLS.register("poems", "Tang quatrains: BLEU-2 against held-out poems, self-BLEU-2, well-formed share, NLL_test")
def poems(cfg: Config, data) -> Protocol:
    from ..data import load_data
    from ..data.text import Vocabulary

    held_out = load_data(replace(cfg.data, split="test", limit=0))
    vocab = Vocabulary.of(held_out.info)
    return PoemProtocol(vocab, [vocab.decode(row) for row in held_out.arrays["tokens"]])


@PROTOCOLS.register("names", "first names: share real, real but held out, novel, distinct; NLL_test")
def names(cfg: Config, data) -> Protocol:
    from ..data import load_data
    from ..data.text import Vocabulary

    splits = {split: load_data(replace(cfg.data, split=split, limit=0)) for split in ("train", "test")}
    vocab = Vocabulary.of(splits["test"].info)
    texts = {split: [vocab.decode(row) for row in d.arrays["tokens"]] for split, d in splits.items()}
    return NamesProtocol(vocab, texts["train"], texts["test"])


def make_protocol(cfg: Config, data, recipe) -> Protocol | None:
    """The protocol of a run: eval.protocol, or the one the recipe calls for on this data; None when gankit has
    no reference for it (or eval.extractor=none)."""
    if cfg.eval.extractor == "none":
        return None
    name = protocol_name(cfg, data, recipe)
    return PROTOCOLS.get(name)(cfg, data) if name else None


def protocol_name(cfg: Config, data, recipe) -> str:
    """The name of the protocol a run is measured by: eval.protocol, or the one the recipe calls for on this data
    ("" = none)."""
    return recipe.protocol(data) if cfg.eval.protocol == "auto" else cfg.eval.protocol

