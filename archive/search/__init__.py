"""Full-text search: the text of every filed file, read in the background (PDF text layer, OCR) and kept
encrypted (textstore, tasks, queue), and the index built from it.

Settings (archive/config.py): QUEUE_URL, QUEUE_IMMEDIATE, OCR_LANG, TESSERACT_CMD, TEXT_MAX_ATTEMPTS,
TEXT_RETRY_DELAY, TEXT_LEASE_SECONDS, INDEX_DIR, INDEX_LEVEL_A_CONTENT.
"""
