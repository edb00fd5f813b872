"""``python -m helpers.data [NAME ...]``: fetch the pinned data sets (``make data`` runs this)."""

import sys

from helpers.data.files import main

sys.exit(main(sys.argv[1:]))
