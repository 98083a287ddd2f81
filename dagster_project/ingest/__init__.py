"""Extract-and-load: files and databases into the warehouse's raw, quarantine and meta schemas."""
