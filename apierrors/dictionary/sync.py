"""Write the entries declared in code into the database, never touching an admin's edit."""

import logging

from django.db import DEFAULT_DB_ALIAS, transaction

from .declared import DECLARED

logger = logging.getLogger("apierrors")


def sync_declared_codes(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the declared entries whose key the database lacks; return the keys created.

    An existing key is left exactly as it is. A missing key whose ``error_code`` is already
    used by another row is skipped with a warning, since two entries must not share a code.
    """
    from ..models import ErrorCode

    with transaction.atomic(using=using):
        rows = ErrorCode.objects.using(using).values_list("key", "error_code")
        existing_keys = {key for key, _code in rows}
        used_codes = {code for _key, code in rows}
        created = []
        for declared in DECLARED.values():
            if declared.key in existing_keys:
                continue
            if declared.error_code in used_codes:
                logger.warning(
                    "Not adding error %r: error_code %d is used by another entry.",
                    declared.key,
                    declared.error_code,
                )
                continue
            ErrorCode.objects.using(using).create(**declared.values())
            used_codes.add(declared.error_code)
            created.append(declared.key)
    return created
