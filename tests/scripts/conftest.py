import pytest


@pytest.fixture
def manifest_file(tmp_path):
    """Each script test writes its own manifest, never deployments/ of the checkout."""
    return tmp_path / "deployments" / "local.json"
