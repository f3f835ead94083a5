"""Media intake: read bytes safely, decode images within limits, and hash them (MD5, SHA-256, PDQ)."""

from seawall.media.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, MediaError, decode_image, read_media
from seawall.media.hashing import MediaHashes, hash_bytes, hash_file, pdq_hex, pdq_of_image

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "MediaError",
    "MediaHashes",
    "decode_image",
    "hash_bytes",
    "hash_file",
    "pdq_hex",
    "pdq_of_image",
    "read_media",
]
