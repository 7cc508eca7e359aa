"""The study core: presenting and grading cards, scheduling, progress, plans and statistics.

Pure Python on purpose: nothing here imports textual or torch, so the plain-text quiz,
``dlprep stats`` and the tests run without either.
"""
