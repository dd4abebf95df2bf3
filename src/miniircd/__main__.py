"""`python -m miniircd`: the same entry point as the `miniircd` console script."""

from miniircd.cli import main

raise SystemExit(main())
