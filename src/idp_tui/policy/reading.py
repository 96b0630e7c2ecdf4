"""Reading the documents of YAML and JSON files for evaluation, within budgets: in idp-tui, and in the
evaluation workers when they read a golden path's files themselves (see ``parallel.py``), so this module imports
nothing of the policy engines and only the YAML and JSON readers."""

from __future__ import annotations

from typing import Any

from ..bounded_read import MIB
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
# YAML errors said for one file: 10,000 broken documents in each of 100 files made a million lines.
MAX_ERRORS_PER_FILE = 100
BACKSTAGE_GROUPS = ("backstage.io/", "scaffolder.backstage.io/")
# A manifest with a plain `<<` key is not judged: kubectl's reader (YAML 1.1) merges it, so the cluster would get
# fields no policy saw. A catalog entity keeps it as a key, as Backstage does (YAML 1.2).
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


class Reader:
    """The documents of one evaluation's files, read one file after another, and what could not be read; the
    files together hold at most ``MAX_DOCUMENTS`` documents and ``MAX_INPUT_BYTES`` bytes (and one file more), their
    aliases add at most ``MAX_ALIAS_NODES`` nodes, and no file is read once ``time_budget`` is spent."""

    def __init__(self, time_budget: TimeBudget | None = None) -> None:
        self.documents: list[tuple[str, int, int, Any]] = []
        self.problems: list[InputProblem] = []
        self.time_budget = time_budget
        self._bytes = 0
        self._alias_nodes = 0

    def full(self, file: str, files_left: int) -> bool:
        """Whether a budget is spent; if so, it is said once, at ``file``, the first file not read."""
        if len(self.documents) >= MAX_DOCUMENTS:
            why = f"the files before hold {MAX_DOCUMENTS:,} documents already"
        elif self._bytes >= MAX_INPUT_BYTES:
            why = f"the files before hold {MAX_INPUT_BYTES // MIB:,} MiB already"
        elif self.time_budget is not None and self.time_budget.spent:
            why = self.time_budget.words()
        else:
            return False
        others = files_left - 1
        after = f", nor the {others:,} file{'s' if others > 1 else ''} after it" if others else ""
        self.problems.append(InputProblem(file, 1, f"not read{after}: {why}", refused=True))
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

        if file.endswith(".json"):
            try:
                self.documents.append((file, 1, 0, load_json_data(text)))
                return
            except JSONDataError:
                pass  # JSON is YAML: the YAML reader says where and why it breaks (NaN is text there, as in YAML)
        room = MAX_DOCUMENTS - len(self.documents)
        text, rest = first_documents(text, min(MAX_DOCUMENTS_PER_FILE, room))
        loaded = load_stream(text, MAX_ALIAS_NODES - self._alias_nodes, find_merge_keys="<<" in text)
        self._alias_nodes += loaded.alias_nodes
        parsed, errors = loaded.documents, loaded.errors
        self.problems += [
            InputProblem(file, error.line, f"invalid YAML: {error.message}", error.refused)
            for error in errors[:MAX_ERRORS_PER_FILE]
        ]
        if len(errors) > MAX_ERRORS_PER_FILE:
            unsaid = errors[MAX_ERRORS_PER_FILE:]
            refused = any(error.refused for error in unsaid)
            more = f"… and {len(unsaid):,} more YAML errors"
            self.problems.append(InputProblem(file, unsaid[0].line, more, refused))
        for index, document in enumerate(parsed):
            if document.merge_key_line and document_class(document.data) == "manifest":
                self.problems.append(InputProblem(file, document.merge_key_line, MERGE_KEY, refused=True))
            else:
                self.documents.append((file, document.line, index, document.data))
        if rest is not None:
            why = (
                f"more than {MAX_DOCUMENTS_PER_FILE:,} documents"
                if room >= MAX_DOCUMENTS_PER_FILE
                else f"the files hold {MAX_DOCUMENTS:,} documents here"
            )
            self.problems.append(InputProblem(file, rest, f"{why}: the rest are not read", refused=True))
