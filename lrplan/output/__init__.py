"""What lrplan shows and writes: round-trip number formatting (``numfmt``), per-step tables with atomic files
(``table``), spec summaries (``summary``), terminal plots (``plot``) and the family catalogue (``catalog``)."""
