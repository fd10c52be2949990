"""Gate datasets: what every SE block computed, over whole image collections, as Parquet.

``se-viz capture`` writes them (on this machine, or on a Ray cluster), :func:`open_gate_dataset`
reads them back column by column, :func:`summarize_gate_dataset` turns them into a per-block table.
"""
