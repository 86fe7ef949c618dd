"""Classification changes (定密变更): raising and lowering a document's level, with two approvals."""
