"""Dagster assets: ingest (one per source), dbt models, publish, briefings."""
