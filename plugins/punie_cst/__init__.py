"""punie_cst: libcst-based code tools (find patterns, scope-aware rename, add imports)."""
