"""Choices the command line offers that the brief model knows too, importable before the
model itself (the command line reads its options before deciding whether to build)."""

from typing import Literal

PdfVariant = Literal["pdf/a-3b", "pdf/ua-1"]
PDF_VARIANTS: tuple[PdfVariant, ...] = ("pdf/a-3b", "pdf/ua-1")
