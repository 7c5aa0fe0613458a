"""One S3 bucket with the foundation's whole secure baseline."""

from __future__ import annotations

from typing import TypeVar

from cdktf import TerraformResource, TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.bindings import (
    KmsKey,
    S3Bucket,
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketNotification,
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
    S3BucketPolicy,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfiguration,
    S3BucketServerSideEncryptionConfigurationRule,
    S3BucketSseByDefault,
    S3BucketVersioning,
    S3BucketVersioningVersioningConfiguration,
)
from constructs_lib.config import Settings
from constructs_lib.naming import Names, bucket_tags
from constructs_lib.policies import bucket_policy, terraform_string
from constructs_lib.retention import ABORT_UPLOADS, EXPIRE_CURRENT, EXPIRE_NONCURRENT, BucketRetention

_R = TypeVar("_R", bound=TerraformResource)

__all__ = ["BucketRetention", "SecureBucket"]


class SecureBucket(Construct):
    """A private, versioned, SSE-KMS bucket with its bucket policy and a lifecycle.

    The bucket policy (``policies.bucket_policy``) denies requests without TLS and
    keeps principals tagged ``tenant_id`` to objects and listings under their own
    ``<tenant_id>/`` prefix; untagged principals are affected by the TLS rule only.

    Every resource is named by the bucket's role, so the addresses for role
    ``input`` are ``aws_s3_bucket.input``, ``aws_s3_bucket_versioning.input``,
    ``aws_s3_bucket_server_side_encryption_configuration.input``,
    ``aws_s3_bucket_public_access_block.input``,
    ``aws_s3_bucket_ownership_controls.input``, ``aws_s3_bucket_policy.input``,
    ``aws_s3_bucket_lifecycle_configuration.input`` and, with ``eventbridge``,
    ``aws_s3_bucket_notification.input``. Renaming a role replaces the bucket.

    Sub-resources are ordered as terraform-aws-modules/s3-bucket orders them, which
    avoids S3's ``OperationAborted`` on concurrent bucket configuration: public
    access block, then policy, then ownership controls; versioning before lifecycle.

    Example::

        SecureBucket(stack, "input", settings=settings, key=key.key,
                     retention=BucketRetention(expiration_days=1, noncurrent_days=1),
                     eventbridge=True)
    """

    def __init__(
        self,
        scope: Construct,
        role: str,
        *,
        settings: Settings,
        key: KmsKey,
        retention: BucketRetention,
        eventbridge: bool = False,
    ) -> None:
        super().__init__(scope, role)
        names = Names(settings=settings)
        owner = settings.account_id

        def named(resource: _R) -> _R:
            # Every resource is named by the role, before anything references it:
            # a reference captures the address as it is at that moment.
            resource.override_logical_id(role)
            return resource

        self.bucket = named(
            S3Bucket(
                self,
                "bucket",
                bucket=names.bucket(role),
                tags=bucket_tags(names.bucket(role)),
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            )
        )
        bucket_id = self.bucket.id

        self.versioning = named(
            S3BucketVersioning(
                self,
                "versioning",
                bucket=bucket_id,
                expected_bucket_owner=owner,
                versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            )
        )
        self.encryption = named(
            S3BucketServerSideEncryptionConfiguration(
                self,
                "encryption",
                bucket=bucket_id,
                expected_bucket_owner=owner,
                rule=[
                    S3BucketServerSideEncryptionConfigurationRule(
                        apply_server_side_encryption_by_default=S3BucketSseByDefault(
                            sse_algorithm="aws:kms", kms_master_key_id=key.arn
                        ),
                        bucket_key_enabled=True,
                    )
                ],
            )
        )
        self.public_access_block = named(
            S3BucketPublicAccessBlock(
                self,
                "public_access_block",
                bucket=bucket_id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            )
        )
        self.policy = named(
            S3BucketPolicy(
                self,
                "policy",
                bucket=bucket_id,
                policy=terraform_string(bucket_policy(settings, role)),
                depends_on=[self.public_access_block],
            )
        )
        self.ownership_controls = named(
            S3BucketOwnershipControls(
                self,
                "ownership_controls",
                bucket=bucket_id,
                rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
                depends_on=[self.public_access_block, self.policy],
            )
        )
        self.lifecycle = named(
            S3BucketLifecycleConfiguration(
                self,
                "lifecycle",
                bucket=bucket_id,
                expected_bucket_owner=owner,
                rule=_lifecycle_rules(retention),
                depends_on=[self.versioning],
            )
        )
        self.notification: S3BucketNotification | None = None
        if eventbridge:
            self.notification = named(S3BucketNotification(self, "notification", bucket=bucket_id, eventbridge=True))


def _whole_bucket() -> list[S3BucketLifecycleConfigurationRuleFilter]:
    return [S3BucketLifecycleConfigurationRuleFilter(prefix="")]


def _lifecycle_rules(
    retention: BucketRetention,
) -> list[S3BucketLifecycleConfigurationRule]:
    rules = []
    if retention.expiration_days is not None:
        rules.append(
            S3BucketLifecycleConfigurationRule(
                id=EXPIRE_CURRENT,
                status="Enabled",
                filter=_whole_bucket(),
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=retention.expiration_days)],
            )
        )
    if retention.noncurrent_days is not None:
        # S3 refuses ExpiredObjectDeleteMarker beside Days in one Expiration, so the
        # marker clean-up lives with the noncurrent-version rule.
        rules.append(
            S3BucketLifecycleConfigurationRule(
                id=EXPIRE_NONCURRENT,
                status="Enabled",
                filter=_whole_bucket(),
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=retention.noncurrent_days
                    )
                ],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(expired_object_delete_marker=True)],
            )
        )
    rules.append(
        S3BucketLifecycleConfigurationRule(
            id=ABORT_UPLOADS,
            status="Enabled",
            filter=_whole_bucket(),
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=retention.abort_incomplete_multipart_upload_days
                )
            ],
        )
    )
    return rules
