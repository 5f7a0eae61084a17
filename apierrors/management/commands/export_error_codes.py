"""``manage.py export_error_codes``: the dictionary as a file to send to a partner.

Docplanner asks each integrator to send its ``error_code`` dictionary to their integrations
support; this writes it as JSON (the published dictionary's shape), CSV or a Markdown table,
in one language, public entries only unless ``--include-internal``.

The text is the entry's, typed by staff: in CSV a cell that a spreadsheet would run as a
formula gets OWASP's leading apostrophe (``apierrors.spreadsheet``), and in Markdown every
character that could start a link, an image, HTML or other markup is backslash-escaped, so a
viewer shows the text and nothing else.
"""

import csv
import io
import json
import re
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import override

from ...admin.spreadsheet import escape_cell
from ...published.views import entry_as_dict, public_entries

COLUMNS = [
    "error_code",
    "status",
    "key",
    "title",
    "message",
    "description",
    "fhir_code",
    "severity",
]


def render_export(fmt: str, rows: list[dict[str, Any]], language: str) -> str:
    """The dictionary's rows as ``json``, ``csv`` or ``markdown`` text."""
    if fmt == "json":
        return (
            json.dumps({"language": language, "errors": rows}, ensure_ascii=False, indent=2) + "\n"
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: escape_cell(v) for k, v in row.items()} for row in rows)
        return out.getvalue()
    lines = ["| error_code | HTTP status | key | message |", "|---:|---:|---|---|"]
    for row in rows:
        text = f"**{_md(row['title'])}**<br>{_md(row['message'])}"
        lines.append(f"| {row['error_code']} | {row['status']} | `{row['key']}` | {text} |")
    return "\n".join(lines) + "\n"


# CommonMark lets any ASCII punctuation be backslash-escaped and then shows it literally.
# These can start markup inside a table cell: links and images ([ ] !), raw HTML and
# autolinks (<), entities (&), code, emphasis and strike-through (` * _ ~), the cell's end (|).
_MARKUP = re.compile(r"([\\`*_\[\]<!&|~])")
# GitHub's bare-URL autolinks ("https://...", "www.") key on these.
_BARE_LINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=\bwww)(\.)")


def _md(text: str) -> str:
    """``text`` as Markdown that renders as exactly this text, on one table row."""
    text = _MARKUP.sub(r"\\\1", re.sub(r"[\r\n]", " ", text))
    return _BARE_LINK.sub(lambda m: "\\" + m.group(0), text)


class Command(BaseCommand):
    help = "Export the error dictionary (public entries) as JSON, CSV or Markdown."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["json", "csv", "markdown"], default="json")
        parser.add_argument(
            "--output",
            "-o",
            default="-",
            help="File to write; '-' (the default) for standard output.",
        )
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            help="One of settings.LANGUAGES (default: LANGUAGE_CODE).",
        )
        parser.add_argument(
            "--include-internal",
            action="store_true",
            help="Also export entries marked internal (not published).",
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="Site URL (https://api.example.com) to make each entry's 'type' link absolute.",
        )

    def handle(
        self,
        *args: Any,
        format: str,
        output: str,
        language: str,
        include_internal: bool,
        base_url: str,
        **options: Any,
    ) -> None:
        languages = [code for code, _name in settings.LANGUAGES]
        if language not in languages:
            raise CommandError(
                f"Unknown language {language!r}; choose one of {', '.join(languages)}."
            )
        with override(language):
            rows = [entry_as_dict(e) for e in public_entries(include_internal)]
        for row in rows:
            if base_url and row["type"]:
                row["type"] = base_url.rstrip("/") + row["type"]
        text = render_export(format, rows, language)
        if output == "-":
            self.stdout.write(text, ending="")
            return
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        self.stderr.write(f"Wrote {len(rows)} entries ({language}, {format}) to {output}.")
