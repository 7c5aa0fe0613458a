"""Each bucket's lifecycle, in S3's own words, with no jsii import.

The stack (foundation_stack.py) and the adoption review (adoption.py) read the same
table, so what discovery says the first plan will change is what the stack sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.config import Settings


@dataclass(frozen=True, kw_only=True)
class BucketRetention:
    """Lifecycle of one bucket, in S3's own words.

    ``expiration_days``: current objects expire this many days after creation.
    Default: current objects never expire.
    ``noncurrent_days``: versions that stopped being current are deleted this many
    days later, and expired delete markers are removed. Default: noncurrent
    versions are kept. A bucket with ``expiration_days`` must set it, or expired
    objects would only be hidden behind a delete marker and kept.
    ``abort_incomplete_multipart_upload_days``: default 7.
    """

    expiration_days: int | None = None
    noncurrent_days: int | None = None
    abort_incomplete_multipart_upload_days: int = 7

    def __post_init__(self) -> None:
        if self.expiration_days is not None and self.noncurrent_days is None:
            raise ValueError("a versioned bucket whose objects expire must also expire noncurrent versions")


def bucket_retention(settings: Settings) -> dict[str, BucketRetention]:
    """The design record's retention by bucket role: input 1 day, results 30 days, athena_staging none.

    Noncurrent versions in input and results expire after
    ``settings.noncurrent_version_expiration_days``.
    """
    noncurrent = settings.noncurrent_version_expiration_days
    return {
        "input": BucketRetention(
            expiration_days=1, noncurrent_days=noncurrent, abort_incomplete_multipart_upload_days=1
        ),
        "results": BucketRetention(expiration_days=30, noncurrent_days=noncurrent),
        "athena_staging": BucketRetention(),
    }


#: The stack's lifecycle rule ids (constructs_lib.secure_bucket writes them).
EXPIRE_CURRENT, EXPIRE_NONCURRENT, ABORT_UPLOADS = (
    "expire-current-versions",
    "expire-noncurrent-versions",
    "abort-incomplete-multipart-uploads",
)


def rule_ids(retention: BucketRetention) -> list[str]:
    """The ids of the lifecycle rules the stack writes for ``retention``, sorted."""
    ids = [ABORT_UPLOADS]
    ids += [EXPIRE_CURRENT] if retention.expiration_days else []
    ids += [EXPIRE_NONCURRENT] if retention.noncurrent_days else []
    return sorted(ids)
