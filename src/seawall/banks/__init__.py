"""Known-content matching: hash banks (PDQ, MD5, SHA-256, URLs, texts), their index and storage.

Kept import-light: `seawall.storage.schema` imports `seawall.banks.schema` to put the bank tables
on the shared metadata.
"""
