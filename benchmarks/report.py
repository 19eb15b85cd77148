"""Result rows, their pass/miss verdict, and the tables run.py prints.

A row is a plain dict (so it goes straight into JSON):

    suite, case        which benchmark and which measurement
    unit               "s" (seconds per call / per node / per import) or "MB"
    labgrad            labgrad's value
    reference          the reference's value, or None when it is not available
    ref_name           what the reference is: "torch", "numpy", ...
    ratio              labgrad / reference, or None
    target             the target in words ("<= 1.00x", "< 0.30 s"), or None
    target_on          "ratio" or "labgrad": which value the target limits
    target_value       the limit, or None
    passed             True / False, or None when there is no target or nothing to judge
    extra              further numbers (medians, a second reference, ...)
"""
from __future__ import annotations

import math

ROW_FIELDS = ("suite", "case", "unit", "labgrad", "reference", "ref_name", "ratio", "target",
              "target_on", "target_value", "passed", "extra")


def make_row(suite, case, labgrad, reference=None, *, ref_name, unit="s", max_ratio=None,
             below=None, extra=None) -> dict:
    """One result row. `max_ratio`: target ratio <= max_ratio; `below`: labgrad < below."""
    ratio = labgrad / reference if reference else None
    target = target_on = target_value = passed = None
    if max_ratio is not None:
        target, target_on, target_value = f"<= {max_ratio:.2f}x", "ratio", max_ratio
        passed = None if ratio is None else ratio <= max_ratio
    elif below is not None:
        target, target_on, target_value = f"< {format_value(below, unit)}", "labgrad", below
        passed = labgrad < below
    return {"suite": suite, "case": case, "unit": unit, "labgrad": labgrad,
            "reference": reference, "ref_name": ref_name, "ratio": ratio, "target": target,
            "target_on": target_on, "target_value": target_value, "passed": passed,
            "extra": dict(extra or {})}


def format_value(value, unit="s") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    if value >= 1.0:
        return f"{value:.3f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.2f} us"


def verdict(row) -> str:
    if row["passed"] is None:
        return "-" if row["target"] is None else "n/a"
    return "pass" if row["passed"] else "MISS"


def _ratio_text(row) -> str:
    """The ratio to 2 decimals, or 3 where 2 would round it onto its target (1.00x, MISS)."""
    ratio = row["ratio"]
    if ratio is not None and row["target_on"] == "ratio" and \
            round(ratio, 2) == round(row["target_value"], 2) and ratio != row["target_value"]:
        return f"{ratio:.3f}x"
    return format_value(ratio, "x")


def table(title, rows, extra_columns=()) -> str:
    """A plain-text table: case, labgrad, reference, ratio, target, pass/miss, then extras.

    `extra_columns` is a sequence of (header, key, unit) read from each row's `extra`
    ("x" as unit formats a ratio).
    """
    header = ["case", "labgrad", "reference", "ratio", "target", "result"]
    header += [h for h, _, _ in extra_columns]
    lines = []
    for row in rows:
        ref = format_value(row["reference"], row["unit"])
        if row["reference"] is not None:
            ref = f"{ref} ({row['ref_name']})"
        cells = [row["case"], format_value(row["labgrad"], row["unit"]), ref,
                 _ratio_text(row), row["target"] or "-", verdict(row)]
        for _, key, unit in extra_columns:
            cells.append(format_value(row["extra"].get(key), unit))
        lines.append(cells)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]

    def fmt(cells):
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    rule = "-" * len(fmt(header))
    return "\n".join([title, rule, fmt(header), rule, *map(fmt, lines), rule])


def markdown(rows) -> str:
    """The rows as a Markdown table (for benchmarks/README.md)."""
    lines = ["| suite | case | labgrad | reference | ratio | target | result |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        ref = format_value(row["reference"], row["unit"])
        if row["reference"] is not None:
            ref += f" ({row['ref_name']})"
        cells = [row["suite"], row["case"], format_value(row["labgrad"], row["unit"]), ref,
                 _ratio_text(row), row["target"] or "-", verdict(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
