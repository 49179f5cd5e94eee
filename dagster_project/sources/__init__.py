"""Source importers: each turns what a publisher releases into the raw contract (see ``base``)."""
