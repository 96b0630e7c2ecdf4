"""Pure domain -> rich renderables, shared by the headless commands and the TUI widgets."""
