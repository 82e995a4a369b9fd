"""Fixtures of the IdentityRegistry's tests."""

import pytest

from tests.utils.vault import COMPLIANCE_ROLE


@pytest.fixture(scope="session")
def identity_registry(project, admin, compliance):
    """A registry of its own in which nobody is verified yet; compliance holds COMPLIANCE_ROLE."""
    contract = project.IdentityRegistry.deploy(sender=admin)
    contract.grantRole(COMPLIANCE_ROLE, compliance, sender=admin)
    return contract
