"""How the optimized image is parameterized: the pixels themselves, or a decorrelated Fourier spectrum.

Both give the loop the same three things: ``parameters()`` to optimize, ``image()`` (the
current ``(N,C,H,W)`` image in [0,1], differentiable) and ``constrain()`` (run after each step).
Taught in notebook 07 (Fourier parameterization) and 09 (``SigmoidImage``: no clipping); PixelImage serves the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .arguments import check_count, check_number, check_pixels


def _check_shape(shape: Sequence[int]) -> tuple[int, int, int, int]:
    """Return ``shape`` as an ``(N,C,H,W)`` tuple of positive ints; anything else raises with an example."""
    if isinstance(shape, torch.Size):
        shape = tuple(shape)
    if not isinstance(shape, Sequence) or isinstance(shape, str) or len(shape) != 4:
        raise ValueError(f"shape must be (N,C,H,W), e.g. (1, 3, 128, 128), got {shape!r}")
    n, c, h, w = (check_count(v, f"shape[{i}]", what="NCHW"[i]) for i, v in enumerate(shape))
    return n, c, h, w


class PixelImage:
    """Optimize the pixels themselves, kept in [0,1] by clipping after each step.

    ``init`` (``(N,C,H,W)`` in [0,1]) starts from a photo; otherwise mid-gray plus Gaussian
    noise of standard deviation ``sd``.
    """

    def __init__(
        self,
        shape: Sequence[int] = (1, 3, 128, 128),
        init: torch.Tensor | None = None,
        sd: float = 0.1,
        seed: int | None = 0,
    ):
        if init is not None:
            # NaN would pass a [0,1] range test; uint8 0..255 is refused; float64 is optimized as float32
            pixels = check_pixels(init, "init").detach().clone().float()
        else:
            sd = check_number(sd, "sd", low_open=False, hint="sd is the noise level of the start image, e.g. 0.1")
            gen = torch.Generator().manual_seed(seed) if seed is not None else None
            pixels = (0.5 + sd * torch.randn(_check_shape(shape), generator=gen)).clamp(0, 1)
        self.pixels = pixels.requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        """The tensors the optimizer changes: the pixels."""
        return [self.pixels]

    def image(self) -> torch.Tensor:
        """Return the current image ``(N,C,H,W)`` in [0,1]."""
        return self.pixels

    def to(self, device: torch.device) -> PixelImage:
        """Move the pixels to ``device`` (still a leaf that needs a gradient)."""
        self.pixels = self.pixels.detach().to(device).requires_grad_(True)
        return self

    @torch.no_grad()
    def constrain(self) -> None:
        """Clip the pixels back into [0,1]."""
        self.pixels.clamp_(0, 1)


# Colour correlations of ImageNet photos: the square root of their RGB covariance, as
# published with Lucid (Olah et al. 2017). Optimizing in this decorrelated basis lets one
# parameter move all three channels together, the way natural colours vary.
_COLOR_SQRT_COV = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])


class FourierImage:
    """Optimize the image's Fourier spectrum, scaled by ``1/f^decay``, in decorrelated colours.

    Plain pixels let the optimizer put energy in the highest frequencies, which the network
    happily amplifies (the "adversarial noise" look). Scaling each frequency by ``1/f`` makes
    every frequency equally easy to change, so low frequencies get their fair share
    (Olah et al., "Feature Visualization", 2017). A sigmoid maps the result into [0,1].
    """

    def __init__(
        self,
        shape: Sequence[int] = (1, 3, 128, 128),
        sd: float = 0.01,
        decay: float = 1.0,
        decorrelate: bool = True,
        seed: int | None = 0,
    ):
        n, c, h, w = _check_shape(shape)
        sd = check_number(sd, "sd", low_open=False, hint="sd is the spectrum's starting noise level, e.g. 0.01")
        decay = check_number(decay, "decay", low_open=False, hint="decay is the 1/f^decay exponent, usually 1")
        if decorrelate and c != 3:
            raise ValueError(f"colour decorrelation needs 3 channels, got {c}; pass decorrelate=False")
        self.size, self.decorrelate = (h, w), decorrelate
        fy = torch.fft.fftfreq(h)[:, None]
        fx = torch.fft.rfftfreq(w)[None, :]
        freqs = (fy.pow(2) + fx.pow(2)).sqrt()
        self.scale = 1.0 / freqs.clamp_min(1.0 / max(h, w)).pow(decay)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.spectrum = (sd * torch.randn(n, c, h, w // 2 + 1, 2, generator=gen)).requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        """The tensors the optimizer changes: the (real, imaginary) spectrum ``(N,C,H,W//2+1,2)``."""
        return [self.spectrum]

    def image(self) -> torch.Tensor:
        """Return the current image ``(N,C,H,W)`` in [0,1]."""
        spec = torch.view_as_complex(self.spectrum) * self.scale
        img = torch.fft.irfft2(spec, s=self.size, norm="ortho") / 4  # /4: sigmoid starts near-linear
        if self.decorrelate:
            colors = _COLOR_SQRT_COV.to(img.device)
            colors = colors / colors.norm(dim=0).max()
            img = torch.einsum("ij,njhw->nihw", colors, img)
        return torch.sigmoid(img)

    def to(self, device: torch.device) -> FourierImage:
        """Move the spectrum and its frequency scale to ``device``."""
        self.spectrum = self.spectrum.detach().to(device).requires_grad_(True)
        self.scale = self.scale.to(device)
        return self

    def constrain(self) -> None:
        """Nothing to do: the sigmoid already keeps pixels in [0,1]."""


class SigmoidImage:
    """Optimize unbounded logits ``z``; the image is ``sigmoid(z)``, inside (0,1) without ever being clipped.

    Clipping a pixel image piles every push past black or white onto 0 or 1, channel by channel,
    which turns bright skies into speckles of saturated colour. Here a pixel near white moves
    ever more slowly instead (the sigmoid's slope ``x(1-x)`` falls to 0), so nothing is cut off.
    ``init`` (``(N,C,H,W)`` in [0,1]) starts from a photo: its values are first held ``margin``
    away from 0 and 1 (a logit of exactly 0 or 1 is infinite). Taught in notebook 09.
    """

    def __init__(self, init: torch.Tensor, margin: float = 1e-3):
        pixels = check_pixels(init, "init").detach().float()
        margin = check_number(margin, "margin", high=0.25, hint="margin keeps the start inside (0,1), e.g. 1e-3")
        self.logits = torch.logit(pixels.clamp(margin, 1 - margin)).requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        """The tensors the optimizer changes: the logits ``(N,C,H,W)``."""
        return [self.logits]

    def image(self) -> torch.Tensor:
        """Return the current image ``sigmoid(logits)``, ``(N,C,H,W)`` in (0,1)."""
        return torch.sigmoid(self.logits)

    def to(self, device: torch.device) -> SigmoidImage:
        """Move the logits to ``device`` (still a leaf that needs a gradient)."""
        self.logits = self.logits.detach().to(device).requires_grad_(True)
        return self

    def constrain(self) -> None:
        """Nothing to do: the sigmoid already keeps pixels in (0,1)."""


Param = PixelImage | FourierImage | SigmoidImage  # what optimize_image accepts as the image being optimized
