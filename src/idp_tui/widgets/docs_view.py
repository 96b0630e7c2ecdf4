"""An entity's TechDocs rendered as Markdown, one page at a time, read off the UI thread."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Markdown, Static, Tab, Tabs

from ..catalog.entity import Entity
from ..catalog.techdocs import DocPage, TechDocs, find_techdocs, read_page
from ..safe_text import clean


class DocsView(Vertical):
    """Page tabs (←/→ when focused) above the rendered page."""

    DEFAULT_CSS = """
    DocsView { height: 1fr; }
    DocsView > VerticalScroll { height: 1fr; }
    """

    def __init__(self, entity: Entity) -> None:
        super().__init__()
        self.entity = entity
        self.docs: TechDocs | None = None

    def compose(self) -> ComposeResult:
        # Hidden from the start, not in on_mount: the entity page recomposes when the whole entity arrives, and
        # a DocsView mounted just before could find its children gone by the time its on_mount ran.
        tabs = Tabs(id="docs-pages")
        tabs.display = False
        yield tabs
        with VerticalScroll(id="docs-scroll"):
            yield Static("Loading docs…", id="docs-empty")
            page = Markdown(id="docs-page")
            page.display = False
            yield page

    def on_mount(self) -> None:
        self._load_site()

    def focus_content(self) -> None:
        tabs = self.query_one("#docs-pages", Tabs)
        (tabs if tabs.display else self.query_one("#docs-scroll", VerticalScroll)).focus()

    @work(thread=True, exclusive=True, group="docs")
    def _load_site(self) -> None:
        docs = find_techdocs(self.entity)
        self.app.call_from_thread(self._show_site, docs)

    def _show_site(self, docs: TechDocs) -> None:
        if not self.is_attached:
            return  # removed while the docs were read (the entity page recomposed)
        self.docs = docs
        empty = self.query_one("#docs-empty", Static)
        if docs.problem:
            empty.update(Text(clean(docs.problem)))
            return
        tabs = self.query_one("#docs-pages", Tabs)
        for number, page in enumerate(docs.pages):
            tabs.add_tab(Tab(Text(clean(page.title, one_line=True)), id=f"page-{number}"))
        tabs.display = len(docs.pages) > 1
        self._load_page(docs.pages[0])

    @on(Tabs.TabActivated, "#docs-pages")
    def _page_chosen(self, event: Tabs.TabActivated) -> None:
        if self.docs and event.tab.id:
            self._load_page(self.docs.pages[int(event.tab.id.removeprefix("page-"))])

    @work(thread=True, exclusive=True, group="docs-page")
    def _load_page(self, page: DocPage) -> None:
        try:
            text = read_page(page)
        except (OSError, UnicodeDecodeError) as error:
            text = f"*Could not read {page.path}: {getattr(error, 'strerror', None) or error}*"
        self.app.call_from_thread(self._show_page, text)

    def _show_page(self, text: str) -> None:
        if not self.is_attached:
            return
        self.query_one("#docs-empty", Static).display = False
        page = self.query_one("#docs-page", Markdown)
        page.display = True
        page.update(text)
        self.query_one("#docs-scroll", VerticalScroll).scroll_home(animate=False)
