import sys

from punie_tools.cli import main

sys.exit(main())
