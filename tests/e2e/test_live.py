"""Read-only lookups in the account (cci_tools.live), against the emulator.

The lookups find the emulator the way they find AWS: the standard credential chain and
``AWS_ENDPOINT_URL`` from the environment, nothing passed in.
"""

from __future__ import annotations

import pytest

from cci_tools import emulator
from cci_tools.live import LiveAccount, LiveUnavailable

pytestmark = pytest.mark.e2e

REGION = "ap-southeast-2"  # apart from the other e2e stacks sharing the emulator
ACCOUNT = "591338347562"


@pytest.fixture
def live(aws_emulator: emulator.Emulator, monkeypatch: pytest.MonkeyPatch) -> LiveAccount:
    for name, value in aws_emulator.aws_env(region=REGION).items():
        monkeypatch.setenv(name, value)
    return LiveAccount.connect(region=REGION, account_id=ACCOUNT)


def test_live_lookups_tell_what_the_account_has_from_what_it_has_not(
    live: LiveAccount, aws_emulator: emulator.Emulator
) -> None:
    s3 = aws_emulator.client("s3", region=REGION)
    kms = aws_emulator.client("kms", region=REGION)
    dynamodb = aws_emulator.client("dynamodb", region=REGION)
    s3.create_bucket(Bucket="cci-lite-live-present", CreateBucketConfiguration={"LocationConstraint": REGION})
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/cci-lite-live-present", TargetKeyId=key_id)
    dynamodb.create_table(
        TableName="cci-lite-live-present",
        KeySchema=[{"AttributeName": "tenant_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "tenant_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert live.account_id == ACCOUNT
    assert live.bucket("cci-lite-live-present").exists is True
    assert live.bucket("cci-lite-live-absent").exists is False
    alias = live.kms_alias("alias/cci-lite-live-present")
    assert (alias.exists, alias.detail) == (True, f"exists: key {key_id} (Enabled)")
    assert live.kms_alias("alias/cci-lite-live-absent").exists is False
    assert live.table("cci-lite-live-present").exists is True
    assert live.table("cci-lite-live-absent").exists is False


def test_live_refuses_credentials_for_another_account(
    aws_emulator: emulator.Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in aws_emulator.aws_env(region=REGION).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(LiveUnavailable) as refused:
        LiveAccount.connect(region=REGION, account_id="111122223333")
    assert str(refused.value) == f"the AWS credentials are for account {ACCOUNT}, not account 111122223333"
