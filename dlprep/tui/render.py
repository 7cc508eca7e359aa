"""Rich renderables for statistics, shared by the Stats screen and ``dlprep stats``.

Imports rich only (no textual), so the command line stays quick.
"""

from __future__ import annotations

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from dlprep.bank.topics import topic_title
from dlprep.study.stats import Stats
from dlprep.study.strings import t

BARS = " ▁▂▃▄▅▆▇█"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def topic_table(result: Stats, lang: str) -> Table:
    table = Table(title=t("topics", lang), expand=False, header_style="bold",
                  box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(t("topic", lang), overflow="fold")
    for key in ("cards", "new_short", "due", "reviews", "accuracy", "retention"):
        table.add_column(t(key, lang), justify="right")
    for row in result.topics:
        table.add_row(topic_title(row.topic, lang), str(row.cards), str(row.new), str(row.due),
                      str(row.reviews), pct(row.accuracy), pct(row.retention))
    return table


def forecast_table(result: Stats, lang: str) -> Table:
    table = Table(title=t("forecast", lang), show_header=True, header_style="bold",
                  box=None, pad_edge=False, title_justify="left")
    top = max((n for _, n in result.forecast), default=0)
    for i, (day, _) in enumerate(result.forecast):
        # Month only where it changes, so 14 days fit in 80 columns.
        label = day.strftime("%m-%d") if i == 0 or day.day == 1 else day.strftime("%d")
        table.add_column(label, justify="right", no_wrap=True)
    bars = [BARS[min(8, round(8 * n / top))] if top and n else " " for _, n in result.forecast]
    table.add_row(*bars)
    table.add_row(*(str(n) for _, n in result.forecast))
    return table


def summary_line(result: Stats, lang: str) -> Text:
    return Text.assemble(
        (f"{t('reviews', lang)} ", "bold"), str(result.reviews), "   ",
        (f"{t('accuracy', lang)} ", "bold"), pct(result.accuracy), "   ",
        (f"{t('streak', lang)} ", "bold"), t("days", lang, n=result.streak),
    )


def advice(result: Stats, lang: str, *, key: bool = False) -> Text:
    """Weakest topics and the suggested session: a key in the TUI, a command in a shell."""
    text = Text()
    if result.weakest:
        names = ", ".join(topic_title(s, lang) for s in result.weakest)
        text.append(f"{t('weakest', lang)}: ", style="bold")
        text.append(names + "\n")
    text.append(f"{t('suggest', lang)}: ", style="bold")
    if result.suggestion and key:
        names = ", ".join(topic_title(s, lang) for s in result.weakest)
        text.append(f"{names} ({t('suggest_key', lang)})")
    elif result.suggestion:
        text.append("dlprep quiz --cram " + " ".join(result.suggestion))
    else:
        text.append(t("suggest_due", lang) if key else "dlprep quiz")
    return text


def stats_renderables(result: Stats, lang: str, *, key: bool = False) -> list[RenderableType]:
    return [summary_line(result, lang), topic_table(result, lang),
            forecast_table(result, lang), advice(result, lang, key=key)]
