"""Statistics of the holdings and the work: tables with charts, each exportable as CSV."""
