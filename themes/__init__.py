"""Stylesheets for idp-tui (shipped inside the package as ``idp_tui.themes``)."""
