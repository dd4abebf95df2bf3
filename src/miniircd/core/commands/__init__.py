"""Command handlers, one module per family; `core.dispatch` holds the table that uses them."""
