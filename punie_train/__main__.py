"""``python -m punie_train``: see ``punie_train.cli``."""

from punie_train.cli import main

raise SystemExit(main())
