"""The bench API built with Cadwyn, as its docs build path versions ("Version with paths and
numbers instead of headers and dates"): one versioned router whose paths start with
``/{api_version}``, two versions named ``apiv1`` and ``apiv2`` in a ``VersionBundle``, and
``Cadwyn(api_version_location="path", api_version_format="string")``.
"""

from __future__ import annotations

from cadwyn import Cadwyn, Version, VersionBundle, VersionedAPIRouter
from fastapi import Request

from bench.apps.accounts import Claims, PasswordForm, Session, UserOut, login, me

version_bundle = VersionBundle(Version("apiv2"), Version("apiv1"))
router = VersionedAPIRouter()


@router.post("/{api_version}/token")
async def token(request: Request, form: PasswordForm, session: Session) -> dict[str, str]:
    return await login(request, form, session)


@router.get("/{api_version}/users/me", response_model=UserOut)
async def read_me(claims: Claims, session: Session) -> UserOut:
    return await me(claims, session)


app = Cadwyn(
    versions=version_bundle,
    api_version_parameter_name="api_version",
    api_version_format="string",
    api_version_location="path",
)
app.generate_and_include_versioned_routers(router)
