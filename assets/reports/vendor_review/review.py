"""What the vendor review's sections share: the page, its quoted figures and the recommendation so far."""

from __future__ import annotations

from dataclasses import dataclass, field

from assets.reports.figures import Figures
from assets.reports.page import Page

REL_KEY = ("provider", "component", "period")
BUDGET_KEY = ("provider", "period")


@dataclass
class Review:
    """The page being built; sections add charts and quote figures in page order."""

    page: Page
    display: dict[str, str]
    figures: Figures = field(default_factory=Figures)

    def name(self, provider: str) -> str:
        """A provider's display name (its key when providers.yaml has none)."""
        return self.display.get(provider, provider)
