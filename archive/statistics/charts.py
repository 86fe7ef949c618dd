"""Charts of the statistics page, drawn by pygal as SVG on the server (no script runs in the browser).

The SVG names the page's own fonts, so Chinese labels render with the CJK fonts the interface uses. pygal adds
a configuration script for its optional tooltips; it is dropped, the values are printed on the chart instead.
"""
from __future__ import annotations

import math
from xml.etree import ElementTree

import pygal
from pygal.style import Style

from .services import Chart

FONTS = '"Noto Sans CJK SC","WenQuanYi Zen Hei","PingFang SC","Microsoft YaHei",sans-serif'
STYLE = Style(
    font_family=FONTS, label_font_family=FONTS, major_label_font_family=FONTS, value_font_family=FONTS,
    legend_font_family=FONTS, title_font_family=FONTS, tooltip_font_family=FONTS,
    background="#ffffff", plot_background="#ffffff", foreground="#1f2933", foreground_strong="#1f2933",
    foreground_subtle="#d9e2ec", colors=("#0b5cad", "#cf1124", "#2f8132", "#de911d", "#7c5e10", "#9446ed"),
    label_font_size=13, major_label_font_size=13, legend_font_size=13, value_font_size=12,
)
WIDTH, HEIGHT = 760, 340
PERCENT_TICKS = [0, 20, 40, 60, 80, 100]


def svg(chart: Chart, title: str, no_data: str) -> str:
    kind = pygal.Line if chart.line else pygal.Bar
    drawing = kind(
        style=STYLE, width=WIDTH, height=HEIGHT, title=title, js=[], disable_xml_declaration=True,
        print_values=True, print_values_position="top", show_legend=len(chart.series) > 1, legend_at_bottom=True,
        no_data_text=no_data,
        x_label_rotation=30 if len(chart.x_labels) > 8 else 0, truncate_label=-1, truncate_legend=-1,
        value_formatter=_percent if chart.percent else _count,
        y_labels=PERCENT_TICKS if chart.percent else _whole_numbers(chart), allow_interruptions=chart.line,
    )
    drawing.x_labels = chart.x_labels
    for name, values in chart.series:
        drawing.add(name, values)
    tree = drawing.render_tree()
    parents = {child: parent for parent in tree.iter() for child in parent}
    for script in [node for node in tree.iter() if node.tag == "script"]:
        parents[script].remove(script)
    return ElementTree.tostring(tree, encoding="unicode")


def _whole_numbers(chart: Chart) -> list[int]:
    """Ticks of a count axis: whole numbers only, about five of them."""
    highest = max((v for _name, values in chart.series for v in values if v is not None), default=0)
    step = max(1, math.ceil(highest / 5))
    return list(range(0, int(highest) + step + 1, step))


def _count(value) -> str:
    return "" if value is None else f"{value:g}"


def _percent(value) -> str:
    return "" if value is None else f"{value:g}%"
