"""Deployment settings and tenants: loading and validation, with no jsii import.

Everything the stack needs is read and checked here, before the provider bindings
load, so a mistake comes back in milliseconds with every problem listed at once.

Settings come from ``cdktf.json`` (``context.cci``), then one run's overrides from
the environment (``CCI_ACCOUNT_ID``, ``CCI_REGION``, ``CCI_ENVIRONMENT``,
``CCI_TENANTS_FILE``, ``CCI_BACKEND``, ``CCI_ADOPT_FILE``). Tenants come from the tenants file (``tenants.json``).

A stack is named by its environment key, never by a tag value: ``<name_prefix>-<key>``
for each entry of ``context.cci.environments``, and ``<name_prefix>-production`` for the
one stack of an app without ``environments``. The stack name is the state's address
(``terraform.<stack>.tfstate``, the s3 key ``<stack>/terraform.tfstate``), so changing
the ``Environment``, ``Owner`` or ``Version`` tag never moves the state.

Example::

    settings = load_settings(project_dir, os.environ)
    tenants = load_tenants(settings.tenants_file)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from constructs_lib import aws_rules
from constructs_lib.aws_rules import REGION_PARTITIONS, parse_arn
from constructs_lib.backends import BackendSettings, LocalBackendSettings, parse_backend, parse_backend_override
from constructs_lib.errors import ConfigError
from constructs_lib.jsonfile import describe, load_json
from constructs_lib.literal_text import cdktf_token, code_problem
from constructs_lib.output import output_dir
from constructs_lib.state import ENVIRONMENT_KEY, STACK_NAME, StackState, shared_state_problems
from constructs_lib.tenant_schema import schema_problems

#: The seed's deployment values (design record, 2025-11-06). ``cdktf.json`` repeats them.
DEFAULT_CONTEXT: dict[str, Any] = {
    "account_id": "591338347562",
    "region": "eu-central-1",
    "environment": "Production",
    "owner": "Conversant",
    "version": "v1.3",
    "project": "CCI-Lite",
    "name_prefix": "cci-lite",
    "tenants_file": "tenants.json",
    "key_admin_role_arns": [],
    "lambda_role_arn": None,
    "noncurrent_version_expiration_days": 1,
    "backend": None,
    "retired_stacks": [],
    "adopt_file": None,
}

#: Settings an entry of ``context.cci.environments`` may set for its own stack.
ENVIRONMENT_KEYS: frozenset[str] = frozenset(DEFAULT_CONTEXT) - {
    "name_prefix",
    "project",
    "owner",
    "version",
    "retired_stacks",
}
ENVIRONMENT_NAME_PATTERN = ENVIRONMENT_KEY

#: The environment key of an app without ``context.cci.environments``: its one stack is
#: ``<name_prefix>-production`` (``cci-lite-production``), whatever the Environment tag says.
DEFAULT_ENVIRONMENT_KEY = "production"

#: Environment variables that override one run's settings, and the field each sets.
ENV_OVERRIDES: dict[str, str] = {
    "CCI_ACCOUNT_ID": "account_id",
    "CCI_REGION": "region",
    "CCI_ENVIRONMENT": "environment",
    "CCI_TENANTS_FILE": "tenants_file",
    "CCI_BACKEND": "backend",
    "CCI_ADOPT_FILE": "adopt_file",
}

#: Commercial, GovCloud and China regions the AWS provider 5.100.0 knows (aws_rules.REGION_PARTITIONS).
KNOWN_REGIONS: frozenset[str] = frozenset(REGION_PARTITIONS)

#: name_prefix: the characters every name derived from it allows. S3 bucket names take
#: no upper case or '_', KMS aliases no '.'; aws_rules checks each derived name in full.
NAME_PREFIX_CHARACTERS = "^[a-z0-9-]+$"


@dataclass(frozen=True, kw_only=True)
class Tenant:
    """One tenant of the multi-tenant, prefix-partitioned foundation.

    ``tenant_id`` becomes a Terraform ``for_each`` key, an S3 prefix and the
    DynamoDB hash key. ``display_name`` defaults to the id. ``kms_guard`` (default
    False) adds the tenant to the key policy's per-tenant guard. ``tags`` (default
    none) are the tenant's own tags, added to the seed's per-tenant tag set.
    """

    tenant_id: str
    display_name: str
    kms_guard: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Deployment settings for one stack, validated.

    ``key_admin_role_arns`` default to none: only the account root administers the
    key. ``lambda_role_arn`` defaults to ``arn:aws:iam::<account>:role/<prefix>-lambda-role``,
    the pipeline role the seed names for per-tenant guards.
    ``noncurrent_version_expiration_days`` (default 1) is how long a replaced or
    deleted version stays in the input and results buckets. ``adopt_file`` (default
    None: nothing is imported) is the discovery file of a foundation that exists
    already (cci_tools.adopt, constructs_lib.adoption): the synth then writes
    Terraform import blocks for what it found.
    """

    account_id: str
    region: str
    environment: str
    owner: str
    version: str
    project: str
    name_prefix: str
    tenants_file: Path
    key_admin_role_arns: tuple[str, ...] = ()
    lambda_role_arn: str
    noncurrent_version_expiration_days: int = 1
    stack: str
    backend: BackendSettings = field(default_factory=LocalBackendSettings)
    adopt_file: Path | None = None

    @property
    def partition(self) -> str:
        """The AWS partition of the region: ``aws``, ``aws-cn`` or ``aws-us-gov``."""
        return partition_of(self.region)


def partition_of(region: str) -> str:
    """The partition of a region (aws_rules.REGION_PARTITIONS)."""
    return aws_rules.partition_of(region)


@dataclass(frozen=True, kw_only=True)
class AppSettings:
    """Every stack the settings declare, the ones this run synthesizes, and the state each uses.

    ``stacks``: the stacks of this run (all, or the one ``CCI_STACK`` picks).
    ``declared``: every stack of the app, with this run's ``CCI_*`` overrides on the stacks of the run.
    ``states``: each declared stack's backend and where that setting came from.
    ``retired_stacks``: stacks whose state is left behind on purpose (``context.cci.retired_stacks``).
    """

    stacks: tuple[Settings, ...]
    declared: tuple[Settings, ...]
    states: tuple[StackState, ...]
    retired_stacks: tuple[str, ...]
    name_prefix: str


def load_environments(project_dir: Path, environ: Mapping[str, str]) -> tuple[Settings, ...]:
    """Read ``cdktf.json`` context and the ``CCI_*`` overrides into one Settings per stack of this run.

    Without ``context.cci.environments`` there is one stack, ``<prefix>-production``
    (``cci-lite-production``). With it, each entry is a stack ``<prefix>-<key>`` whose
    settings are the top-level ones overridden by the entry's own. ``CCI_*`` variables
    override every stack of the run; ``CCI_STACK`` keeps just one, and then the overrides
    apply to that stack alone (the others keep their own settings, which the checks across
    stacks compare it with). Raises ConfigError listing every problem found.
    """
    return load_app_settings(project_dir, environ).stacks


def load_app_settings(project_dir: Path, environ: Mapping[str, str]) -> AppSettings:
    """``load_environments``, with every declared stack and its state: see AppSettings.

    Refuses, besides invalid settings, two stacks that would create the same buckets
    or share one state (constructs_lib.state.shared_state_problems). Raises ConfigError
    listing every problem found.
    """
    cdktf_json = project_dir / "cdktf.json"
    label = cdktf_json.name
    document = load_json(cdktf_json, label) if cdktf_json.exists() else {}
    raw = document.get("context", {}).get("cci", {}) if isinstance(document, dict) else {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{label}: context.cci must be an object, got {describe(raw)}"])
    known = sorted({*DEFAULT_CONTEXT, "environments"})
    errors = [
        f"{label}: context.cci.{key} is not a known setting (known: {', '.join(known)})"
        for key in sorted(set(raw) - set(known))
    ]
    base = {**DEFAULT_CONTEXT, **{k: v for k, v in raw.items() if k in DEFAULT_CONTEXT}}
    base_sources = {key: f"{label}: context.cci.{key}" for key in DEFAULT_CONTEXT}

    plan: list[tuple[str | None, dict[str, Any]]] = [(None, {})]
    declared = raw.get("environments")
    if declared is not None:
        plan = []
        if not isinstance(declared, dict) or not declared:
            errors.append(
                f"{label}: context.cci.environments must be an object of named environments, got {describe(declared)}"
            )
            declared = {}
        for name, entry in sorted(declared.items()):
            where = f"{label}: context.cci.environments.{name}"
            if not ENVIRONMENT_NAME_PATTERN.fullmatch(name):
                errors.append(
                    f"{where}: the name must be 1-31 lowercase letters, digits or hyphens"
                    f"{aws_rules.refused_characters(name, ENVIRONMENT_NAME_PATTERN.pattern)}, got {name!r}"
                )
            elif not isinstance(entry, dict):
                errors.append(f"{where} must be an object of settings, got {describe(entry)}")
            else:
                errors += [
                    f"{where}.{key} cannot be set per environment (allowed: {', '.join(sorted(ENVIRONMENT_KEYS))})"
                    for key in sorted(set(entry) - ENVIRONMENT_KEYS)
                ]
                plan.append((name, {k: v for k, v in entry.items() if k in ENVIRONMENT_KEYS}))

    retired = base["retired_stacks"]
    if not isinstance(retired, list) or not all(isinstance(n, str) and STACK_NAME.fullmatch(n) for n in retired):
        errors.append(
            f'{label}: context.cci.retired_stacks must be a list of stack names such as "cci-lite-staging", '
            f"got {describe(retired)}"
        )
        retired = []

    environments: list[Settings] = []
    states: list[StackState] = []
    selected = environ.get("CCI_STACK")
    for name, entry in plan:
        context = {**base, **entry}
        sources = {**base_sources, **{k: f"{label}: context.cci.environments.{name}.{k}" for k in entry}}
        # CCI_* overrides are this run's: with CCI_STACK they apply to the stack it makes, and every other stack
        # keeps its own settings (its backend too, for the shared-state check). The stack name needs no override.
        made = selected is None or selected == f"{base['name_prefix']}-{name or DEFAULT_ENVIRONMENT_KEY}"
        for variable, key in ENV_OVERRIDES.items():
            if variable in environ and made:
                context[key] = environ[variable]
                sources[key] = variable
        try:
            settings = _environment(context, sources, project_dir, name or DEFAULT_ENVIRONMENT_KEY)
            environments.append(settings)
            states.append(StackState(stack=settings.stack, backend=settings.backend, source=sources["backend"]))
        except ConfigError as error:
            errors += error.problems
    errors = list(dict.fromkeys(errors))  # a top-level mistake shows once, not once per environment
    if errors:
        raise ConfigError(errors)

    places: dict[tuple[str, str, str], list[str]] = {}
    for env in environments:
        places.setdefault((env.account_id, env.region, env.name_prefix), []).append(env.stack)
    for (account, region, _), stacks in places.items():
        if len(stacks) > 1:
            errors.append(
                f"{label}: stacks {', '.join(stacks)} would create the same buckets, key alias and table in account "
                f"{account}, region {region}; give each environment its own account or region"
            )
    errors += shared_state_problems(states, output_dir(environ), label)
    declared = {env.stack for env in environments}
    errors += [
        f"{label}: context.cci.retired_stacks names {stack}, which these settings make; remove it from retired_stacks"
        for stack in retired
        if stack in declared
    ]
    all_environments = tuple(environments)
    selected = environ.get("CCI_STACK")
    if selected is not None:
        chosen = [env for env in environments if env.stack == selected]
        if not chosen:
            names = ", ".join(env.stack for env in environments)
            errors.append(f"CCI_STACK must name a stack of this app ({names}), got {selected!r}")
        environments = chosen
    if errors:
        raise ConfigError(errors)
    return AppSettings(
        stacks=tuple(environments),
        declared=all_environments,
        states=tuple(states),
        retired_stacks=tuple(retired),
        name_prefix=all_environments[0].name_prefix,
    )


def load_settings(project_dir: Path, environ: Mapping[str, str]) -> Settings:
    """The one environment of the app (or the one ``CCI_STACK`` selects)."""
    environments = load_environments(project_dir, environ)
    if len(environments) != 1:
        stacks = ", ".join(env.stack for env in environments)
        raise ConfigError([f"cdktf.json declares several environments ({stacks}); set CCI_STACK to one of them"])
    return environments[0]


def _environment(context: dict[str, Any], sources: dict[str, str], project_dir: Path, name: str) -> Settings:
    """Validate one environment's merged settings; ``name`` is its environment key (it names the stack)."""
    errors: list[str] = []
    strings: dict[str, str] = {}
    for key in ("account_id", "region", "environment", "owner", "version", "project", "name_prefix", "tenants_file"):
        if isinstance(context[key], str) and context[key]:
            strings[key] = context[key]
        else:
            errors.append(f"{sources[key]} must be a non-empty string, got {describe(context[key])}")

    account_id = strings.get("account_id", "")
    if "account_id" in strings and not aws_rules.is_account_id(account_id):
        errors.append(
            f"{sources['account_id']} must be a 12-digit AWS account id"
            f"{aws_rules.refused_characters(account_id, aws_rules.ACCOUNT_ID_PATTERN)}, got {account_id!r}"
        )
    region = strings.get("region", "")
    if "region" in strings and region not in KNOWN_REGIONS:
        errors.append(
            f"{sources['region']} must be an AWS region such as 'eu-central-1'"
            f"{aws_rules.refused_characters(region, aws_rules.REGION_CHARACTERS)}, got {region!r}"
        )
    name_prefix = strings.get("name_prefix", "")
    if "name_prefix" in strings and not aws_rules.ecma(NAME_PREFIX_CHARACTERS)(name_prefix):
        errors.append(
            f"{sources['name_prefix']} must be lowercase letters, digits or hyphens (the characters S3 bucket "
            f"names, KMS aliases, DynamoDB tables and IAM roles all allow)"
            f"{aws_rules.refused_characters(name_prefix, NAME_PREFIX_CHARACTERS)}, got {name_prefix!r}"
        )
    for key, tag in (
        ("environment", "Environment"),
        ("owner", "Owner"),
        ("version", "Version"),
        ("project", "Project"),
    ):
        if key in strings:
            problems = aws_rules.default_tag_value_problems(strings[key])
            if problems:
                errors.append(
                    f"{sources[key]} becomes the {tag} tag of the key, the buckets and the table, and "
                    f"{' and '.join(problems)}, got {strings[key]!r}"
                )
            elif (problem := code_problem(strings[key], templates=False)) is not None:
                # The tag rule keeps out ${ %{ and cdktf's string, list and map tokens, not a number token.
                errors.append(f"{sources[key]} {problem}, got {strings[key]!r}")
    if "name_prefix" in strings and (problem := code_problem(name_prefix, templates=False)) is not None:
        errors.append(f"{sources['name_prefix']} {problem}, got {name_prefix!r}")

    partition = partition_of(region)
    admins = context["key_admin_role_arns"]
    if not isinstance(admins, list):
        errors.append(f"{sources['key_admin_role_arns']} must be a list of IAM role ARNs, got {describe(admins)}")
        admins = []
    valid_admins: list[tuple[int, str]] = []
    for i, arn in enumerate(admins):
        where = f"{sources['key_admin_role_arns']}[{i}]"
        arn_errors = _role_arn_errors(where, arn, or_null=False)
        errors += arn_errors
        if arn_errors:
            continue
        valid_admins.append((i, arn))
        if account_id and region and not _in_stack(arn, account_id, partition):
            parsed = parse_arn(arn)
            if parsed is not None and parsed.partition == partition:
                errors.append(
                    f"{where} {arn!r} is a role of account {parsed.account}, not of the stack's account "
                    f"{account_id}; key administrators must be roles of the account that owns the key (a role of "
                    "another account would administer it under that account's IAM, outside this one's control): "
                    f"name a role of account {account_id}"
                )
            else:
                errors.append(
                    f"{where} {arn!r} is not a role of account {account_id} in partition {partition!r}; "
                    "KMS refuses a principal from another partition: name a role of the stack's own account"
                )
    errors += _same_role_problems(sources["key_admin_role_arns"], valid_admins)

    lambda_role_arn = context["lambda_role_arn"]
    if lambda_role_arn is None:
        lambda_role_arn = f"arn:{partition}:iam::{account_id}:role/{name_prefix}-lambda-role"
        lambda_where = f"{sources['lambda_role_arn']} (null: the default {lambda_role_arn!r})"
        lambda_valid = True
    else:
        lambda_errors = _role_arn_errors(sources["lambda_role_arn"], lambda_role_arn, or_null=True)
        errors += lambda_errors
        lambda_where = f"{sources['lambda_role_arn']} {lambda_role_arn!r}"
        lambda_valid = not lambda_errors
    if lambda_valid and account_id and region and not _in_stack(lambda_role_arn, account_id, partition):
        # The key policy always names it (the tenant Denies exempt the pipeline role), guarded tenants or not.
        errors.append(
            f"{lambda_where} is not a role of account {account_id} in partition {partition!r}: the key policy "
            "exempts the pipeline role from its tenant Denies and lets it alone use a guarded tenant's context, "
            f"so it must be the pipeline's role in the stack's own account: name a role of account {account_id}"
        )
    if lambda_valid:
        pipeline = aws_rules.iam_role_identity(lambda_role_arn)
        admins_name = sources["key_admin_role_arns"].split(": ", 1)[-1]
        errors += [
            f"{lambda_where} names the same role as {admins_name}[{i}] {arn!r}: the pipeline "
            "role uses the key and a key administrator manages it without using it (and is not exempt from the "
            "per-tenant guard), so one role cannot be both; name a separate administrator role"
            for i, arn in valid_admins
            if pipeline is not None and aws_rules.iam_role_identity(arn) == pipeline
        ]

    raw_backend = context["backend"]
    if isinstance(raw_backend, str) and sources["backend"] == "CCI_BACKEND":
        raw_backend, override_errors = parse_backend_override(raw_backend, "CCI_BACKEND")
        errors += override_errors
    backend, backend_errors = (
        (None, []) if errors and raw_backend is None else parse_backend(raw_backend, sources["backend"], KNOWN_REGIONS)
    )
    errors += backend_errors

    adopt_file = context["adopt_file"]
    if adopt_file is not None and (not isinstance(adopt_file, str) or not adopt_file):
        errors.append(
            f"{sources['adopt_file']} must be the path of a discovery file (pipenv run adopt --out FILE) or null, "
            f"got {describe(adopt_file)}"
        )

    noncurrent = context["noncurrent_version_expiration_days"]
    if isinstance(noncurrent, bool) or not isinstance(noncurrent, int) or not 1 <= noncurrent <= 3650:
        errors.append(
            f"{sources['noncurrent_version_expiration_days']} must be a whole number of days "
            f"from 1 to 3650, got {describe(noncurrent)}"
        )
    if errors:
        raise ConfigError(errors)

    tenants_file = _setting_path(strings["tenants_file"], sources["tenants_file"], project_dir)

    settings = Settings(
        account_id=account_id,
        region=region,
        environment=strings["environment"],
        owner=strings["owner"],
        version=strings["version"],
        project=strings["project"],
        name_prefix=name_prefix,
        tenants_file=tenants_file,
        key_admin_role_arns=tuple(admins),
        lambda_role_arn=lambda_role_arn,
        noncurrent_version_expiration_days=noncurrent,
        stack=f"{name_prefix}-{name}",
        backend=backend or LocalBackendSettings(),
        adopt_file=None if adopt_file is None else _setting_path(adopt_file, sources["adopt_file"], project_dir),
    )
    errors = _derived_name_problems(settings, sources["name_prefix"], default_role=context["lambda_role_arn"] is None)
    if errors:
        raise ConfigError(errors)
    return settings


_ROLE_ARN_FORM = "(arn:<partition>:iam::<account>:role/<path><name>)"


def _role_arn_errors(where: str, arn: Any, *, or_null: bool) -> list[str]:
    """The problem, in one line, of a role ARN that a setting puts in the key policy; [] when it names one role.

    Refused: what is not an IAM role ARN (aws_rules.iam_role_arn_problems), what AWS would
    read in a policy as a wildcard or a policy variable (aws_rules.policy_arn_problems:
    ``*``, ``?``, ``$``, which a role path may hold), and cdktf tokens.
    """
    form = f"{_ROLE_ARN_FORM}{' or null' if or_null else ''}"
    if not isinstance(arn, str):
        return [f"{where} must be an IAM role ARN {form}, got {describe(arn)}"]
    special = aws_rules.policy_arn_problems(arn)
    if special:
        # The rest of the role rule, judged with each of those characters read as a plain one.
        plain = "".join("x" if char in aws_rules.POLICY_ARN_SPECIAL else char for char in arn)
        rest = aws_rules.iam_role_arn_problems(plain)
        return [
            f"{where} has {'; and '.join(special)}; the key policy names this role (Principal, aws:PrincipalArn), "
            "where it would match other roles, or none: name exactly one role, without * ? or $"
            f"{'; besides, ' + '; '.join(rest) if rest else ''}, got {arn!r}"
        ]
    arn_problems = aws_rules.iam_role_arn_problems(arn)
    if arn_problems:
        return [f"{where} must be an IAM role ARN {form}{_because(arn_problems)}, got {arn!r}"]
    problem = code_problem(arn, templates=False)
    return [f"{where} {problem}, got {arn!r}"] if problem is not None else []


def _same_role_problems(source: str, arns: Sequence[tuple[int, str]]) -> list[str]:
    """Entries (index, ARN) of one list that name the same IAM role: same account and name, whatever
    the letter case and path ("Names are not distinguished by case", aws_rules.IAM_NAME_UNIQUENESS_DOC)."""
    groups: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    for index, arn in arns:
        identity = aws_rules.iam_role_identity(arn)
        if identity is not None:
            groups.setdefault(identity, []).append((index, arn))
    return [
        f"{source} lists one role {len(group)} times ({', '.join(f'[{i}] {arn!r}' for i, arn in group)}): IAM role "
        "names are unique in an account whatever their letter case and path; list each role once"
        for group in groups.values()
        if len(group) > 1
    ]


def _setting_path(value: str, source: str, project_dir: Path) -> Path:
    """A file named by a setting: an override (``CCI_*``) is relative to where the user runs the
    command, a ``cdktf.json`` value to ``cdktf.json``, like the app command itself."""
    path = Path(value)
    if path.is_absolute():
        return path
    return (Path.cwd() if source.startswith("CCI_") else project_dir) / path


def _because(problems: Sequence[str]) -> str:
    return f": {'; '.join(problems)}" if problems else ""


def _in_stack(arn: str, account_id: str, partition: str) -> bool:
    """Is ``arn`` (a valid ARN) a resource of ``account_id`` in ``partition``."""
    parsed = parse_arn(arn)
    return parsed is not None and (parsed.partition, parsed.account) == (partition, account_id)


def _derived_name_problems(settings: Settings, source: str, *, default_role: bool) -> list[str]:
    """name_prefix makes every physical name (naming.Names); each must pass AWS's own rule."""
    from constructs_lib.naming import BUCKET_ROLES, Names  # naming imports this module: import here

    names = Names(settings=settings)
    prefix = repr(settings.name_prefix)
    found: dict[str, str] = {}  # problem -> the first name that has it
    for role in BUCKET_ROLES:
        for problem in aws_rules.bucket_name_problems(names.bucket(role)):
            found.setdefault(f"S3 refuses it: {problem}", names.bucket(role))
    for problem in aws_rules.kms_alias_name_problems(names.key_alias, creating=True):
        found.setdefault(f"KMS refuses it: {problem}", names.key_alias)
    for problem in aws_rules.dynamodb_table_name_problems(names.config_table):
        found.setdefault(f"DynamoDB refuses it: {problem}", names.config_table)
    if default_role:
        role_name = settings.lambda_role_arn.rsplit("/", 1)[-1]
        for problem in aws_rules.iam_role_name_problems(role_name):
            found.setdefault(f"IAM refuses it: {problem}", role_name)
    return [
        f"{source} {prefix} makes the name {name!r} (account {settings.account_id}, region {settings.region}), "
        f"and {problem}; choose a shorter or different name_prefix"
        for problem, name in found.items()
    ]


def display_path(path: Path) -> str:
    """The path as the user would write it: relative below the current directory, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse_tenants(document: Any, source: str) -> tuple[Tenant, ...]:
    """Validate a parsed tenants document and return tenants sorted by id.

    The rules are those of ``tenants.schema.json``, plus what a schema cannot say:
    tenant ids are unique. Sorting makes the output independent of the order the
    file lists tenants in. Raises ConfigError listing every problem found.
    """
    errors = schema_problems(document, source)
    raw_tenants = document.get("tenants") if isinstance(document, dict) else None
    raw_tenants = raw_tenants if isinstance(raw_tenants, list) else []
    ids = [raw.get("tenant_id") if isinstance(raw, dict) else None for raw in raw_tenants]
    ids = [tenant_id if isinstance(tenant_id, str) else None for tenant_id in ids]
    if len(set(ids)) != len(ids):
        seen: dict[str, list[int]] = {}
        for index, tenant_id in enumerate(ids):
            if isinstance(tenant_id, str):
                seen.setdefault(tenant_id, []).append(index)
        for tenant_id, indexes in seen.items():
            if len(indexes) > 1:
                places = ", ".join(f"tenants[{i}]" for i in indexes)
                errors.append(
                    f"{source}: tenant_id {tenant_id!r} appears {len(indexes)} times ({places}); ids must be unique"
                )
    errors += _case_duplicate_tag_problems(raw_tenants, source)
    if errors:
        raise ConfigError(errors)
    tenants = [
        Tenant(
            tenant_id=raw["tenant_id"],
            display_name=raw.get("display_name", raw["tenant_id"]),
            kms_guard=raw.get("kms_guard", False),
            tags=raw.get("tags", {}),
        )
        for raw in raw_tenants
    ]
    tenants.sort(key=attrgetter("tenant_id"))
    return tuple(tenants)


def _case_duplicate_tag_problems(raw_tenants: list[Any], source: str) -> list[str]:
    """Tag keys of one tenant that differ only by letter case: IAM reads them as one key.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html (a schema cannot say this).
    """
    problems = []
    for index, raw in enumerate(raw_tenants):
        tags = raw.get("tags") if isinstance(raw, dict) else None
        if not isinstance(tags, dict) or len(tags) < 2 or len({key.casefold() for key in tags}) == len(tags):
            continue
        groups: dict[str, list[str]] = {}
        for key in tags:
            groups.setdefault(key.casefold(), []).append(key)
        tenant_id = raw.get("tenant_id")
        name = f" ({tenant_id!r})" if isinstance(tenant_id, str) else ""
        problems += [
            f"{source}: tenants[{index}]{name}: tag keys {', '.join(repr(k) for k in keys)} differ only by letter "
            "case; AWS (IAM) compares tag keys case-insensitively, so keep one of them"
            for keys in groups.values()
            if len(keys) > 1
        ]
    return problems


def load_tenants(path: Path) -> tuple[Tenant, ...]:
    """Read and validate the tenants file. Raises ConfigError with every problem."""
    source = display_path(path)
    return parse_tenants(load_json(path, source), source)


def check_guards(settings: Settings, tenants: Sequence[Tenant], source: str) -> None:
    """Refuse guards that cannot be honoured, before anything is built.

    A guarded id must reach the key policy as written (no cdktf number token), and every
    guarded tenant adds to a key policy that KMS caps at 32 KB. (That the pipeline's role
    is the stack account's own is checked with the settings: the key policy always names it.)
    """
    guarded = [t.tenant_id for t in tenants if t.kms_guard]
    if not guarded:
        return
    # A guarded id enters the key policy, which crosses into cdktf: digits with an
    # exponent can spell one of its number tokens (tenant_id allows digits, '-' and 'e').
    tokens = [(tenant_id, token) for tenant_id in guarded if (token := cdktf_token(tenant_id)) is not None]
    if tokens:
        raise ConfigError(
            [
                f"{source}: kms_guard on {tenant_id!r} cannot be honoured: the id contains {token!r}, which cdktf "
                "reads as one of its number tokens in the key policy; drop the guard or choose another tenant_id"
                for tenant_id, token in tokens
            ]
        )
    from constructs_lib.policies import key_policy  # policies imports this module: import here

    try:
        key_policy(settings, tenants)
    except ConfigError as error:
        raise ConfigError([f"{source}: {problem}" for problem in error.problems]) from None
