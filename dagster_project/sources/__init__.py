"""Sources: each turns what a publisher releases into the raw contract (:mod:`.base`).

One folder per source (``demo/``, ``rosstat/``, ``eurostat/`` …), each declared once in :mod:`.registry`, which
the assets, sensors, resource, CLI and the dbt union of mapping seeds follow; :mod:`.inbox` holds the file
handling they share. Nothing here imports Dagster.
"""
