"""The public API for version authors is exactly what ``gateway.__all__`` names, and the test
helpers exactly what ``gateway.testing.__all__`` names."""

import gateway
import gateway.testing


def test_all_exports_exist_and_are_public() -> None:
    for name in gateway.__all__:
        assert hasattr(gateway, name), name
    assert sorted(gateway.__all__) == sorted(
        name
        for name, value in vars(gateway).items()
        if (not name.startswith("_") and getattr(value, "__module__", "").startswith("gateway."))
        or name in {"CurrentPrincipal", "DbSession", "VersionDep"}
    )


def test_testing_exports_exist_and_are_public() -> None:
    for name in gateway.testing.__all__:
        assert hasattr(gateway.testing, name), name
    assert sorted(gateway.testing.__all__) == sorted(
        name
        for name, value in vars(gateway.testing).items()
        if not name.startswith("_") and getattr(value, "__module__", "") == "gateway.testing"
    )
