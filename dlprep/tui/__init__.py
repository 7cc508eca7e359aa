"""The Textual quiz app. Import :mod:`dlprep.tui.app` to build it; this package itself is
light so the plain quiz and ``dlprep stats`` can use :mod:`dlprep.tui.render` without textual."""
