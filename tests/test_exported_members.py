"""The public API for version authors is exactly what ``gateway.__all__`` names."""

import gateway


def test_all_exports_exist_and_are_public() -> None:
    for name in gateway.__all__:
        assert hasattr(gateway, name), name
    assert sorted(gateway.__all__) == sorted(
        name
        for name, value in vars(gateway).items()
        if (not name.startswith("_") and getattr(value, "__module__", "").startswith("gateway."))
        or name in {"CurrentPrincipal", "DbSession", "VersionDep"}
    )
