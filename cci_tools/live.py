"""Read-only lookups in a live AWS account, for checks that must not trust Terraform state alone.

boto3 with the standard credential chain (environment variables, shared config and SSO
profiles, container and instance roles) and the standard endpoint settings
(``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``), as every AWS SDK reads them:
https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html and
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html.

Every call is read-only. The review gate's lookups (``bucket``, ``kms_alias``,
``table``, ``table_item``) use ``sts:GetCallerIdentity``, ``s3:HeadBucket``
(``s3:ListBucket`` permission), ``kms:DescribeKey``, ``dynamodb:DescribeTable`` and
``dynamodb:GetItem``; each answers present, absent or "cannot tell" (with the reason)
and never raises for an AWS error. Only ``LiveAccount.connect`` raises, with
``LiveUnavailable``, whose text is one line for the user.

Discovery of an existing foundation (cci_tools.adopt) reads more through ``read``,
``read_pages`` and ``bucket_exists``: only operations named ``Describe*``, ``Get*``,
``List*``, ``Head*`` and ``Scan`` (READ_OPERATION; anything else is refused before it
is sent). An absent object is None; any other failure raises ``LiveReadError`` with
one line naming the call. S3 calls carry ``ExpectedBucketOwner``, so a bucket of
another account is never read.

Example::

    try:
        account = LiveAccount.connect(region="eu-central-1", account_id="591338347562")
    except LiveUnavailable as why:
        print(f"not checked: {why}")
    else:
        print(account.bucket("cci-lite-input-591338347562-eu-central-1"))
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

#: Fail fast where AWS cannot be reached: a review gate must not hang.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"})

_ABSENT = {"404", "NoSuchBucket", "NotFoundException", "ResourceNotFoundException"}


#: The operations discovery may send: reads only (IAM access levels Read and List).
READ_OPERATION = re.compile(r"(Describe|Get|List|Head)[A-Za-z]*|Scan")


class LiveUnavailable(Exception):
    """AWS cannot be asked: no credentials, not reachable, credentials refused, or another account."""


class LiveReadError(Exception):
    """A read AWS refused or could not answer (access denied, throttled, unreachable): one line for the user."""


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
    """Read-only lookups in one account and region, through one boto3 session.

    ``caller_arn`` is whose credentials they are (``sts:GetCallerIdentity``).
    """

    def __init__(self, session: Any, *, region: str, account_id: str, caller_arn: str = "") -> None:
        self.region = region
        self.account_id = account_id
        self.caller_arn = caller_arn
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
        return cls(session, region=region, account_id=found, caller_arn=str(identity.get("Arn", "")))

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

    def table_item(self, table: str, key_name: str, key_value: str) -> Lookup:
        """``dynamodb:GetItem`` of one record by its string hash key, projecting only the key."""

        def call() -> str:
            response = self._client("dynamodb").get_item(
                TableName=table,
                Key={key_name: {"S": key_value}},
                ProjectionExpression="#k",
                ExpressionAttributeNames={"#k": key_name},
                ConsistentRead=True,
            )
            if "Item" not in response:
                raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no item"}}, "GetItem")
            return f"exists in table {table}"

        return self._lookup("tenant record", f"{table}[{key_value}]", call)

    # --- discovery: reads that say what is there ---------------------------------------------

    def _operation(self, service: str, operation: str) -> str:
        name = str(self._client(service).meta.method_to_api_mapping.get(operation, operation))
        if not READ_OPERATION.fullmatch(name):
            raise ValueError(f"{service}:{name} is not a read; discovery sends reads only")
        return name

    def read(
        self, service: str, operation: str, *, absent: tuple[str, ...] = (), **params: Any
    ) -> dict[str, Any] | None:
        """One read call (``operation`` in boto3's snake_case): its response, or None if AWS answers with an
        error code in ``absent``. Raises LiveReadError for any other failure."""
        name = self._operation(service, operation)
        if service == "s3" and "Bucket" in params:
            params.setdefault("ExpectedBucketOwner", self.account_id)
        try:
            response: dict[str, Any] = getattr(self._client(service), operation)(**params)
        except ClientError as error:
            if _error_code(error) in absent:
                return None
            raise LiveReadError(f"{service}:{name} {_target(params)} failed: {_one_line(error)}") from None
        except BotoCoreError as error:
            raise LiveReadError(f"{service}:{name} {_target(params)} failed: {_one_line(error)}") from None
        response.pop("ResponseMetadata", None)
        return response

    def read_pages(self, service: str, operation: str, key: str, **params: Any) -> Iterator[Any]:
        """Every element of ``key`` over all pages of a read (boto3's paginator). Raises LiveReadError."""
        name = self._operation(service, operation)
        try:
            for page in self._client(service).get_paginator(operation).paginate(**params):
                yield from page.get(key, [])
        except (ClientError, BotoCoreError) as error:
            raise LiveReadError(f"{service}:{name} {_target(params)} failed: {_one_line(error)}") from None

    def bucket_exists(self, name: str) -> bool:
        """``s3:HeadBucket`` with this account as the expected owner: True, False (404), or LiveReadError.

        403 means the bucket belongs to another account or the credentials may not list it:
        either way discovery cannot go on.
        """
        try:
            self._client("s3").head_bucket(Bucket=name, ExpectedBucketOwner=self.account_id)
        except ClientError as error:
            code = _error_code(error)
            if code in ("404", "NoSuchBucket"):
                return False
            if code in ("403", "AccessDenied"):
                raise LiveReadError(
                    f"s3:HeadBucket {name}: access denied: the bucket belongs to another account than "
                    f"{self.account_id}, or these credentials may not list it (s3:ListBucket)"
                ) from None
            raise LiveReadError(f"s3:HeadBucket {name} failed: {_one_line(error)}") from None
        except BotoCoreError as error:
            raise LiveReadError(f"s3:HeadBucket {name} failed: {_one_line(error)}") from None
        return True


def _target(params: dict[str, Any]) -> str:
    for key in ("Bucket", "TableName", "KeyId", "ResourceArn", "ResourceName"):
        if key in params:
            return str(params[key])
    return ""
