"""Reports: the figures a Pemda is judged by (SQL aggregates), their renderings, the weekly digest."""

from omnichannel.reports.figures import build_report

__all__ = ["build_report"]
