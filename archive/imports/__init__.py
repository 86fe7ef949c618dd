"""Bulk import of existing scans from a manifest (CSV or XLSX) and a folder of files."""
