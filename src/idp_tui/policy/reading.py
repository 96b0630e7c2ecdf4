"""Reading the documents of YAML and JSON files for evaluation, within budgets: in idp-tui, and in the
evaluation workers when they read a golden path's files themselves (see ``parallel.py``), so this module imports
nothing of the policy engines and only the YAML and JSON readers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

from ..bounded_read import MIB
from ..safe_text import clean
from .models import InputProblem, TimeBudget

# A rendered Helm chart holds hundreds of documents; 8 MB of one-line documents is 900,000 (135 s, 1.1 GB).
MAX_DOCUMENTS_PER_FILE = 10_000
# All the files of one evaluation together: each file is bounded on its own, but 100,000 of them are not. Every
# document is held in memory until all are judged: 50,000 generated manifests (40 MB of YAML) took 926 MB and 65 s
# (`validate` with the demo policies), so these keep a check near 2 GB, and within its time budget.
MAX_INPUT_BYTES = 128 * MIB
MAX_DOCUMENTS = 100_000
# The nodes aliases may add in all the files together: each file may add up to a million, and fifty files of
# 20 KB each did (14 MB of data each), which kept the workers at their memory cap for minutes.
MAX_ALIAS_NODES = 2_000_000
# The entries of every mapping and sequence in all the files together (held until all are judged): 50,000
# generated manifests hold 2.9 million; 8 MiB of `[],` holds 2.8 million lists.
MAX_ENTRIES = 5_000_000
# YAML errors said for one file: 10,000 broken documents in each of 100 files made a million lines.
MAX_ERRORS_PER_FILE = 100
BACKSTAGE_GROUPS = ("backstage.io/", "scaffolder.backstage.io/")
# kubectl splits a file into documents at every line that starts with `---` and goes on, once Go's TrimSpace has
# taken off what Go calls space (Unicode's too: U+00A0, U+3000…), with nothing or a comment. YAML starts a document
# only where `---` is followed by a space, a tab or the line's end, and reads a comment only after a space or tab:
# to it, `---#` and `---\u00a0#:` are text (a key whose value can be a whole indented Deployment, say). The
# documents of such a file would not be the ones judged.
_DOCUMENT_MARKER_LINE = re.compile(r"^---([^\n]*)", re.MULTILINE)
_GO_SPACE = (  # unicode.IsSpace: Latin-1's, then Unicode's White_Space
    "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)
_YAML_SEPARATOR_REST = re.compile(r"(?:[ \t]+(?:#.*)?)?\r?")  # what may follow `---` for YAML to start a document
KUBECTL_ONLY_SEPARATOR = (
    "not read: kubectl starts a new document at this line (--- and a comment, or spaces YAML does not take for "
    "spaces), YAML does not, so the policies would not judge the documents kubectl applies"
)
# A document with a `<<` key is not judged: kubectl's reader (YAML 1.1) merges it (a later merge overriding the keys
# before it), so the cluster would get fields no policy saw. Catalog entities too: merged, a Component can turn
# into a Deployment.
MERGE_KEY = (
    "a YAML merge key (<<): kubectl merges it, and idp-tui reads YAML 1.2 (as Backstage does), where it is a plain "
    "key; the policies would not judge what the cluster gets"
)


def document_class(data: Any) -> str:
    """``entity`` for a Backstage descriptor, ``manifest`` for anything else."""
    api_version = data.get("apiVersion") if isinstance(data, dict) else None
    return "entity" if isinstance(api_version, str) and api_version.startswith(BACKSTAGE_GROUPS) else "manifest"


def kind_and_name(data: Any) -> tuple[str, str]:
    if not isinstance(data, dict):
        return "", ""
    kind = data.get("kind") if isinstance(data.get("kind"), str) else ""
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    name = metadata.get("name") if isinstance(metadata.get("name"), str) else ""
    return kind, name


def yaml11_words(scalar: str) -> str:
    """Why a manifest holding ``scalar`` (plain, read otherwise by YAML 1.1) is not judged."""
    return (
        f"not judged: kubectl reads {clean(scalar[:40], one_line=True)} as YAML 1.1 does (a boolean, or another "
        "number), idp-tui as YAML 1.2 does, like Backstage; quote it, or write true, false or a plain number"
    )


def kubectl_only_separator(text: str) -> int | None:
    """Where the first line starts that kubectl takes for a document separator and YAML does not (see
    :data:`KUBECTL_ONLY_SEPARATOR`); None when there is none."""
    if "---" not in text:
        return None
    for line in _DOCUMENT_MARKER_LINE.finditer(text):
        rest = line.group(1)
        trimmed = rest.lstrip(_GO_SPACE)
        if (not trimmed or trimmed.startswith("#")) and not _YAML_SEPARATOR_REST.fullmatch(rest):
            return line.start()
    return None


class Reader:
    """The documents of one evaluation's files, read one file after another, and what could not be read; the
    files together hold at most ``MAX_DOCUMENTS`` documents and ``MAX_INPUT_BYTES`` bytes (and one file more), their
    aliases add at most ``MAX_ALIAS_NODES`` nodes, their mappings and sequences ``MAX_ENTRIES`` entries, and no file
    is read once ``time_budget`` is spent."""

    def __init__(self, time_budget: TimeBudget | None = None) -> None:
        from ..catalog.yaml_docs import SharedBudget

        self.documents: list[tuple[str, int, int, Any]] = []
        self.problems: list[InputProblem] = []
        self.time_budget = time_budget
        self._bytes = 0
        self._shared = SharedBudget(MAX_ALIAS_NODES, MAX_ENTRIES)

    def full(self, file: str, files_left: int) -> bool:
        """Whether a budget is spent; if so, it is said once, at ``file``, the first file not read."""
        if len(self.documents) >= MAX_DOCUMENTS:
            why = f"the files before hold {MAX_DOCUMENTS:,} documents already"
        elif self._bytes >= MAX_INPUT_BYTES:
            why = f"the files before hold {MAX_INPUT_BYTES // MIB:,} MiB already"
        elif self._shared.entries <= 0:
            why = f"the files before hold {MAX_ENTRIES:,} YAML entries already"
        elif self.time_budget is not None and self.time_budget.spent:
            why = self.time_budget.words()
        else:
            return False
        others = files_left - 1
        after = f", nor the {others:,} file{'s' if others > 1 else ''} after it" if others else ""
        self.problems.append(InputProblem(file, 1, f"not read{after}: {why}"))
        return True

    def parse(self, file: str, content: bytes) -> None:
        self._bytes += len(content)
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as error:
            self.problems.append(InputProblem(file, 1, f"not UTF-8 text (byte {error.start})"))
            return
        self.parse_text(file, text)

    def parse_text(self, file: str, text: str) -> None:
        """The documents of one file's text (a ``.json`` file read as JSON first), and its YAML errors."""
        from ..catalog.json_data import JSONDataError, load_json_data
        from ..catalog.yaml_docs import first_documents, load_stream

        room = MAX_DOCUMENTS - len(self.documents)
        limit = min(MAX_DOCUMENTS_PER_FILE, room)
        too_many = (
            f"more than {MAX_DOCUMENTS_PER_FILE:,} documents"
            if room >= MAX_DOCUMENTS_PER_FILE
            else f"the files hold {MAX_DOCUMENTS:,} documents here"
        )
        file_start = len(self.documents)
        if file.lower().endswith(".json"):
            try:
                data = load_json_data(text)
            except JSONDataError:
                pass  # JSON is YAML: the YAML reader says where and why it breaks (NaN is text there, as in YAML)
            else:
                self._add_json(file, data, limit, too_many)
                return
        split = kubectl_only_separator(text)
        if split is not None:
            line = text.count("\n", 0, split) + 1
            self.problems.append(InputProblem(file, line, KUBECTL_ONLY_SEPARATOR))
            return
        text, rest = first_documents(text, limit)
        loaded = load_stream(text, self._shared, kubectl_view=True, max_documents=limit)
        parsed, errors = loaded.documents, loaded.errors
        self.problems += [
            InputProblem(file, error.line, f"invalid YAML: {error.message}") for error in errors[:MAX_ERRORS_PER_FILE]
        ]
        if len(errors) > MAX_ERRORS_PER_FILE:
            unsaid = errors[MAX_ERRORS_PER_FILE:]
            more = f"… and {len(unsaid):,} more YAML errors"
            self.problems.append(InputProblem(file, unsaid[0].line, more))
        for index, document in enumerate(parsed):
            if document.merge_key_line:
                self.problems.append(InputProblem(file, document.merge_key_line, MERGE_KEY))
                continue
            if document.yaml11_scalar is not None and document_class(document.data) == "manifest":
                self.problems.append(InputProblem(file, document.line, yaml11_words(document.yaml11_scalar)))
                continue
            left = limit - (len(self.documents) - file_start)
            if not self._add(file, document.line, index, document.data, left, too_many):
                return
        rest = rest if rest is not None else loaded.rest_line
        if rest is not None:
            self.problems.append(InputProblem(file, rest, f"{too_many}: the rest are not read"))

    def _add_json(self, file: str, data: Any, left: int, too_many: str) -> None:
        """Add a JSON file's document, its entries charged as the YAML reader charges them as it builds."""
        self._shared.entries -= _entries(data)
        if self._shared.entries < 0:
            more = f"not read: the files read together would hold more than {MAX_ENTRIES:,} entries"
            self.problems.append(InputProblem(file, 1, more))
        else:
            self._add(file, 1, 0, data, left, too_many)

    def _add(self, file: str, line: int, index: int, data: Any, left: int, too_many: str) -> bool:
        """Add a document, or the objects of a List (see :func:`applied`), each one of the file's documents; False,
        with a problem, when they are more than the ``left`` the file may add."""
        objects = list(islice(applied(data), left + 1))
        if len(objects) > left:
            self.problems.append(InputProblem(file, line, f"{too_many}: the rest are not read"))
            return False
        self.documents += [(file, line, index, item) for item in objects]
        return True


def applied(data: Any) -> Iterator[Any]:
    """What kubectl applies for a document: for an object with ``items`` (a List, whatever its kind: apimachinery's
    unstructured decoder reads any such object so), its items, each given the List's ``apiVersion`` and its kind
    less ``List`` where it names none, and Lists within them too; for a catalog entity, the entity too (Backstage
    reads it); any other document itself."""
    items = data.get("items") if type(data) is dict else None
    if type(items) is not list:
        yield data
        return
    if document_class(data) == "entity":
        yield data
    kind, api_version = data.get("kind"), data.get("apiVersion")
    for item in items:
        if type(item) is dict:
            if not item.get("kind") and type(kind) is str:
                item = {**item, "kind": kind.removesuffix("List")}
            if not item.get("apiVersion") and api_version:
                item = {**item, "apiVersion": api_version}
        yield from applied(item)


def _entries(data: Any) -> int:
    """The entries of every mapping and sequence in JSON data (what the YAML reader charges as it builds)."""
    count, pending = 0, [data]
    while pending:
        value = pending.pop()
        if type(value) is dict:
            count += len(value)
            pending += value.values()
        elif type(value) is list:
            count += len(value)
            pending += value
    return count
