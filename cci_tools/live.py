"""Read-only lookups in a live AWS account, for checks that must not trust Terraform state alone.

boto3 with the standard credential chain (environment variables, shared config and SSO
profiles, container and instance roles) and the standard endpoint settings
(``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``), as every AWS SDK reads them:
https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html and
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html.

Every call is read-only: ``sts:GetCallerIdentity``, ``s3:HeadBucket``
(``s3:ListBucket`` permission), ``kms:DescribeKey``, ``dynamodb:DescribeTable``.
A lookup answers present, absent or "cannot tell" (with the reason); it never raises
for an AWS error. Only ``LiveAccount.connect`` raises, with ``LiveUnavailable``, whose
text is one line for the user.

Example::

    try:
        account = LiveAccount.connect(region="eu-central-1", account_id="591338347562")
    except LiveUnavailable as why:
        print(f"not checked: {why}")
    else:
        print(account.bucket("cci-lite-input-591338347562-eu-central-1"))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

#: Fail fast where AWS cannot be reached: a review gate must not hang.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"})

_ABSENT = {"404", "NoSuchBucket", "NotFoundException", "ResourceNotFoundException"}


class LiveUnavailable(Exception):
    """AWS cannot be asked: no credentials, not reachable, credentials refused, or another account."""


@dataclass(frozen=True, kw_only=True)
class Lookup:
    """One resource looked up by name. ``exists`` is None when it could not be told (``detail`` says why)."""

    kind: str
    name: str
    exists: bool | None
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.detail}"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "")) or str(
        error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    )


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


class LiveAccount:
    """Read-only lookups in one account and region, through one boto3 session."""

    def __init__(self, session: Any, *, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self._session = session
        self._clients: dict[str, Any] = {}

    @classmethod
    def connect(cls, *, region: str, account_id: str | None = None, session: Any = None) -> LiveAccount:
        """Find credentials and confirm whose they are (``sts:GetCallerIdentity``).

        ``account_id``: the account the lookups are for; credentials for another one
        raise LiveUnavailable, since a lookup there would answer for the wrong account.
        ``session``: a boto3 Session (default: a new one with the standard chain).
        """
        session = session or boto3.session.Session(region_name=region)
        try:
            identity = session.client("sts", region_name=region, config=CLIENT_CONFIG).get_caller_identity()
        except NoCredentialsError:
            raise LiveUnavailable(
                "no AWS credentials found (environment variables, shared config or SSO profile, "
                "container or instance role)"
            ) from None
        except NoRegionError:
            raise LiveUnavailable("no AWS region configured") from None
        except ClientError as error:
            raise LiveUnavailable(f"AWS refused the credentials: {_one_line(error)}") from None
        except BotoCoreError as error:
            raise LiveUnavailable(f"cannot reach AWS: {_one_line(error)}") from None
        found = str(identity["Account"])
        if account_id is not None and found != account_id:
            raise LiveUnavailable(f"the AWS credentials are for account {found}, not account {account_id}")
        return cls(session, region=region, account_id=found)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, region_name=self.region, config=CLIENT_CONFIG)
        return self._clients[service]

    def _lookup(self, kind: str, name: str, call: Any) -> Lookup:
        try:
            detail = call()
        except ClientError as error:
            code = _error_code(error)
            if code in _ABSENT:
                return Lookup(kind=kind, name=name, exists=False, detail="not found")
            return Lookup(kind=kind, name=name, exists=None, detail=f"cannot tell: {_one_line(error)}")
        except BotoCoreError as error:
            return Lookup(kind=kind, name=name, exists=None, detail=f"cannot tell: {_one_line(error)}")
        return Lookup(kind=kind, name=name, exists=True, detail=str(detail))

    def bucket(self, name: str) -> Lookup:
        """``s3:HeadBucket`` with this account as the expected owner.

        403 (another account's bucket, or no ``s3:ListBucket`` permission) is "cannot tell".
        """

        def call() -> str:
            self._client("s3").head_bucket(Bucket=name, ExpectedBucketOwner=self.account_id)
            return f"exists in account {self.account_id}"

        return self._lookup("s3 bucket", name, call)

    def kms_alias(self, alias: str) -> Lookup:
        """``kms:DescribeKey`` on ``alias/<name>``: present with the key it points to."""

        def call() -> str:
            key = self._client("kms").describe_key(KeyId=alias)["KeyMetadata"]
            return f"exists: key {key['KeyId']} ({key.get('KeyState', 'unknown state')})"

        return self._lookup("KMS alias", alias, call)

    def table(self, name: str) -> Lookup:
        """``dynamodb:DescribeTable``: present with its status."""

        def call() -> str:
            table = self._client("dynamodb").describe_table(TableName=name)["Table"]
            return f"exists ({table.get('TableStatus', 'unknown status')})"

        return self._lookup("DynamoDB table", name, call)
