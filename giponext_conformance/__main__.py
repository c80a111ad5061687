import sys

from giponext_conformance.cli import main

sys.exit(main())
