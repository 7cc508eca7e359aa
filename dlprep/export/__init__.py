"""Hand dlprep's cards and demos to the tools learners already use: Anki and Jupyter.

Neither exporter imports torch or Textual: a deck is built from the bank alone, and a
notebook from the demo's source text and its ``META`` literal.
"""
