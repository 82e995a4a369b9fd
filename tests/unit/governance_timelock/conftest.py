"""A contract the `timelock` fixture administers: an IdentityRegistry whose DEFAULT_ADMIN_ROLE
admin handed to the timelock (granted, then renounced), as the deploy script does for every
contract of the suite."""

import pytest

from tests.utils.governance import DEFAULT_ADMIN_ROLE


def handed_over(contract, admin, timelock):
    """`contract` (deployed by admin) administered by `timelock` alone."""
    contract.grantRole(DEFAULT_ADMIN_ROLE, timelock, sender=admin)
    contract.renounceRole(DEFAULT_ADMIN_ROLE, admin, sender=admin)
    return contract


@pytest.fixture(scope="session")
def governed(project, admin, timelock):
    """An IdentityRegistry administered by `timelock` alone."""
    return handed_over(project.IdentityRegistry.deploy(sender=admin), admin, timelock)


@pytest.fixture(scope="session")
def governed_too(project, admin, timelock):
    """A second one: a handover moves several contracts at once."""
    return handed_over(project.IdentityRegistry.deploy(sender=admin), admin, timelock)
