import sys

from demix_core.cli import main

sys.exit(main())
