import sys

from cnforecast.cli.main import main

sys.exit(main())
