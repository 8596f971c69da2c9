"""QR codes as inline SVG, generated on the server (segno): receipts and public pages.

The one place the app marks generated SVG safe: segno emits only its own path markup, and
the encoded text is a URL the app built from ``PUBLIC_BASE_URL`` (never shown as text).
"""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(url: str, *, scale: int = 3, sized: bool = True, svgclass: str | None = None) -> Markup:
    """A QR code of ``url``; ``sized=False`` leaves only a viewBox (sized by CSS, for print).

    No styles in the markup: the CSP forbids inline ones.
    """
    svg = segno.make(url, error="m").svg_inline(
        scale=scale, dark="#000", light="#fff", omitsize=not sized, svgclass=svgclass
    )
    return Markup(svg)  # noqa: S704 - segno's own SVG markup of a URL the app built
